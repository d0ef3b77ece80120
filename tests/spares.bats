#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Spare environments: made ahead of demand, given to exactly one function
# version on a cold start, replaced in the background; and cold starts
# without spares (--spares 0).

load helpers

setup_file()
{
	husk_setup_file spares --spares 1
}

teardown_file()
{
	husk_teardown_file
}

teardown()
{
	husk_teardown_test
}

# The environment that served the last invocation, from huskd's log.
served_by()
{
	grep -o "env-[0-9]*: serves $1\$" "$HUSK_LOG" | tail -n 1 | cut -d: -f1
}

@test "a spare environment is ready before any function exists" {
	husk_wait_for 10 eval '[ -n "$(husk_envs)" ]'
	spare=$(husk_envs)
	echo "spare: $spare"
	[ "$(wc -l <<<"$spare")" = 1 ]
	# It runs husk-init and nothing else: no runtime before SPAWN.
	procs=$(cat "$(husk_env_ctrl_dir "$spare" pids)/cgroup.procs")
	[ "$(wc -l <<<"$procs")" = 1 ]
	[ "$(cat "/proc/$procs/comm")" = husk-init ]
}

@test "a cold start takes the spare, and a new spare replaces it" {
	husk_wait_for 10 eval '[ -n "$(husk_envs)" ]'
	spare=$(husk_envs)
	husk_create_ok spare-a probe
	probe 'echo $AWS_LAMBDA_FUNCTION_NAME; ls /var/task; df -m /tmp | tail -n 1' spare-a
	husk_report_is_cold
	[ "$(served_by spare-a)" = "$spare" ]
	grep -q '^spare-a$' <<<"$PROBE_OUT"
	grep -q '^bootstrap$' <<<"$PROBE_OUT"
	grep -q ' 512 ' <<<"$PROBE_OUT"
	# The pool makes the next spare by itself.
	husk_wait_for 10 eval '[ "$(husk_envs | wc -l)" = 2 ]'
}

@test "a spare given to one function never serves another" {
	husk_create_ok spare-b probe
	husk_create_ok spare-c probe '{"MemorySize": 256}'
	probe 'echo b >/tmp/owner' spare-b
	b=$(served_by spare-b)
	husk_wait_for 10 eval '[ "$(husk_envs | wc -l)" -ge 2 ]'
	probe 'cat /tmp/owner 2>&1; echo $AWS_LAMBDA_FUNCTION_MEMORY_SIZE' spare-c
	c=$(served_by spare-c)
	echo "spare-b: $b, spare-c: $c"
	[ -n "$b" ]
	[ -n "$c" ]
	[ "$b" != "$c" ]
	grep -q 'No such file' <<<"$PROBE_OUT"
	grep -q '^256$' <<<"$PROBE_OUT"
	# Its limits are the function's, not the spare's.
	mem=$(husk_env_ctrl_dir "$c" memory)
	[ "$(cat "$mem/memory.limit_in_bytes")" = $((256 << 20)) ]
	# And spare-b's environment is still spare-b's.
	probe 'cat /tmp/owner' spare-b
	[ "$PROBE_OUT" = b ]
	[ "$(served_by spare-b)" = "$b" ]
}

@test "the code is read-only at /var/task in an environment made ahead" {
	husk_create_ok spare-ro probe
	probe 'touch /var/task/x 2>&1; grep " /var/task " /proc/self/mountinfo' spare-ro
	grep -q 'Read-only file system' <<<"$PROBE_OUT"
	grep -q ' ro,nosuid,nodev' <<<"$PROBE_OUT"
}

@test "without spares a cold start makes its environment on demand" {
	husk_daemon_stop TERM
	husk_check_leftovers
	husk_daemon_start --spares 0
	[ -z "$(husk_envs)" ]
	husk_create_ok spare-none probe
	probe 'echo on demand' spare-none
	husk_report_is_cold
	[ "$PROBE_OUT" = "on demand" ]
	[ "$(husk_envs | wc -l)" = 1 ]
}
