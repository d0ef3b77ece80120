#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Policies: the API (set, returned, refused with the field named), and each
# rule tried from inside an environment with the probe function: network
# denials from the cgroup BPF programs, file and exec rules (BPF LSM where
# it runs, Landlock here), the syscall rules on top of the seccomp profile,
# and the denials and syscall counts in the invocation's report.

load helpers

setup_file()
{
	husk_setup_file policy
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

# What the REPORT line of the last invocation says about FIELD ("Denials").
report_field()
{
	husk_report | tr '\t' '\n' | sed -n "s/^$1: //p"
}

# The decoded log tail of the last invocation (asked with X-Amz-Log-Type: Tail).
log_tail()
{
	husk_header X-Amz-Log-Result | base64 -d
}

# probe_tail CMD [FN]: probe, asking for the log tail.
probe_tail()
{
	local fn=${2:-probe}

	husk_invoke "$fn" "$(jq -nc --arg c "$1" '{cmd: $c}')" -H 'X-Amz-Log-Type: Tail' || return 1
	[ "$HTTP_STATUS" = 200 ] || { echo "HTTP $HTTP_STATUS: $HTTP_BODY" >&2; return 1; }
	PROBE_OUT=$(jq -r .out <<<"$HTTP_BODY")
	PROBE_RC=$(jq -r .rc <<<"$HTTP_BODY")
	printf 'probe %s: %s\n  rc %s\n%s\n' "$fn" "$1" "$PROBE_RC" "$PROBE_OUT" | head -c 4000
	echo
	log_tail
}

# ---------------------------------------------------------------- the API

@test "a function without a policy gets the documented default, in full" {
	husk_api GET "$HUSK_API/probe/configuration"
	[ "$HTTP_STATUS" = 200 ]
	p=$(jq -c .Policy <<<"$HTTP_BODY")
	[ "$(jq -c .Network <<<"$p")" = '{"Egress":[],"Dns":false,"AllowHost":false}' ]
	[ "$(jq -c .Files.Write <<<"$p")" = '["/tmp","/dev"]' ]
	[ "$(jq -c .Files.Exec <<<"$p")" = '["/usr","/bin","/sbin","/lib","/lib64","/var/task"]' ]
	jq -e '.Files.Read | index("/var/task") and index("/opt") and index("/usr")' <<<"$p"
	[ "$(jq -c .Syscalls <<<"$p")" = '{"Mode":"deny","Action":"errno","Errno":1,"Names":[]}' ]
}

@test "a policy set at create is returned, and replaced by an update" {
	husk_create_ok pol probe '{"Policy": {"Network": {"Egress": [{"Cidr": "192.0.2.0/24",
		"Ports": "443", "Protocol": "tcp"}], "Dns": true}, "Files": {"Write": ["/tmp"]}}}'
	[ "$(jq -c '.Policy.Network.Egress' <<<"$HTTP_BODY")" = \
		'[{"Cidr":"192.0.2.0/24","Ports":"443","Protocol":"tcp"}]' ]
	husk_api GET "$HUSK_API/pol/configuration"
	jq -e '.Policy.Network.Dns == true and .Policy.Files.Write == ["/tmp"]' <<<"$HTTP_BODY"
	husk_api PUT "$HUSK_API/pol/configuration" \
		'{"Policy": {"Syscalls": {"Names": ["getppid"], "Action": "kill"}}}'
	[ "$HTTP_STATUS" = 200 ]
	husk_api GET "$HUSK_API/pol/configuration"
	jq -e '.Policy.Syscalls.Action == "kill" and .Policy.Syscalls.Names == ["getppid"]
		and .Policy.Network.Egress == []' <<<"$HTTP_BODY"
	# An update without Policy keeps it.
	husk_api PUT "$HUSK_API/pol/configuration" '{"Timeout": 7}'
	husk_api GET "$HUSK_API/pol/configuration"
	jq -e '.Policy.Syscalls.Action == "kill" and .Timeout == 7' <<<"$HTTP_BODY"
	husk_delete pol
}

@test "an invalid policy is refused with the bad field named" {
	local zip
	zip=$(husk_zip probe)
	while IFS='|' read -r policy field; do
		husk_create bad "$zip" "{\"Policy\": $policy}"
		husk_expect_error 400 InvalidParameterValueException "$field"
	done <<'EOF'
{"Network": {"Egress": [{"Cidr": "10.0.0.0/33"}]}}|Policy.Network.Egress\[0\].Cidr
{"Network": {"Egress": [{"Cidr": "10.0.0.1/8"}]}}|Policy.Network.Egress\[0\].Cidr
{"Network": {"Egress": [{"Cidr": "10.0.0.0/8", "Ports": "0"}]}}|Policy.Network.Egress\[0\].Ports
{"Network": {"Egress": [{"Cidr": "10.0.0.0/8", "Ports": "90-80"}]}}|Policy.Network.Egress\[0\].Ports
{"Network": {"Egress": [{"Cidr": "10.0.0.0/8", "Protocol": "icmp"}]}}|Policy.Network.Egress\[0\].Protocol
{"Network": {"Dns": "yes"}}|Policy.Network.Dns
{"Network": {"Egres": []}}|Policy.Network.Egres
{"Files": {"Write": ["tmp"]}}|Policy.Files.Write\[0\]
{"Files": {"Read": ["/usr/../etc"]}}|Policy.Files.Read\[0\]
{"Syscalls": {"Names": ["no_such_syscall"]}}|Policy.Syscalls.Names\[0\]
{"Syscalls": {"Action": "explode"}}|Policy.Syscalls.Action
{"Syscalls": {"Errno": 0}}|Policy.Syscalls.Errno
"everything"|Policy
EOF
	husk_api GET "$HUSK_API/bad"
	[ "$HTTP_STATUS" = 404 ]
	husk_api PUT "$HUSK_API/probe/configuration" '{"Policy": {"Files": {"Exec": ["x"]}}}'
	husk_expect_error 400 InvalidParameterValueException 'Policy.Files.Exec\[0\]'
}

@test "huskd says at start-up which engine enforces what" {
	grep -q 'enforcement: network rules by cgroup BPF' "$HUSK_LOG"
	grep -qE 'enforcement: files, exec, .* by BPF LSM|enforcement: files and exec by Landlock ABI [1-9]' \
		"$HUSK_LOG"
}

@test "the BPF programs are attached to the environments' parent and pinned" {
	local parent
	parent=$(find /sys/fs/cgroup -mindepth 1 -type d -name "$HUSK_CGPARENT" | head -1)
	while read -r type; do
		bpftool cgroup show "$parent" | grep -qw "$type" || {
			echo "no $type program on $parent" >&2
			bpftool cgroup show "$parent" >&2
			return 1
		}
	done <<'EOF'
cgroup_inet4_connect
cgroup_inet6_connect
cgroup_udp4_sendmsg
cgroup_udp6_sendmsg
cgroup_inet4_bind
cgroup_inet6_bind
cgroup_inet_sock_create
cgroup_inet_ingress
cgroup_inet_egress
cgroup_device
EOF
	for m in husk_envs husk_net4 husk_net6 husk_counters husk_events; do
		[ -e "$HUSK_BPFDIR/maps/$m" ]
	done
	[ -e "$HUSK_BPFDIR/links/husk_sys_enter" ]
	[ -e "$HUSK_BPFDIR/progs/husk_connect4" ]
	# Every environment has an entry, keyed by its cgroup id.
	[ "$(bpftool -j map dump pinned "$HUSK_BPFDIR/maps/husk_envs" | jq length)" -ge 1 ]
}

# ---------------------------------------------------------------- network

@test "connect outside the egress allow-list fails EPERM and is reported with the rule" {
	probe_tail 'curl -sS -m 5 http://198.51.100.1:80/ 2>&1; echo rc=$?;
		python3 -c "
import socket, errno
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    s.sendto(b\"x\", (\"198.51.100.2\", 53)); print(\"sent\")
except OSError as e: print(\"udp\", errno.errorcode[e.errno])
s6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
try:
    s6.connect((\"2001:db8::1\", 443)); print(\"connected\")
except OSError as e: print(\"tcp6\", errno.errorcode[e.errno])
"'
	[[ "$PROBE_OUT" == *"Couldn't connect"* || "$PROBE_OUT" == *"Operation not permitted"* ]]
	grep -qx 'udp EPERM' <<<"$PROBE_OUT"
	grep -qx 'tcp6 EPERM' <<<"$PROBE_OUT"
	log=$(log_tail)
	grep -qF 'DENIED connect 198.51.100.1:80/tcp denied: no Policy.Network.Egress rule allows it' <<<"$log"
	grep -qF 'DENIED connect 198.51.100.2:53/udp denied' <<<"$log"
	grep -qF 'DENIED connect [2001:db8::1]:443/tcp denied' <<<"$log"
	[ "$(report_field Denials)" -ge 3 ]
}

@test "loopback inside the environment still works" {
	probe 'python3 -c "
import socket
l = socket.socket(); l.bind((\"127.0.0.1\", 0)); l.listen(1)
c = socket.create_connection(l.getsockname()); a, _ = l.accept()
c.sendall(b\"ping\"); print(a.recv(4).decode())
"'
	[ "$PROBE_OUT" = ping ]
}

@test "binds on non-loopback addresses are denied, loopback binds are not" {
	probe_tail 'python3 -c "
import socket, errno
for fam, addr in ((socket.AF_INET, \"0.0.0.0\"), (socket.AF_INET6, \"::\"),
                  (socket.AF_INET, \"127.0.0.1\"), (socket.AF_INET6, \"::1\")):
    s = socket.socket(fam, socket.SOCK_STREAM)
    try:
        s.bind((addr, 8080)); print(addr, \"bound\")
    except OSError as e: print(addr, errno.errorcode[e.errno])
"'
	grep -qx '0.0.0.0 EPERM' <<<"$PROBE_OUT"
	grep -qx ':: EPERM' <<<"$PROBE_OUT"
	grep -qx '127.0.0.1 bound' <<<"$PROBE_OUT"
	grep -qx '::1 bound' <<<"$PROBE_OUT"
	log_tail | grep -qF 'DENIED bind 0.0.0.0:8080/tcp denied: environments bind only on loopback'
}

@test "raw and packet sockets are denied, and so are other inet protocols" {
	probe_tail 'python3 -c "
import socket, errno
for name, args in ((\"raw\", (socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)),
                   (\"packet\", (socket.AF_PACKET, socket.SOCK_RAW, 0)),
                   (\"mptcp\", (socket.AF_INET, socket.SOCK_STREAM, 262)),
                   (\"udplite\", (socket.AF_INET, socket.SOCK_DGRAM, 136)),
                   (\"tcp\", (socket.AF_INET, socket.SOCK_STREAM, 0))):
    try:
        socket.socket(*args); print(name, \"created\")
    except OSError as e: print(name, errno.errorcode[e.errno])
"'
	grep -qx 'raw EPERM' <<<"$PROBE_OUT"
	grep -qx 'packet EPERM' <<<"$PROBE_OUT"
	grep -qx 'tcp created' <<<"$PROBE_OUT"
	# Outside any environment these protocols work (when the kernel has them);
	# inside, cgroup/sock_create refuses them and says so.
	for proto in mptcp:262:SOCK_STREAM udplite:136:SOCK_DGRAM; do
		IFS=: read -r name num type <<<"$proto"
		if python3 -c "import socket; socket.socket(socket.AF_INET, socket.$type, $num)" 2>/dev/null; then
			grep -qx "$name EPERM" <<<"$PROBE_OUT"
			log_tail | grep -qF "protocol $num) denied: only TCP, UDP and Unix sockets"
		fi
	done
}

# ---------------------------------------------------------------- files

@test "writes outside the write allow-list are denied" {
	husk_create_ok nowrite probe '{"Timeout": 30, "Policy": {"Files": {"Write": ["/dev"]}}}'
	probe_tail 'echo x >/tmp/f 2>&1; echo "tmp=$?"; echo x >/dev/null; echo "null=$?";
		echo y >/proc/self/comm 2>&1; echo "comm=$?"; mkdir /tmp/d 2>&1; echo "mkdir=$?"' nowrite
	grep -q 'tmp=1' <<<"$PROBE_OUT"
	grep -q 'null=0' <<<"$PROBE_OUT"
	grep -q 'comm=1' <<<"$PROBE_OUT"
	grep -q 'mkdir=1' <<<"$PROBE_OUT"
	grep -q 'Permission denied' <<<"$PROBE_OUT"
	log_tail | grep -qE 'DENIED (openat /tmp/f denied \(EACCES\)|/tmp/f denied: outside Policy.Files.Write)'
	# The default policy writes /tmp.
	probe 'echo x >/tmp/f && cat /tmp/f'
	[ "$PROBE_OUT" = x ]
	husk_delete nowrite
}

@test "exec outside the exec allow-list is denied" {
	probe_tail 'cp /usr/bin/true /tmp/t && chmod +x /tmp/t && /tmp/t 2>&1; echo "rc=$?";
		/usr/bin/true; echo "usr=$?"'
	grep -q 'Permission denied' <<<"$PROBE_OUT"
	grep -q 'rc=126' <<<"$PROBE_OUT"
	grep -q 'usr=0' <<<"$PROBE_OUT"
	log_tail | grep -qE 'DENIED (execve /tmp/t denied \(EACCES\)|/tmp/t denied: outside Policy.Files.Exec)'
}

@test "reads outside the read allow-list are denied" {
	husk_create_ok noetc probe '{"Timeout": 30, "Policy": {"Files": {"Read": ["/usr", "/bin",
		"/lib", "/lib64", "/var/task", "/proc", "/dev", "/tmp"]}}}'
	probe 'cat /etc/passwd 2>&1; echo "rc=$?"; head -c 3 /usr/share/common-licenses/GPL-2 | wc -c' noetc
	grep -q 'Permission denied' <<<"$PROBE_OUT"
	grep -q 'rc=1' <<<"$PROBE_OUT"
	[ "$(tail -1 <<<"$PROBE_OUT")" = 3 ]
	probe 'cat /etc/passwd >/dev/null; echo "rc=$?"'
	[ "$PROBE_OUT" = rc=0 ]
	husk_delete noetc
}

@test "BPF LSM file rules (skipped where BPF LSM does not load)" {
	if grep -q 'enforcement: BPF LSM NOT available' "$HUSK_LOG"; then
		skip "$(sed -n 's/.*enforcement: BPF LSM NOT available (\(.*\))/BPF LSM unavailable here: \1; Landlock is tested instead/p' "$HUSK_LOG" | head -1)"
	fi
	probe_tail 'cp /usr/bin/true /tmp/t; chmod +x /tmp/t; /tmp/t; echo "rc=$?"'
	grep -q 'rc=126' <<<"$PROBE_OUT"
	log_tail | grep -qF '/tmp/t denied: outside Policy.Files.Exec'
}

# ---------------------------------------------------------------- syscalls

@test "the default profile's denials are reported as denials" {
	probe_tail 'unshare -r true 2>&1; echo "rc=$?"'
	grep -q 'Operation not permitted' <<<"$PROBE_OUT"
	log_tail | grep -qF 'DENIED syscall unshare denied by the seccomp profile'
}

# getpriority (140 on x86-64): a syscall neither bash, curl nor jq makes.
@test "syscall rules: errno and kill actions on top of the default profile" {
	husk_create_ok sys13 probe '{"Timeout": 30, "Policy": {"Syscalls": {"Names": ["getpriority"],
		"Errno": 13}}}'
	probe_tail 'LC_ALL=C perl -e '\''$r = syscall(140, 0, 0); print "$r $!\n"'\''' sys13
	[ "$PROBE_OUT" = "-1 Permission denied" ]
	log_tail | grep -qF 'DENIED syscall getpriority denied by the seccomp profile'
	husk_create_ok syskill probe '{"Timeout": 30, "Policy": {"Syscalls": {"Names": ["getpriority"],
		"Action": "kill"}}}'
	probe 'LC_ALL=C perl -e '\''syscall(140, 0, 0); print "alive\n"'\''; echo "rc=$?"' syskill
	grep -q 'Bad system call' <<<"$PROBE_OUT"
	grep -qx 'rc=159' <<<"$PROBE_OUT" # 128 + SIGSYS
	refute grep -qx alive <<<"$PROBE_OUT"
	# The default profile still holds under extra rules.
	probe 'unshare -r true 2>&1; echo "rc=$?"' sys13
	grep -q 'Operation not permitted' <<<"$PROBE_OUT"
	# Other functions are unaffected.
	probe 'LC_ALL=C perl -e '\''$r = syscall(140, 0, 0); print $r >= 0 ? "ok\n" : "bad $!\n"'\'''
	[ "$PROBE_OUT" = ok ]
	husk_delete sys13
	husk_delete syskill
}

# ---------------------------------------------------------------- report

@test "the report counts syscalls, names the top ones, and counts processes" {
	probe 'for i in $(seq 200); do /usr/bin/true; done; cat /dev/null'
	syscalls=$(report_field Syscalls)
	total=${syscalls%% *}
	[ "$total" -gt 2000 ]
	[[ "$syscalls" == *"("*")" ]]
	[[ "$syscalls" == *execve* || "$syscalls" == *mmap* || "$syscalls" == *openat* ]]
	[ "$(report_field Processes)" -ge 200 ]
	[ "$(report_field Denials)" = 0 ]
	[ "$(report_field 'Lost Events')" = 0 ]
	[ "$(report_field 'Bytes Out')" = 0 ]
	# A quiet invocation counts far fewer (the probe itself runs curl and jq).
	probe 'true'
	syscalls=$(report_field Syscalls)
	[ "${syscalls%% *}" -lt "$total" ]
	[ "$(report_field Processes)" -lt 50 ]
}

# The cgroup ids in husk_envs, and the inode numbers of the env-* v2 groups.
map_cgids()
{
	local hex
	# The key is a little-endian u64, printed byte by byte.
	for hex in $(bpftool -j map dump pinned "$HUSK_BPFDIR/maps/husk_envs" |
		jq -r '.[].key | map(ltrimstr("0x")) | reverse | join("")'); do
		printf '%d\n' "0x$hex"
	done | sort -n
}

env_cgids()
{
	local parent
	parent=$(find /sys/fs/cgroup/unified /sys/fs/cgroup -maxdepth 3 -mindepth 1 -type d \
		-name "$HUSK_CGPARENT" 2>/dev/null | head -1)
	find "$parent" -mindepth 1 -maxdepth 1 -type d -name 'env-*' -printf '%i\n' | sort -n
}

@test "every environment is in the maps by its cgroup id, and leaves them when destroyed" {
	husk_create_ok shortlived probe '{"Timeout": 30}'
	probe true shortlived
	husk_wait_for 10 eval '[ "$(map_cgids)" = "$(env_cgids)" ]'
	[ "$(map_cgids | wc -l)" -ge 2 ]
	husk_delete shortlived
	husk_wait_for 10 eval '[ "$(map_cgids)" = "$(env_cgids)" ]'
}
