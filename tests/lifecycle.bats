#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# huskd's own life: a clean shutdown on SIGTERM with an invocation in flight
# and idle environments leaves nothing behind, and a restart after huskd was
# killed (a crash) removes what the dead one left.

load helpers

setup_file()
{
	# Every test runs its own huskd; the zips are shared.
	husk_instance lifecycle-zips
	husk_zip_all
	export ZIPS_TMP=$HUSK_TMP
}

teardown_file()
{
	HUSK_TMP=$ZIPS_TMP
	husk_remove_tmp
}

setup()
{
	husk_instance "lifecycle-$BATS_TEST_NUMBER"
	cp "$ZIPS_TMP"/zips/*.zip "$HUSK_TMP/zips/"
}

teardown()
{
	husk_teardown_test
	husk_daemon_stop TERM
	husk_check_leftovers
	husk_remove_tmp
}

# Start an invocation of the sleeper that takes 60 s, in the background, and
# wait until it runs inside its environment. Sets SLEEP_CURL (curl's pid).
start_long_invocation()
{
	curl -sS --max-time 90 --unix-socket "$HUSK_SOCK" -o "$BATS_TEST_TMPDIR/long.body" \
		-w '%{http_code}' --data-binary '{"sleep": 60}' \
		"http://localhost$HUSK_API/sleeper/invocations" >"$BATS_TEST_TMPDIR/long.status" \
		2>"$BATS_TEST_TMPDIR/long.err" &
	SLEEP_CURL=$!
	husk_wait_for 15 husk_env_of_cmd "sleep 60"
}

@test "SIGTERM with an invocation in flight and idle environments: exit 0, nothing left" {
	husk_daemon_start
	husk_create_ok marker marker
	husk_create_ok sleeper sleeper '{"Timeout": 120}'
	husk_create_ok probe probe
	husk_invoke marker '{}'
	[ "$HTTP_STATUS" = 200 ]
	probe 'echo idle and running' probe
	start_long_invocation
	procs=$(husk_procs_in_parent)
	echo "$procs"
	# Three runtimes (marker, probe, sleeper) at least, besides any spares.
	[ "$(grep -cw bootstrap <<<"$procs")" -ge 3 ]

	start=$(date +%s)
	husk_daemon_stop TERM
	echo "huskd exited with $HUSKD_STATUS after $(($(date +%s) - start)) s"
	[ "$HUSKD_STATUS" = 0 ]
	# The caller in flight got its answer (an error) instead of hanging.
	wait "$SLEEP_CURL" || true
	echo "in-flight invocation: HTTP $(cat "$BATS_TEST_TMPDIR/long.status")" \
		"$(cat "$BATS_TEST_TMPDIR/long.body" "$BATS_TEST_TMPDIR/long.err")"
	[ "$(($(date +%s) - start))" -lt 30 ]
	grep -q 'shutting down' "$HUSK_LOG"
	husk_check_leftovers
	# No mount of the jails anywhere: they lived in the environments' namespaces.
	refute grep -qF "$HUSK_RUN" /proc/self/mountinfo
	# Nothing of the environments' roots or sockets is left in the run directory.
	[ -z "$(find "$HUSK_RUN/root" -mindepth 1 2>/dev/null)" ]
}

@test "SIGTERM with nothing running: exit 0" {
	husk_daemon_start
	husk_daemon_stop TERM
	[ "$HUSKD_STATUS" = 0 ]
	husk_check_leftovers
}

@test "after huskd is killed, its busy environments end by themselves and a restart cleans up" {
	husk_daemon_start
	husk_create_ok marker marker
	husk_create_ok sleeper sleeper '{"Timeout": 120}'
	husk_invoke marker '{}'
	[ "$(jq -r .count <<<"$HTTP_BODY")" = 1 ]
	start_long_invocation
	envs=$(husk_envs)
	echo "environments: $envs"
	old_dirs=$(husk_env_inodes $envs)
	old_procs=$(husk_procs_in_parent)
	echo "processes: $old_procs"
	busy=$(grep -w sleep <<<"$old_procs" | awk '{ print $3 }' | grep -o 'env-[0-9]*' | head -n 1)
	busy_pids=$(grep -E "/$busy\$" <<<"$old_procs" | awk '{ print $1 }')
	echo "busy environment $busy: $busy_pids"
	[ -n "$busy_pids" ]

	husk_daemon_stop KILL
	wait "$SLEEP_CURL" || true
	# husk-init of the busy environment sees its channel close and exits, and
	# with it every process of its pid namespace.
	husk_wait_for 10 eval '! husk_procs_in_parent | grep -qE "/$busy\$"'
	for p in $busy_pids; do
		refute husk_alive "$p"
	done

	# The new huskd removes what is left (the frozen idle one, the spares)
	# before it serves; it may make new spares, under the same names.
	husk_daemon_start
	echo "after restart: processes $(husk_procs_in_parent), groups $(husk_envs)"
	for p in $(awk '{ print $1 }' <<<"$old_procs"); do
		refute husk_alive "$p"
	done
	still=$(comm -12 <(sort <<<"$old_dirs") <(husk_env_inodes $(husk_envs) | sort))
	echo "groups of the old huskd still there: '$still'"
	[ -z "$still" ]
	# And serves the same functions from fresh environments.
	husk_invoke marker '{}'
	[ "$(jq -r .count <<<"$HTTP_BODY")" = 1 ]
	husk_report_is_cold
	husk_daemon_stop TERM
	[ "$HUSKD_STATUS" = 0 ] || [ -z "$HUSKD_STATUS" ]
	husk_check_leftovers
}

@test "a restart after SIGKILL with idle environments only cleans up too" {
	husk_daemon_start --no-freeze
	husk_create_ok probe probe
	probe 'setsid sleep 600 </dev/null >/dev/null 2>&1 & echo started'
	probe 'echo again'
	[ -n "$(husk_procs_in_parent)" ]
	old_dirs=$(husk_env_inodes $(husk_envs))
	husk_daemon_stop KILL
	# Unfrozen, husk-init notices the closed channel and everything exits.
	husk_wait_for 10 eval '[ -z "$(husk_procs_in_parent)" ]'
	husk_daemon_start
	still=$(comm -12 <(sort <<<"$old_dirs") <(husk_env_inodes $(husk_envs) | sort))
	echo "groups of the old huskd still there: '$still'"
	[ -z "$still" ]
	probe 'echo served'
	[ "$PROBE_OUT" = served ]
}

# Program ids behind huskd's pinned links.
pinned_prog_ids()
{
	local l
	for l in "$HUSK_BPFDIR"/links/*; do
		bpftool -j link show pinned "$l" | jq -r .prog_id
	done | sort -n
}

@test "after SIGKILL the pinned programs keep confining; a restart replaces them, SIGTERM removes them" {
	husk_daemon_start
	husk_create_ok probe probe
	probe 'true'
	old=$(pinned_prog_ids)
	[ -n "$old" ]
	husk_daemon_stop KILL
	# The pins (and with them the links) outlive a crashed huskd.
	[ "$(pinned_prog_ids)" = "$old" ]
	husk_daemon_start
	grep -q "removing the pins of an earlier run in $HUSK_BPFDIR" "$HUSK_LOG"
	new=$(pinned_prog_ids)
	[ -n "$new" ]
	[ -z "$(comm -12 <(echo "$old") <(echo "$new"))" ]
	# None of the old programs is loaded any more.
	for id in $old; do
		husk_wait_for 10 eval '! bpftool prog show id '"$id"' >/dev/null 2>&1'
	done
	probe 'echo served'
	[ "$PROBE_OUT" = served ]
	husk_daemon_stop
	[ ! -e "$HUSK_BPFDIR" ]
	for id in $new; do
		husk_wait_for 10 eval '! bpftool prog show id '"$id"' >/dev/null 2>&1'
	done
}

@test "huskd refuses bad options with a one-line reason" {
	for opt in "--cgroup-parent a/b" "--pids-max 1" "--listen 127.0.0.1:99999" \
		"--idle-timeout -1" "--no-such-option"; do
		# shellcheck disable=SC2086
		run "$HUSK_BUILD/huskd" $opt
		echo "huskd $opt: $status: $output"
		[ "$status" = 2 ]
		[ "$(wc -l <<<"$output")" -le 2 ]
		[[ "$output" == *huskd* ]]
		[[ "$output" == *"${opt%% *}"* ]]
	done
	run "$HUSK_BUILD/huskd" --help
	[ "$status" = 0 ]
	[[ "$output" == *--cgroup-parent* ]]
}

@test "a second huskd on the same state directory does not take over the running one" {
	husk_daemon_start
	husk_create_ok probe probe
	probe 'echo first'
	envs=$(husk_env_inodes $(husk_envs))
	[ -n "$envs" ]
	first_pid=$HUSKD_PID
	# Same state, run directory and cgroup parent; its own socket and port.
	run timeout 20 "$HUSK_BUILD/huskd" --state-dir "$HUSK_STATE" --run-dir "$HUSK_RUN" \
		--socket "$HUSK_TMP/second.sock" --listen "127.0.0.1:$(husk_free_port)" \
		--cgroup-parent "$HUSK_CGPARENT" </dev/null 3>&-
	echo "second huskd: $status: $output"
	[ "$status" != 0 ]
	[ "$status" != 124 ]
	# The first one and its environment are untouched.
	husk_alive "$first_pid"
	# Every group of the first one is still there (spares may have been added).
	[ -z "$(comm -23 <(sort <<<"$envs") <(husk_env_inodes $(husk_envs) | sort))" ]
	probe 'echo still first'
	[ "$PROBE_OUT" = "still first" ]
	refute husk_report_is_cold
}
