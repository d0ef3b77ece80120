#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Isolation seen from inside an environment, with the probe function: what a
# function can see (processes, files, devices, network) and do (mount,
# ptrace, BPF, namespaces, limits), and how hostile functions (fork bomb,
# memory bomb, timeouts, crashes, oversized answers) end while huskd goes on.

load helpers

PIDS_MAX=100

setup_file()
{
	husk_setup_file isolation --pids-max "$PIDS_MAX"
	husk_create_ok probe probe '{"Timeout": 30}'
}

teardown_file()
{
	husk_teardown_file
}

teardown()
{
	husk_teardown_test
}

# huskd still runs and answers.
huskd_is_fine()
{
	husk_alive "$HUSKD_PID"
	husk_api_ready
}

@test "the function sees only its own processes" {
	probe 'for p in /proc/[0-9]*; do echo "${p#/proc/} $(stat -c %u $p) $(cat $p/comm)"; done'
	procs=$PROBE_OUT
	# bootstrap, the bash running the command and its children: a handful.
	[ "$(wc -l <<<"$procs")" -le 10 ]
	# All of them the function's own user; husk-init (pid 1) and the host hidden.
	[ -z "$(awk '$2 != 993' <<<"$procs")" ]
	refute grep -qE '^1 ' <<<"$procs"
	refute grep -qwE 'huskd|husk-init|systemd|init|bats' <<<"$procs"
	grep -qw bootstrap <<<"$procs"
	probe "cat /proc/$HUSKD_PID/cmdline; ps -eo pid,comm"
	[[ "$PROBE_OUT" != *huskd* ]]
	# The pid namespace is not the host's.
	probe 'readlink /proc/self/ns/pid'
	[[ "$PROBE_OUT" == pid:* ]]
	[ "$PROBE_OUT" != "$(readlink /proc/self/ns/pid)" ]
}

@test "host files outside the root are absent" {
	# With the widest read policy, so that the root can be listed at all (the
	# default policy does not grant reading "/" itself).
	husk_create_ok probe-readall probe '{"Timeout": 30, "Policy": {"Files": {"Read": ["/"]}}}'
	probe 'ls / >/dev/null 2>&1 || echo "root not listable"'
	[ "$PROBE_OUT" = "root not listable" ]
	probe 'for f in /etc/shadow /root /home /var/lib/husk /run /sys /boot /srv /mnt '"$HUSK_TMP"'; do
			[ -e "$f" ] && echo "present: $f"; done; ls -A /; echo; cat /etc/passwd' probe-readall
	[[ "$PROBE_OUT" != *present:* ]]
	for d in usr tmp var dev proc etc; do
		grep -qx "$d" <<<"$PROBE_OUT"
	done
	# /etc/passwd is the jail's own, not the host's.
	grep -q '^sbx_user1051:x:993:990:' <<<"$PROBE_OUT"
	refute grep -q '^daemon:' <<<"$PROBE_OUT"
	refute grep -q '^_apt:' <<<"$PROBE_OUT"
	# The state directory of huskd, with the code key, is not reachable.
	probe "ls $HUSK_STATE; cat $HUSK_STATE/code.key" probe-readall
	[ "$PROBE_RC" != 0 ]
	husk_delete probe-readall
}

@test "/, /usr, /var/task and /dev are read-only; /tmp is writable" {
	probe 'awk '\''{ print $5, substr($6, 1, 2) }'\'' /proc/self/mountinfo'
	mounts=$PROBE_OUT
	grep -qx '/ ro' <<<"$mounts"
	grep -qx '/usr ro' <<<"$mounts"
	grep -qx '/var/task ro' <<<"$mounts"
	grep -qx '/dev ro' <<<"$mounts"
	grep -qx '/tmp rw' <<<"$mounts"
	for f in /usr/husk-test /var/task/husk-test /husk-test /etc/husk-test /dev/husk-test; do
		probe "touch $f"
		[ "$PROBE_RC" != 0 ]
	done
	probe 'touch /tmp/husk-test && echo written'
	[ "$PROBE_OUT" = written ]
	[ ! -e /usr/husk-test ]
}

@test "/dev holds null, zero, full, random, urandom and the fd links only" {
	# stat, not find -printf %y: find takes the type from readdir, which
	# names the mount point below a bound device node.
	probe 'for f in /dev/* /dev/.[!.]*; do [ -e "$f" ] || [ -L "$f" ] || continue;
			stat -c "%F %n" "$f"; done | sort; echo x >/dev/null && echo null-ok;
		head -c 4 /dev/urandom | wc -c; head -c 2 /dev/zero | wc -c; echo x >/dev/full || echo full-ok'
	expected='character special file /dev/full
character special file /dev/null
character special file /dev/random
character special file /dev/urandom
character special file /dev/zero
symbolic link /dev/fd
symbolic link /dev/stderr
symbolic link /dev/stdin
symbolic link /dev/stdout
null-ok
4
2'
	[ "$(grep -v full-ok <<<"$PROBE_OUT" | grep -v 'No space left')" = "$expected" ]
	grep -q full-ok <<<"$PROBE_OUT"
	probe 'mknod /tmp/sda b 8 0'
	[ "$PROBE_RC" != 0 ]
}

@test "the function runs as uid 993 without capabilities, with no_new_privs and seccomp" {
	probe 'id -u; id -g; grep -E "^(Uid|Gid|Groups|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):" /proc/self/status'
	status=$PROBE_OUT
	grep -qx '993' <<<"$(sed -n 1p <<<"$status")"
	grep -qx '990' <<<"$(sed -n 2p <<<"$status")"
	grep -qxE $'Uid:\t993\t993\t993\t993' <<<"$status"
	grep -qxE $'Gid:\t990\t990\t990\t990' <<<"$status"
	grep -qxE $'Groups:[ \t]*' <<<"$status"
	grep -qx $'CapInh:\t0000000000000000' <<<"$status"
	grep -qx $'CapPrm:\t0000000000000000' <<<"$status"
	grep -qx $'CapEff:\t0000000000000000' <<<"$status"
	grep -qx $'CapBnd:\t0000000000000000' <<<"$status"
	grep -qx $'CapAmb:\t0000000000000000' <<<"$status"
	grep -qx $'NoNewPrivs:\t1' <<<"$status"
	grep -qx $'Seccomp:\t2' <<<"$status"
}

@test "the function cannot raise its limits" {
	probe 'ulimit -Sn; ulimit -Hn'
	[ "$PROBE_OUT" = $'1024\n1024' ]
	probe 'ulimit -n 4096'
	[ "$PROBE_RC" != 0 ]
	probe 'ulimit -Hn 2048'
	[ "$PROBE_RC" != 0 ]
	probe 'prlimit --pid $$ --nofile=4096:4096'
	[ "$PROBE_RC" != 0 ]
	# Lowering is allowed (the check above is not just a broken ulimit).
	probe 'ulimit -n 512 && ulimit -n'
	[ "$PROBE_OUT" = 512 ]
}

@test "the function cannot mount" {
	probe 'mkdir -p /tmp/m; mount -t tmpfs none /tmp/m'
	[ "$PROBE_RC" != 0 ]
	probe 'python3 -c "
import ctypes, errno
libc = ctypes.CDLL(None, use_errno=True)
r = libc.mount(b\"none\", b\"/tmp\", b\"tmpfs\", 0, None)
print(r, errno.errorcode[ctypes.get_errno()])"'
	[ "$PROBE_OUT" = "-1 EPERM" ]
}

@test "the function cannot ptrace" {
	probe 'python3 -c "
import ctypes, errno
libc = ctypes.CDLL(None, use_errno=True)
r = libc.ptrace(0, 0, None, None)
print(\"traceme\", r, errno.errorcode.get(ctypes.get_errno(), 0))
r = libc.ptrace(16, __import__(\"os\").getppid(), None, None)
print(\"attach\", r, errno.errorcode.get(ctypes.get_errno(), 0))"'
	grep -qx 'traceme -1 EPERM' <<<"$PROBE_OUT"
	grep -qx 'attach -1 EPERM' <<<"$PROBE_OUT"
}

@test "the function cannot create or join namespaces" {
	probe 'unshare -U true'
	[ "$PROBE_RC" != 0 ]
	probe 'unshare -r -n true'
	[ "$PROBE_RC" != 0 ]
	probe 'python3 -c "
import ctypes, errno, os
libc = ctypes.CDLL(None, use_errno=True)
print(\"unshare\", libc.unshare(0x10000000), errno.errorcode.get(ctypes.get_errno(), 0))
fd = os.open(\"/proc/self/ns/uts\", os.O_RDONLY)
print(\"setns\", libc.setns(fd, 0), errno.errorcode.get(ctypes.get_errno(), 0))"'
	grep -qx 'unshare -1 EPERM' <<<"$PROBE_OUT"
	grep -qx 'setns -1 EPERM' <<<"$PROBE_OUT"
}

# Every syscall of the default deny list, raw, from python: name and errno.
SYSCALLS_PY='
import ctypes, errno, os
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
buf = ctypes.create_string_buffer(256)
perf = ctypes.create_string_buffer(128)
perf[0] = 1          # PERF_TYPE_SOFTWARE
perf[4] = 128        # attr.size
perf[40] = 0x60      # exclude_kernel, exclude_hv
def arg(a):
    if isinstance(a, bytes):
        return ctypes.c_char_p(a)
    if isinstance(a, int):
        return ctypes.c_long(a)
    return a
def call(name, nr, *args):
    ctypes.set_errno(0)
    r = libc.syscall(ctypes.c_long(nr), *[arg(a) for a in args])
    e = ctypes.get_errno()
    if r == 0 and name == "clone":
        os._exit(0)
    if r > 0 and name == "clone":
        os.waitpid(r, 0)
    print(name, "ok" if r >= 0 else errno.errorcode.get(e, e))
call("mount", 165, b"none", b"/tmp", b"tmpfs", 0, 0)
call("umount2", 166, b"/tmp", 0)
call("pivot_root", 155, b"/tmp", b"/tmp")
call("chroot", 161, b"/tmp")
call("ptrace", 101, 0, 0, 0, 0)
call("bpf", 321, 0, buf, 72)
call("perf_event_open", 298, perf, 0, -1, -1, 0)
call("unshare", 272, 0x10000000)
call("setns", 308, os.open("/proc/self/ns/net", os.O_RDONLY), 0)
call("clone", 56, 0x10000000 | 17, 0, 0, 0, 0)
call("clone3", 435, 0, 0)
call("keyctl", 250, 0, -3, 0)
call("add_key", 248, b"user", b"husk", b"data", 4, -2)
call("request_key", 249, b"user", b"husk", 0, 0)
call("init_module", 175, buf, 16, b"")
call("finit_module", 313, 0, b"", 0)
call("kexec_load", 246, 0, 0, 0, 0)
call("userfaultfd", 323, 0)
call("reboot", 169, 0, 0, 0, 0)
'

@test "seccomp refuses the dangerous syscalls (EPERM; clone3 ENOSYS)" {
	probe "python3 - <<'PY'
$SYSCALLS_PY
PY"
	expected='mount EPERM
umount2 EPERM
pivot_root EPERM
chroot EPERM
ptrace EPERM
bpf EPERM
perf_event_open EPERM
unshare EPERM
setns EPERM
clone EPERM
clone3 ENOSYS
keyctl EPERM
add_key EPERM
request_key EPERM
init_module EPERM
finit_module EPERM
kexec_load EPERM
userfaultfd EPERM
reboot EPERM'
	diff <(echo "$expected") <(echo "$PROBE_OUT")
	# Ordinary work still runs: fork, exec, threads (clone without namespaces).
	probe 'python3 -c "import threading; t = threading.Thread(target=print, args=(\"thread\",)); t.start(); t.join()"'
	[ "$PROBE_OUT" = thread ]
}

@test "the network is loopback only: no interfaces, no routes, no /sys" {
	probe 'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "'
	[ "$PROBE_OUT" = lo ]
	probe 'ip -o link show 2>&1 | awk -F": " "{ print \$2 }"'
	[ "$PROBE_OUT" = lo ]
	probe 'cat /proc/net/route | tail -n +2'
	[ -z "$PROBE_OUT" ]
	probe 'ls /sys'
	[ "$PROBE_RC" != 0 ]
}

# The cgroup connect/sendmsg programs refuse first (EPERM); without them
# the namespace has no route (ENETUNREACH): either way nothing leaves.
@test "connections beyond loopback are refused locally (EPERM); the host's loopback is not ours" {
	probe "python3 - <<'PY'
import errno, socket
def tcp(host, port, fam=socket.AF_INET):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        s.connect((host, port))
        print(host, 'connected')
    except OSError as e:
        print(host, errno.errorcode.get(e.errno, type(e).__name__) if e.errno else type(e).__name__)
def udp(host, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.sendto(b'x', (host, port))
        print('udp', host, 'sent')
    except OSError as e:
        print('udp', host, errno.errorcode.get(e.errno, e.errno))
tcp('192.0.2.1', 80)
tcp('10.255.255.1', 443)
tcp('2001:db8::1', 80, socket.AF_INET6)
udp('192.0.2.1', 53)
tcp('127.0.0.1', $HUSK_PORT)
PY"
	expected="192.0.2.1 EPERM
10.255.255.1 EPERM
2001:db8::1 EPERM
udp 192.0.2.1 EPERM
127.0.0.1 ECONNREFUSED"
	diff <(echo "$expected") <(echo "$PROBE_OUT")
	# The Runtime API on the environment's own loopback does answer.
	probe 'curl -s -o /dev/null -w "%{http_code}" http://127.0.0.1:9001/2018-06-01/ping'
	[ "$PROBE_RC" = 0 ]
}

@test "the runtime's processes hold no socket: the channel to huskd is husk-init's alone" {
	probe 'for p in /proc/[0-9]*; do
			for f in $p/fd/*; do echo "${p#/proc/} $(cat $p/comm) ${f##*/} $(readlink $f)"; done
		done'
	fds=$PROBE_OUT
	grep -q ' bootstrap ' <<<"$fds"
	refute grep -q 'socket:' <<<"$fds"
	# The bootstrap has /dev/null, pipes (its log, bash's own) and its script.
	[ -z "$(awk '$2 == "bootstrap" && $4 !~ /^(pipe:|\/dev\/null$|\/var\/task\/bootstrap$)/' \
		<<<"$fds")" ]
}

# Listen on the abstract Unix socket NAME for up to 20 s; "accepted" into FILE.
abstract_listener()
{
	python3 - "$1" >"$2" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind("\0" + sys.argv[1])
s.listen(1)
s.settimeout(20)
try:
    s.accept()
    print("accepted")
except OSError:
    pass
PY
	LISTENER=$!
}

abstract_connect()
{
	python3 - "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect("\0" + sys.argv[1])
PY
}

@test "the host's abstract Unix sockets are unreachable (own network namespace)" {
	name=husk-test-abstract-$$-$RANDOM
	# The listener works from the host.
	abstract_listener "$name" "$BATS_TEST_TMPDIR/host.out"
	husk_wait_for 5 abstract_connect "$name"
	wait "$LISTENER"
	grep -q accepted "$BATS_TEST_TMPDIR/host.out"

	abstract_listener "$name" "$BATS_TEST_TMPDIR/jail.out"
	husk_wait_for 5 eval 'grep -qa "@$name" /proc/net/unix'
	probe "python3 - '$name' <<'PY'
import errno, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect('\0' + sys.argv[1])
    print('connected')
except OSError as e:
    print(errno.errorcode[e.errno])
PY"
	kill "$LISTENER" 2>/dev/null || true
	wait "$LISTENER" || true
	[ "$PROBE_OUT" = ECONNREFUSED ]
	refute grep -q accepted "$BATS_TEST_TMPDIR/jail.out"
}

@test "the function cannot signal husk-init, set the hostname or lower its OOM score" {
	probe 'kill -KILL 1; echo "kill rc=$?"; hostname other; echo "hostname rc=$?";
		echo -1000 >/proc/self/oom_score_adj; echo "oom rc=$?"; hostname'
	grep -q '^kill rc=[1-9]' <<<"$PROBE_OUT"
	grep -q '^hostname rc=[1-9]' <<<"$PROBE_OUT"
	grep -q '^oom rc=[1-9]' <<<"$PROBE_OUT"
	[ "$(tail -n 1 <<<"$PROBE_OUT")" = husk ]
	# The environment lives on: the next invocation is warm.
	probe 'echo alive'
	[ "$PROBE_OUT" = alive ]
	refute husk_report_is_cold
}

@test "husk-init survives a misbehaving Runtime API client" {
	probe "curl -s -o /dev/null -w '%{http_code}\n' -X POST -d x \
			http://127.0.0.1:9001/2018-06-01/runtime/invocation/not-a-request/response
		curl -s -o /dev/null -w '%{http_code}\n' http://127.0.0.1:9001/no/such/endpoint
		python3 - <<'PY'
import socket
for junk in (b'GARBAGE\r\n\r\n', b'POST /x HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n',
             b'\x00' * 70000):
    s = socket.create_connection(('127.0.0.1', 9001))
    try:
        s.sendall(junk)
        s.shutdown(socket.SHUT_WR)
        s.settimeout(5)
        print('answer', (s.recv(12) or b'closed').decode(errors='replace').split(' ')[0])
    except OSError as e:
        print('answer', type(e).__name__)
    s.close()
PY"
	codes=$(head -n 2 <<<"$PROBE_OUT")
	[[ "$(sed -n 1p <<<"$codes")" == 4* ]]
	[[ "$(sed -n 2p <<<"$codes")" == 4* ]]
	# The environment still serves, warm.
	probe 'echo still here'
	[ "$PROBE_OUT" = "still here" ]
	refute husk_report_is_cold
}

# The environment group with more than 20 processes: the fork bomb's.
bomb_env()
{
	local e n

	for e in $(husk_envs); do
		n=$(wc -l <"$(husk_env_ctrl_dir "$e" pids)/cgroup.procs" 2>/dev/null) || continue
		if [ "$n" -gt 20 ]; then
			echo "$e"
			return 0
		fi
	done
	return 1
}

@test "a fork bomb is stopped by the pids limit; huskd and the function go on" {
	husk_create_ok forkbomb forkbomb '{"Timeout": 4, "MemorySize": 512}'
	curl -sS --max-time 60 --unix-socket "$HUSK_SOCK" -H 'X-Amz-Log-Type: Tail' \
		-D "$BATS_TEST_TMPDIR/h" -o "$BATS_TEST_TMPDIR/b" --data-binary '{"bomb": true}' \
		"http://localhost$HUSK_API/forkbomb/invocations" &
	curl_pid=$!
	# Watch the bomb's group from the host (the one whose bash multiplies):
	# it reaches the limit, and the kernel keeps it there.
	husk_wait_for 10 eval 'cg=$(bomb_env)'
	pids_dir=$(husk_env_ctrl_dir "$cg" pids)
	echo "bomb group $cg: $pids_dir"
	[ "$(cat "$pids_dir/pids.max")" = "$PIDS_MAX" ]
	husk_wait_for 10 eval '[ "$(cat "$pids_dir/pids.current" 2>/dev/null || echo "$PIDS_MAX")" -ge "$PIDS_MAX" ]'
	wait "$curl_pid"
	HTTP_STATUS=$(head -n 1 "$BATS_TEST_TMPDIR/h" | cut -d' ' -f2)
	HTTP_BODY=$(cat "$BATS_TEST_TMPDIR/b")
	cp "$BATS_TEST_TMPDIR/h" "$BATS_TEST_TMPDIR/http.headers"
	husk_expect_function_error Sandbox.Timedout
	log=$(husk_header X-Amz-Log-Result | base64 -d)
	echo "$log"
	grep -q 'forkbomb-function: forking' "$HUSK_LOG"
	grep -q 'Resource temporarily unavailable' <<<"$log"
	# The bomb's environment is gone, with all its processes.
	husk_wait_for 10 eval '[ -z "$(husk_env_dirs "$cg")" ]'
	huskd_is_fine
	husk_invoke forkbomb '{"bomb": false}'
	[ "$HTTP_STATUS" = 200 ]
	[ "$HTTP_BODY" = '{"ok": true}' ]
}

@test "a memory bomb is killed at MemorySize: Runtime.OutOfMemory; huskd goes on" {
	husk_create_ok membomb membomb '{"MemorySize": 128, "Timeout": 30}'
	husk_invoke membomb '{"bomb": true}'
	echo "$HTTP_BODY"
	husk_report
	husk_expect_function_error Runtime.OutOfMemory
	used=$(husk_report | sed -n 's/.*\tMax Memory Used: \([0-9]*\) MB.*/\1/p')
	[ -n "$used" ]
	[ "$used" -le 129 ]
	huskd_is_fine
	husk_invoke membomb '{"bomb": false}'
	[ "$HTTP_STATUS" = 200 ]
	[ "$HTTP_BODY" = '{"ok": true}' ]
}

@test "an invocation past its Timeout is Sandbox.Timedout; the next one works" {
	husk_create_ok sleeper sleeper '{"Timeout": 1}'
	start=$(date +%s)
	husk_invoke sleeper '{"sleep": 30}'
	took=$(($(date +%s) - start))
	echo "$HTTP_BODY (after ${took}s)"
	husk_expect_function_error Sandbox.Timedout
	jq -r .errorMessage <<<"$HTTP_BODY" | grep -q 'Task timed out after 1.00 seconds'
	[ "$took" -lt 10 ]
	husk_invoke sleeper '{"sleep": 0}'
	[ "$HTTP_STATUS" = 200 ]
	[ "$HTTP_BODY" = '{"slept": 0}' ]
}

@test "a runtime that exits during an invocation is Runtime.ExitError" {
	husk_create_ok crash crash
	husk_invoke crash '{}' -H 'X-Amz-Log-Type: Tail'
	echo "$HTTP_BODY"
	husk_expect_function_error Runtime.ExitError
	jq -r .errorMessage <<<"$HTTP_BODY" | grep -q 'exit status 1'
	husk_header X-Amz-Log-Result | base64 -d | grep -q 'crash-function: exiting'
	# Again: a new environment, the same answer.
	husk_invoke crash '{}'
	husk_expect_function_error Runtime.ExitError
	husk_report_is_cold
	huskd_is_fine
}

@test "an error posted to /runtime/invocation/ID/error is the invocation's result" {
	husk_create_ok error error
	husk_invoke error '{}'
	echo "$HTTP_BODY"
	husk_expect_function_error TestHandlerError
	[ "$(jq -r .errorMessage <<<"$HTTP_BODY")" = "handler failed on purpose" ]
	# A handled error keeps the environment.
	husk_invoke error '{}'
	husk_expect_function_error TestHandlerError
	refute husk_report_is_cold
}

@test "an error posted to /runtime/init/error fails the invocation" {
	husk_create_ok initerror initerror
	husk_invoke initerror '{}'
	echo "$HTTP_BODY"
	husk_expect_function_error TestInitError
	[ "$(jq -r .errorMessage <<<"$HTTP_BODY")" = "init failed on purpose" ]
	husk_invoke initerror '{}'
	husk_expect_function_error TestInitError
	huskd_is_fine
}

@test "a package without bootstrap is Runtime.InvalidEntrypoint" {
	husk_create_ok nobootstrap nobootstrap
	husk_invoke nobootstrap '{}'
	echo "$HTTP_BODY"
	husk_expect_function_error Runtime.InvalidEntrypoint
	huskd_is_fine
}

@test "a response over 6 MB is Function.ResponseSizeTooLarge" {
	husk_create_ok bigresponse bigresponse '{"Timeout": 30}'
	husk_invoke bigresponse '{}'
	echo "${HTTP_BODY:0:500}"
	husk_expect_function_error Function.ResponseSizeTooLarge
	[ "${#HTTP_BODY}" -lt 4096 ]
	huskd_is_fine
}
