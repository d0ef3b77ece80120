#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Telemetry under load: a syscall-heavy function whose every call is a
# denial floods a ring buffer of one page (--events-kb 4, room for about 18
# denial records). The kernel's own counter counts every denial; each one is
# either a record the collector received (the first four described, the rest
# "DENIED N more") or a lost event ("LOST N ..."), so received + lost equals
# the count: nothing is dropped silently.

load helpers

setup_file()
{
	husk_setup_file telemetry --events-kb 4
	husk_create_ok flood probe '{"Timeout": 60, "Policy": {"Syscalls": {"Names": ["getpriority"]}}}'
}

teardown_file()
{
	husk_teardown_file
}

teardown()
{
	husk_teardown_test
}

report_field()
{
	husk_report | tr '\t' '\n' | sed -n "s/^$1: //p"
}

@test "a flood of denials is counted in full; what the ring buffer dropped is reported as lost" {
	local n=200000 denials lost shown more log
	husk_invoke flood "$(jq -nc --arg c "LC_ALL=C perl -e 'syscall(140, 0, 0) for 1..$n; print qq(done\n)'" \
		'{cmd: $c}')" -H 'X-Amz-Log-Type: Tail'
	[ "$HTTP_STATUS" = 200 ]
	[ "$(jq -r .out <<<"$HTTP_BODY")" = done ]
	husk_report
	denials=$(report_field Denials)
	lost=$(report_field 'Lost Events')
	log=$(husk_header X-Amz-Log-Result | base64 -d)
	echo "$log"
	[ "$denials" -ge "$n" ]
	shown=$(grep -c '^DENIED syscall getpriority denied by the seccomp profile$' <<<"$log")
	more=$(sed -n 's/^DENIED \([0-9]*\) more$/\1/p' <<<"$log")
	[ "$shown" = 4 ]
	[ $((shown + ${more:-0} + lost)) = "$denials" ]
	# A one-page ring cannot hold a burst like this one.
	[ "$lost" -gt 0 ]
	grep -qx "LOST $lost telemetry events (ring buffer full)" <<<"$log"
	grep -q "$lost telemetry events lost (ring buffer full)" "$HUSK_LOG"
}

@test "huskd goes on answering after the flood, and counts start afresh" {
	husk_invoke flood '{"cmd": "true"}'
	[ "$HTTP_STATUS" = 200 ]
	[ "$(report_field Denials)" -lt 100 ]
	[ "$(report_field 'Lost Events')" = 0 ]
}
