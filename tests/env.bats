#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Execution environments: warm reuse, one environment per function version
# and per concurrent invocation, retirement on update and delete, the idle
# timeout, and what the runtime finds in its environment (variables, /tmp,
# the Runtime API's headers).

load helpers

setup_file()
{
	husk_setup_file env --region eu-west-3 --account-id 123456789012
}

teardown_file()
{
	husk_teardown_file
}

teardown()
{
	if [ -n "${IDLE_HUSKD:-}" ]; then
		husk_daemon_stop TERM
		husk_check_leftovers
		husk_remove_tmp
	fi
	husk_teardown_test
}

@test "a warm environment is reused: /tmp persists, Init Duration only on the first" {
	husk_create_ok env-warm marker
	husk_invoke env-warm '{}'
	echo "1: $HTTP_BODY $(husk_report)"
	[ "$(jq -r .count <<<"$HTTP_BODY")" = 1 ]
	husk_report_is_cold
	env1=$(jq -r .env <<<"$HTTP_BODY")
	husk_invoke env-warm '{}'
	echo "2: $HTTP_BODY $(husk_report)"
	[ "$(jq -r .count <<<"$HTTP_BODY")" = 2 ]
	[ "$(jq -r .env <<<"$HTTP_BODY")" = "$env1" ]
	refute husk_report_is_cold
	husk_invoke env-warm '{}'
	[ "$(jq -r .count <<<"$HTTP_BODY")" = 3 ]
}

@test "two functions get separate environments: no shared /tmp, processes or namespaces" {
	husk_create_ok env-a probe
	husk_create_ok env-b probe
	probe 'echo secret-a >/tmp/marker-a; setsid sleep 300 </dev/null >/dev/null 2>&1 &
		readlink /proc/self/ns/pid /proc/self/ns/mnt /proc/self/ns/net' env-a
	ns_a=$PROBE_OUT
	probe 'ps -eo args' env-a
	[[ "$PROBE_OUT" == *"sleep 300"* ]]

	probe 'cat /tmp/marker-a' env-b
	[ "$PROBE_RC" != 0 ]
	[[ "$PROBE_OUT" == *"No such file"* ]]
	probe 'ls -A /tmp; ps -eo args' env-b
	[[ "$PROBE_OUT" != *marker-a* ]]
	[[ "$PROBE_OUT" != *"sleep 300"* ]]
	probe 'readlink /proc/self/ns/pid /proc/self/ns/mnt /proc/self/ns/net' env-b
	ns_b=$PROBE_OUT
	# Every one of the three namespaces differs.
	[ -z "$(comm -12 <(sort <<<"$ns_a") <(sort <<<"$ns_b"))" ]
}

@test "two concurrent invocations of one function run in two environments" {
	husk_create_ok env-conc probe '{"Timeout": 20}'
	body='{"cmd": "sleep 2; readlink /proc/self/ns/pid"}'
	for i in 1 2; do
		curl -sS --max-time 60 --unix-socket "$HUSK_SOCK" -D "$BATS_TEST_TMPDIR/h$i" \
			-o "$BATS_TEST_TMPDIR/b$i" --data-binary "$body" \
			"http://localhost$HUSK_API/env-conc/invocations" &
		pids+=($!)
	done
	wait "${pids[0]}"
	wait "${pids[1]}"
	cat "$BATS_TEST_TMPDIR"/b1 "$BATS_TEST_TMPDIR"/b2
	ns1=$(jq -r .out "$BATS_TEST_TMPDIR/b1")
	ns2=$(jq -r .out "$BATS_TEST_TMPDIR/b2")
	[[ "$ns1" == pid:* ]]
	[[ "$ns2" == pid:* ]]
	[ "$ns1" != "$ns2" ]
	grep -q 'Init Duration' "$BATS_TEST_TMPDIR/h1"
	grep -q 'Init Duration' "$BATS_TEST_TMPDIR/h2"
	# Both stay warm: the next two invocations, one after the other, are warm.
	probe 'readlink /proc/self/ns/pid' env-conc
	refute husk_report_is_cold
	[ "$PROBE_OUT" = "$ns1" ] || [ "$PROBE_OUT" = "$ns2" ]
}

@test "concurrent invocations of two functions each get their own function's answer" {
	husk_create_ok env-many-a probe '{"Timeout": 30}'
	husk_create_ok env-many-b probe '{"Timeout": 30}'
	body='{"cmd": "sleep 1; echo $AWS_LAMBDA_FUNCTION_NAME $(readlink /proc/self/ns/pid)"}'
	pids=()
	for i in 1 2 3 4 5 6; do
		fn=env-many-$([ $((i % 2)) = 0 ] && echo a || echo b)
		curl -sS --max-time 60 --unix-socket "$HUSK_SOCK" -o "$BATS_TEST_TMPDIR/b$i" \
			--data-binary "$body" "http://localhost$HUSK_API/$fn/invocations" &
		pids+=($!)
		echo "$fn" >"$BATS_TEST_TMPDIR/fn$i"
	done
	for p in "${pids[@]}"; do
		wait "$p"
	done
	for i in 1 2 3 4 5 6; do
		cat "$BATS_TEST_TMPDIR/b$i"
		echo
		out=$(jq -r .out "$BATS_TEST_TMPDIR/b$i")
		[ "${out%% *}" = "$(cat "$BATS_TEST_TMPDIR/fn$i")" ]
		echo "${out#* }" >>"$BATS_TEST_TMPDIR/ns"
	done
	# Six invocations at once: six environments.
	[ "$(sort -u "$BATS_TEST_TMPDIR/ns" | wc -l)" = 6 ]
}

@test "an update during an invocation: it finishes with the old version, the next gets the new" {
	husk_create_ok env-inflight probe '{"Timeout": 30, "Environment": {"Variables": {"VER": "old"}}}'
	probe 'echo warm' env-inflight
	curl -sS --max-time 60 --unix-socket "$HUSK_SOCK" -o "$BATS_TEST_TMPDIR/slow" \
		--data-binary '{"cmd": "sleep 2.02; echo $VER"}' \
		"http://localhost$HUSK_API/env-inflight/invocations" &
	slow=$!
	husk_wait_for 10 husk_env_of_cmd "sleep 2.02"
	husk_api PUT "$HUSK_API/env-inflight/configuration" '{"Environment": {"Variables": {"VER": "new"}}}'
	[ "$HTTP_STATUS" = 200 ]
	probe 'echo $VER' env-inflight
	[ "$PROBE_OUT" = new ]
	wait "$slow"
	cat "$BATS_TEST_TMPDIR/slow"
	[ "$(jq -r .out "$BATS_TEST_TMPDIR/slow")" = old ]
	# The old environment is gone once it finished; the new one stays.
	probe 'echo $VER' env-inflight
	[ "$PROBE_OUT" = new ]
	refute husk_report_is_cold
}

@test "DeleteFunction during an invocation: it finishes, then its environment goes" {
	husk_create_ok env-delflight probe '{"Timeout": 30}'
	curl -sS --max-time 60 --unix-socket "$HUSK_SOCK" -o "$BATS_TEST_TMPDIR/slow" \
		-w '%{http_code}' --data-binary '{"cmd": "sleep 2.01; echo finished"}' \
		"http://localhost$HUSK_API/env-delflight/invocations" >"$BATS_TEST_TMPDIR/status" &
	slow=$!
	husk_wait_for 10 eval 'cg=$(husk_env_of_cmd "sleep 2.01")'
	echo "environment group: $cg"
	[ -n "$cg" ]
	husk_delete env-delflight
	[ "$HTTP_STATUS" = 204 ]
	husk_invoke env-delflight '{}'
	husk_expect_error 404 ResourceNotFoundException
	wait "$slow"
	cat "$BATS_TEST_TMPDIR/status" "$BATS_TEST_TMPDIR/slow"
	[ "$(cat "$BATS_TEST_TMPDIR/status")" = 200 ]
	[ "$(jq -r .out "$BATS_TEST_TMPDIR/slow")" = finished ]
	husk_wait_for 10 eval '[ -z "$(husk_env_dirs "$cg")" ]'
}

@test "UpdateFunctionCode retires the old environment; the next invocation starts a new one" {
	husk_create_ok env-upcode marker
	husk_invoke env-upcode '{}'
	husk_invoke env-upcode '{}'
	[ "$(jq -r .count <<<"$HTTP_BODY")" = 2 ]
	old_env=$(jq -r .env <<<"$HTTP_BODY")
	old_cg=$(husk_env_of_ns "$(jq -r .ns <<<"$HTTP_BODY")")
	echo "old environment group: $old_cg"

	# The same function with one more file: other code.
	stage=$BATS_TEST_TMPDIR/marker2
	mkdir -p "$stage"
	cp "$HUSK_FUNCTIONS/marker/bootstrap" "$stage/"
	chmod 755 "$stage/bootstrap"
	echo 2 >"$stage/VERSION"
	(cd "$stage" && zip -qrX ../marker2.zip .)
	husk_api PUT "$HUSK_API/env-upcode/code" \
		"$(jq -nc --arg z "$(base64 -w0 "$BATS_TEST_TMPDIR/marker2.zip")" '{ZipFile: $z}')"
	[ "$HTTP_STATUS" = 200 ]

	husk_invoke env-upcode '{}'
	echo "$HTTP_BODY $(husk_report)"
	[ "$(jq -r .count <<<"$HTTP_BODY")" = 1 ]
	[ "$(jq -r .env <<<"$HTTP_BODY")" != "$old_env" ]
	husk_report_is_cold
	husk_wait_for 5 eval '[ -z "$(husk_env_dirs "$old_cg")" ]'
}

@test "UpdateFunctionConfiguration retires the old environment too" {
	husk_create_ok env-upconf marker
	husk_invoke env-upconf '{}'
	old_env=$(jq -r .env <<<"$HTTP_BODY")
	husk_api PUT "$HUSK_API/env-upconf/configuration" '{"MemorySize": 256}'
	[ "$HTTP_STATUS" = 200 ]
	husk_invoke env-upconf '{}'
	echo "$HTTP_BODY $(husk_report)"
	[ "$(jq -r .count <<<"$HTTP_BODY")" = 1 ]
	[ "$(jq -r .env <<<"$HTTP_BODY")" != "$old_env" ]
	husk_report | grep -q $'\tMemory Size: 256 MB\t'
}

@test "DeleteFunction destroys its environments: processes and cgroups" {
	husk_create_ok env-del probe
	probe 'setsid sleep 300 </dev/null >/dev/null 2>&1 & readlink /proc/self/ns/pid' env-del
	cg=$(husk_env_of_ns "$PROBE_OUT")
	echo "environment group: $cg"
	dirs=$(husk_env_dirs "$cg")
	echo "$dirs"
	[ -n "$dirs" ]
	procs=$(cat "$(husk_env_ctrl_dir "$cg" pids)/cgroup.procs")
	echo "processes: $procs"
	[ -n "$procs" ]

	husk_delete env-del
	[ "$HTTP_STATUS" = 204 ]
	husk_wait_for 10 eval '[ -z "$(husk_env_dirs "$cg")" ]'
	for d in $dirs; do
		[ ! -e "$d" ]
	done
	for p in $procs; do
		refute husk_alive "$p"
	done
}

@test "an environment idle past --idle-timeout is destroyed" {
	# A huskd of its own; teardown stops it if the test fails half way.
	IDLE_HUSKD=running
	husk_instance env-idle
	husk_daemon_start --idle-timeout 1
	husk_create_ok idle-fn marker
	husk_invoke idle-fn '{}'
	[ "$(jq -r .count <<<"$HTTP_BODY")" = 1 ]
	cg=$(husk_env_of_ns "$(jq -r .ns <<<"$HTTP_BODY")")
	echo "environment group: $cg"
	husk_wait_for 10 eval '[ -z "$(husk_env_dirs "$cg")" ]'
	husk_invoke idle-fn '{}'
	[ "$(jq -r .count <<<"$HTTP_BODY")" = 1 ]
	husk_report_is_cold
	husk_daemon_stop TERM
	[ "$HUSKD_STATUS" = 0 ]
	husk_check_leftovers
	husk_remove_tmp
	IDLE_HUSKD=
}

@test "an idle environment is frozen, and thawed for its next invocation" {
	husk_create_ok env-freeze marker
	husk_invoke env-freeze '{}'
	cg=$(husk_env_of_ns "$(jq -r .ns <<<"$HTTP_BODY")")
	state=$(husk_env_ctrl_dir "$cg" freezer)/freezer.state
	echo "environment group $cg: $state"
	[ -f "$state" ]
	husk_wait_for 5 eval '[ "$(cat "$state")" = FROZEN ]'
	husk_invoke env-freeze '{}'
	[ "$(jq -r .count <<<"$HTTP_BODY")" = 2 ]
	husk_wait_for 5 eval '[ "$(cat "$state")" = FROZEN ]'
	# The report accounts for the freeze it caused.
	husk_report | grep -qE $'\tFreeze Duration: [0-9.]+ us\t'
}

@test "the environment's cgroups carry MemorySize and the pids limit in every hierarchy" {
	husk_create_ok env-limits marker '{"MemorySize": 192}'
	husk_invoke env-limits '{}'
	cg=$(husk_env_of_ns "$(jq -r .ns <<<"$HTTP_BODY")")
	echo "environment group $cg"
	husk_env_dirs "$cg"
	# A directory in every hierarchy where huskd made its parent group.
	n=0
	for p in $(husk_cg_parents); do
		[ -d "$p" ] || continue
		[ -d "$p/$cg" ]
		n=$((n + 1))
	done
	[ "$n" -ge 2 ]
	mem=$(husk_env_ctrl_dir "$cg" memory)
	if [ -n "$mem" ]; then
		[ "$(cat "$mem/memory.limit_in_bytes")" = $((192 << 20)) ]
	else
		[ "$(cat "$(husk_env_ctrl_dir "$cg" unified)/memory.max")" = $((192 << 20)) ]
	fi
	pids=$(husk_env_ctrl_dir "$cg" pids)
	[ "$(cat "${pids:-$(husk_env_ctrl_dir "$cg" unified)}/pids.max")" = 1024 ]
	# husk-init and the runtime are in it, in every hierarchy.
	for d in $(husk_env_dirs "$cg"); do
		[ -n "$(cat "$d/cgroup.procs")" ]
	done
}

@test "an environment older than --max-lifetime is replaced" {
	IDLE_HUSKD=running
	husk_instance env-life
	husk_daemon_start --max-lifetime 2
	husk_create_ok life-fn marker
	husk_invoke life-fn '{}'
	first=$(jq -r .env <<<"$HTTP_BODY")
	same_env()
	{
		husk_invoke life-fn '{}' && [ "$(jq -r .env <<<"$HTTP_BODY")" = "$first" ]
	}
	# Invoked all the time, never idle: still replaced once it is 2 s old.
	husk_wait_for 15 eval '! same_env'
	echo "$HTTP_BODY"
	[ "$(jq -r .count <<<"$HTTP_BODY")" = 1 ]
	husk_daemon_stop TERM
	[ "$HUSKD_STATUS" = 0 ]
	husk_check_leftovers
	husk_remove_tmp
	IDLE_HUSKD=
}

@test "a spare environment older than the init timeout still serves its first invocation" {
	IDLE_HUSKD=running
	husk_instance env-oldspare
	husk_daemon_start --spares 1
	husk_wait_for 10 eval '[ -n "$(husk_envs)" ]'
	# The condition under test is time itself: the spare must be older than
	# the 10 s a runtime has to initialise.
	sleep 11
	husk_create_ok oldspare-fn echo
	husk_invoke oldspare-fn '{"first": true}'
	echo "$HTTP_BODY $(husk_report)"
	[ -z "$(husk_header X-Amz-Function-Error)" ]
	[ "$HTTP_BODY" = '{"first": true}' ]
	husk_daemon_stop TERM
	[ "$HUSKD_STATUS" = 0 ]
	husk_check_leftovers
	husk_remove_tmp
	IDLE_HUSKD=
}

@test "the runtime gets Lambda's environment variables and the function's own" {
	husk_create_ok env-vars probe '{"MemorySize": 320, "Handler": "handler.main",
		"Environment": {"Variables": {"MY_VAR": "hello world", "OTHER": "x=y"}}}'
	probe 'env' env-vars
	envs=$PROBE_OUT
	grep -qx 'AWS_LAMBDA_FUNCTION_NAME=env-vars' <<<"$envs"
	grep -qx 'AWS_LAMBDA_FUNCTION_VERSION=$LATEST' <<<"$envs"
	grep -qx 'AWS_LAMBDA_FUNCTION_MEMORY_SIZE=320' <<<"$envs"
	grep -qx '_HANDLER=handler.main' <<<"$envs"
	grep -qx 'AWS_LAMBDA_RUNTIME_API=127.0.0.1:9001' <<<"$envs"
	grep -qx 'LAMBDA_TASK_ROOT=/var/task' <<<"$envs"
	grep -qx 'AWS_REGION=eu-west-3' <<<"$envs"
	grep -qx 'AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/env-vars' <<<"$envs"
	grep -qx 'MY_VAR=hello world' <<<"$envs"
	grep -qx 'OTHER=x=y' <<<"$envs"
	# Nothing of huskd's own environment leaks in.
	refute grep -q '^HUSK_' <<<"$envs"
	refute grep -q '^BATS_' <<<"$envs"
	# The bootstrap starts in the code directory.
	probe 'pwd; ls /var/task' env-vars
	[ "$PROBE_OUT" = $'/var/task\nbootstrap' ]
}

@test "/tmp is a tmpfs of EphemeralStorage.Size" {
	husk_create_ok env-tmp probe '{"EphemeralStorage": {"Size": 600}, "MemorySize": 1024,
		"Timeout": 60}'
	probe 'stat -f -c "%T %b %S" /tmp' env-tmp
	read -r fstype blocks bsize <<<"$PROBE_OUT"
	[ "$fstype" = tmpfs ]
	[ $((blocks * bsize)) = $((600 << 20)) ]
	# It is writable by the function, and full at its size.
	probe 'head -c $((601 << 20)) /dev/zero >/tmp/fill; echo rc=$?; du -m /tmp/fill; rm -f /tmp/fill' env-tmp
	[[ "$PROBE_OUT" == *"No space left on device"* ]]
	grep -qx $'600\t/tmp/fill' <<<"$PROBE_OUT"
	husk_create_ok env-tmp-default probe
	probe 'stat -f -c "%b %S" /tmp' env-tmp-default
	read -r blocks bsize <<<"$PROBE_OUT"
	[ $((blocks * bsize)) = $((512 << 20)) ]
}

# /tmp is a tmpfs (README.md, "Known differences from Lambda"): its pages are
# charged to the environment's memory cgroup, so filling it past MemorySize
# is an out-of-memory error of that function, and nothing worse.
@test "data in /tmp counts against MemorySize: past it the function is out of memory" {
	husk_create_ok env-tmp-mem probe '{"MemorySize": 128, "EphemeralStorage": {"Size": 512},
		"Timeout": 60}'
	probe 'head -c $((64 << 20)) /dev/zero >/tmp/fill && du -m /tmp/fill; rm -f /tmp/fill' env-tmp-mem
	grep -qx $'64\t/tmp/fill' <<<"$PROBE_OUT"
	husk_invoke env-tmp-mem "$(jq -nc '{cmd: "head -c $((256 << 20)) /dev/zero >/tmp/fill"}')"
	husk_expect_function_error Runtime.OutOfMemory
	# huskd goes on, and the function gets a new environment.
	probe 'echo after' env-tmp-mem
	[ "$PROBE_OUT" = after ]
}

@test "the runtime gets the Lambda-Runtime-* headers of its invocation" {
	husk_create_ok env-headers probe '{"Timeout": 30}'
	now=$(date +%s%3N)
	probe 'true' env-headers
	id=$(husk_report | sed -n 's/^REPORT RequestId: \([0-9a-f-]*\).*/\1/p')
	hdr()
	{
		awk -v h="$(tr 'A-Z' 'a-z' <<<"$1"):" 'tolower($1) == h { print $2 }' <<<"$PROBE_HEADERS"
	}
	[ -n "$id" ]
	[ "$(hdr Lambda-Runtime-Aws-Request-Id)" = "$id" ]
	[ "$(hdr Lambda-Runtime-Invoked-Function-Arn)" = \
		arn:aws:lambda:eu-west-3:123456789012:function:env-headers ]
	[ -n "$(hdr Lambda-Runtime-Trace-Id)" ]
	deadline=$(hdr Lambda-Runtime-Deadline-Ms)
	echo "now $now, deadline $deadline"
	# About now + 30 s.
	[ "$deadline" -gt $((now + 25000)) ]
	[ "$deadline" -lt $((now + 35000)) ]
	# The API's own x-amzn-RequestId is the invocation's.
	[ "$(husk_header x-amzn-RequestId)" = "$id" ]
	# X-Amz-Client-Context arrives decoded as Lambda-Runtime-Client-Context.
	ctx='{"custom":{"tenant":"t1"}}'
	husk_invoke env-headers '{"cmd": "true"}' -H "X-Amz-Client-Context: $(printf '%s' "$ctx" | base64 -w0)"
	[ "$HTTP_STATUS" = 200 ]
	PROBE_HEADERS=$(jq -r .headers <<<"$HTTP_BODY")
	echo "$PROBE_HEADERS"
	got=$(grep -i '^Lambda-Runtime-Client-Context:' <<<"$PROBE_HEADERS" | cut -d' ' -f2-)
	[ "$(jq -cS . <<<"$got")" = "$ctx" ]
}
