#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# huskctl's objects that ask huskd (env, fn, events, invocation), in text and
# JSON, and the command line itself: prefixes, help, errors. The BPF
# objects (prog, map, link, cgroup, policy, feature) are in huskctl_bpf.bats.

load helpers

setup_file()
{
	husk_setup_file huskctl
	husk_create_ok probe probe '{"Timeout": 30}'
	probe 'echo warm'
}

teardown_file()
{
	husk_teardown_file
}

teardown()
{
	husk_teardown_test
}

hctl()
{
	"$HUSK_BUILD/huskctl" -s "$HUSK_SOCK" -d "$HUSK_BPFDIR" "$@"
}

@test "huskctl help, -V, and object help" {
	run hctl help
	[ "$status" = 0 ]
	for o in prog map link cgroup env fn policy events invocation feature; do
		grep -qw "$o" <<<"$output"
	done
	run hctl -V
	[[ "$output" == "huskctl "* ]]
	run hctl env help
	grep -q 'huskctl env list' <<<"$output"
	grep -q 'huskctl env show ID' <<<"$output"
	run "$HUSK_BUILD/huskctl"
	[ "$status" = 1 ]
}

@test "unknown objects and commands are one-line errors; a prefix takes the first match" {
	run hctl frobnicate
	[ "$status" = 1 ]
	[ "$output" = "huskctl: unknown object 'frobnicate' (see huskctl help)" ]
	run hctl env explode
	[ "$status" = 1 ]
	[ "$output" = "huskctl: unknown command 'explode' (see huskctl help)" ]
	# As in bpftool, a prefix of several names is the first of them: "e" is
	# env (before events), "p" prog (before policy), "ev" events.
	run hctl -j e l
	[ "$status" = 0 ]
	jq -e 'type == "array" and .[0].Name' <<<"$output"
	run hctl -j p s
	[ "$status" = 0 ]
	jq -e 'type == "array" and length > 0 and (.[0] | has("id"))' <<<"$output"
	run hctl -j ev --type oom
	[ "$status" = 0 ]
}

@test "env list: text and JSON, every environment with its cgroup id" {
	run hctl env list
	[ "$status" = 0 ]
	echo "$output"
	grep -qE '^ENV +FUNCTION +STATE' <<<"$output"
	grep -qE '^env-[0-9]+ +probe +(frozen|idle|busy)' <<<"$output"
	grep -qE '^env-[0-9]+ +- +spare' <<<"$output"
	run hctl -j env list
	[ "$status" = 0 ]
	jq -e 'length >= 2 and all(.[]; .CgroupId > 0 and (.Name | startswith("env-")))' <<<"$output"
	jq -e '[.[] | select(.Function == "probe")] | length == 1' <<<"$output"
	# The cgroup id is the inode of the environment's v2 directory.
	id=$(jq -r '.[] | select(.Function == "probe") | .CgroupId' <<<"$output")
	path=$(jq -r '.[] | select(.Function == "probe") | .CgroupPath' <<<"$output")
	[ "$(stat -c %i "$path")" = "$id" ]
	# Prefixes: "en l" is env list.
	run hctl -j en l
	[ "$status" = 0 ]
	jq -e 'length >= 2' <<<"$output"
}

@test "env show: function, state, invocations, memory, pids, policy summary" {
	id=$(hctl -j env list | jq -r '.[] | select(.Function == "probe") | .Id')
	run hctl env show "$id"
	[ "$status" = 0 ]
	echo "$output"
	grep -q "^env-$id: function probe, revision " <<<"$output"
	grep -qE '^  invocations +[1-9]' <<<"$output"
	grep -qE '^  memory +[0-9.]+ MiB' <<<"$output"
	grep -qE '^  egress +none \(loopback only\)' <<<"$output"
	grep -qE '^  policy +egress 0 rule\(s\); files read 11, write 2, exec 6' <<<"$output"
	run hctl -p env show "env-$id"
	[ "$status" = 0 ]
	jq -e '.Function == "probe" and .Invocations >= 1 and .Pids >= 1 and .MemoryBytes > 0
		and (.State == "frozen" or .State == "idle")' <<<"$output"
	run hctl env show 999999
	[ "$status" = 1 ]
	[ "$output" = "huskctl: /husk/v1/envs/999999: Environment not found: env-999999" ]
	run hctl env show bogus
	[ "$status" = 1 ]
	[[ "$output" == *"'bogus' is not an environment id"* ]]
}

@test "fn list and fn show" {
	run hctl fn list
	[ "$status" = 0 ]
	grep -qE '^probe +provided.al2023 +128 +30 ' <<<"$output"
	run hctl -j fn list
	jq -e 'map(.FunctionName) | index("probe")' <<<"$output"
	run hctl fn show probe
	[ "$status" = 0 ]
	echo "$output"
	grep -qE '^  Environments +env-[0-9]+' <<<"$output"
	grep -qE '^  Policy +\{"Network"' <<<"$output"
	run hctl -j fn show probe
	jq -e '.FunctionName == "probe" and (.Environments | length) == 1 and .Policy.Files.Write == ["/tmp", "/dev"]' <<<"$output"
	run hctl fn show nosuchfn
	[ "$status" = 1 ]
	[[ "$output" == *"Function not found"* ]]
	run hctl fn show 'bad/name'
	[ "$status" = 1 ]
	[[ "$output" == *"is not a function name"* ]]
}

@test "invocation show: the report with its telemetry" {
	probe 'cat /etc/hostname 2>/dev/null; python3 -c "import socket; socket.socket().connect((\"192.0.2.7\", 80))" 2>/dev/null; true'
	id=$(husk_report | sed -n 's/^REPORT RequestId: \([0-9a-f-]*\).*/\1/p')
	[ -n "$id" ]
	run hctl invocation show "$id"
	[ "$status" = 0 ]
	echo "$output"
	grep -q "^$id: function probe in env-[0-9]* (warm start)" <<<"$output"
	grep -qE '^  syscalls +[0-9]+ \(' <<<"$output"
	grep -qE '^  denials +[1-9]' <<<"$output"
	grep -qF 'connect 192.0.2.7:80/tcp denied: no Policy.Network.Egress rule allows it' <<<"$output"
	grep -qF "REPORT RequestId: $id" <<<"$output"
	run hctl -j invocation show "$id"
	jq -e --arg id "$id" '.RequestId == $id and .Function == "probe" and .Telemetry.Denials >= 1
		and .Telemetry.Syscalls > 0 and (.Telemetry.TopSyscalls | length) == 5' <<<"$output"
	run hctl invocation show 00000000-0000-0000-0000-000000000000
	[ "$status" = 1 ]
	[[ "$output" == *"Invocation not found"* ]]
	run hctl invocation show 'nope!'
	[ "$status" = 1 ]
}

@test "events: recent records with filters, text and JSON lines" {
	probe 'python3 -c "import socket; socket.socket().connect((\"192.0.2.8\", 443))" 2>/dev/null; /usr/bin/true'
	run hctl events --type denial --fn probe
	[ "$status" = 0 ]
	echo "$output"
	grep -qE '^[0-9.]+ denial env-[0-9]+ +probe .*connect 192.0.2.8:443/tcp denied' <<<"$output"
	refute grep -qE ' (exec|fork|exit) ' <<<"$output"
	run hctl -j events --type exec
	[ "$status" = 0 ]
	# JSON lines: every line an object of the asked type.
	while read -r line; do
		jq -e '.Type == "exec" and (.Filename | startswith("/"))' <<<"$line" >/dev/null
	done <<<"$output"
	grep -q '"Filename":"/usr/bin/true"' <<<"$output"
	env=$(hctl -j env list | jq -r '.[] | select(.Function == "probe") | .Name')
	run hctl -j events --env "$env"
	jq -se --arg e "$env" 'length > 0 and all(.[]; .Environment == $e)' <<<"$output"
	run hctl -p events --type fork
	jq -e 'type == "array" and all(.[]; .Type == "fork" and .ChildPid > 0)' <<<"$output"
	run hctl events --type bogus
	[ "$status" = 1 ]
	[[ "$output" == "huskctl: --type wants denial, exec, fork, exit or oom, not 'bogus'" ]]
}

@test "events --follow streams what happens now" {
	local out=$BATS_TEST_TMPDIR/follow.out pid
	hctl -j events --follow --type exec >"$out" 2>&1 3>&- &
	pid=$!
	# Until the follower is connected, an exec may go by unseen: repeat.
	husk_wait_for 20 eval 'probe "/usr/bin/printf marker-\$RANDOM >/dev/null" >/dev/null; grep -q /usr/bin/printf "$out"'
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	jq -e '.Type == "exec" and .Function == "probe"' < <(grep /usr/bin/printf "$out" | head -1)
}

@test "huskd's own operations are not on TCP, and huskctl says when huskd is away" {
	code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HUSK_PORT/husk/v1/envs")
	[ "$code" = 404 ]
	run "$HUSK_BUILD/huskctl" -s /nonexistent/huskd.sock env list
	[ "$status" = 1 ]
	[[ "$output" == "huskctl: huskd is not reachable: /nonexistent/huskd.sock: No such file or directory"* ]]
}

@test "huskctl refuses to run as another user than root, with a reason" {
	local dir
	# A copy nobody can reach (the build tree may not be searchable by it).
	dir=$(mktemp -d /tmp/husk-nonroot.XXXXXX)
	chmod 755 "$dir"
	cp "$HUSK_BUILD/huskctl" "$dir/"
	run setpriv --reuid=65534 --regid=65534 --clear-groups "$dir/huskctl" -s "$HUSK_SOCK" env list
	rm -rf "$dir"
	[ "$status" = 1 ]
	[ "$output" = "huskctl: must run as root (husk's BPF objects and huskd's socket are root's)" ]
}

@test "make install puts huskctl, its man page and its completion under DESTDIR" {
	local dest
	dest=$(mktemp -d /tmp/husk-install.XXXXXX)
	make -s -C "$HUSK_SRC" O="$HUSK_BUILD" install DESTDIR="$dest" PREFIX=/usr >/dev/null
	[ -x "$dest/usr/sbin/huskctl" ]
	[ -x "$dest/usr/sbin/huskd" ]
	[ -x "$dest/usr/libexec/husk/husk-init" ]
	[ -f "$dest/usr/share/man/man8/huskctl.8" ]
	[ -f "$dest/usr/share/bash-completion/completions/huskctl" ]
	"$dest/usr/sbin/huskctl" -V | grep -q '^huskctl '
	rm -rf "$dest"
}
