#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Egress networking, tried from inside environments: a policy with egress
# gets a veth routed through the host and masqueraded; the cgroup BPF
# programs decide address, port and protocol; nftables keeps environments
# from each other and from the host's own services. The only peers are a
# test host in a network namespace this file creates (198.18.0.2, behind a
# veth from the root namespace) and listeners this file starts.

load helpers

TH_NS=
TH_ADDR=198.18.0.2
TH_GW=198.18.0.1

# A TCP server that answers every connection with the peer's address, and a
# UDP one that echoes datagrams: the test host's services.
start_test_host()
{
	TH_NS=husk-th-$BATS_ROOT_PID
	TH_IF=hth$((BATS_ROOT_PID % 100000))
	ip netns add "$TH_NS"
	ip link add "$TH_IF" type veth peer name eth0 netns "$TH_NS"
	ip addr add "$TH_GW/30" dev "$TH_IF"
	ip link set "$TH_IF" up
	ip -n "$TH_NS" addr add "$TH_ADDR/30" dev eth0
	ip -n "$TH_NS" link set eth0 up
	ip -n "$TH_NS" link set lo up
	ip netns exec "$TH_NS" python3 -c '
import socket, threading
def udp():
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("0.0.0.0", 53))
    while True:
        d, a = u.recvfrom(512); u.sendto(b"dns:" + d, a)
threading.Thread(target=udp, daemon=True).start()
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("0.0.0.0", 8080)); l.listen(16)
while True:
    c, a = l.accept(); c.recv(4096); c.sendall(("from %s\n" % a[0]).encode()); c.close()
' >/dev/null 2>&1 &
	TH_PID=$!
	export TH_NS TH_IF TH_PID
	husk_wait_for 10 eval 'ip netns exec "$TH_NS" ss -ltn | grep -q ":8080 "'
}

stop_test_host()
{
	[ -n "${TH_PID:-}" ] && kill "$TH_PID" 2>/dev/null
	[ -n "${TH_PID:-}" ] && wait "$TH_PID" 2>/dev/null
	[ -n "${TH_NS:-}" ] && ip netns del "$TH_NS" 2>/dev/null
	[ -n "${TH_IF:-}" ] && ip link del "$TH_IF" 2>/dev/null
	return 0
}

setup_file()
{
	start_test_host
	husk_setup_file egress --dns "$TH_ADDR"
	husk_create_ok out probe '{"Timeout": 30, "Policy": {"Network": {"Dns": true, "Egress": [
		{"Cidr": "'"$TH_ADDR"'/32", "Ports": "8080", "Protocol": "tcp"},
		{"Cidr": "100.72.0.0/16", "Protocol": "tcp"}]}}}'
	husk_create_ok out2 probe '{"Timeout": 30, "Policy": {"Network": {"Egress": [
		{"Cidr": "100.72.0.0/16", "Protocol": "tcp"}]}}}'
	husk_create_ok hostok probe '{"Timeout": 30, "Policy": {"Network": {"AllowHost": true,
		"Egress": [{"Cidr": "100.72.0.0/16", "Protocol": "tcp"}]}}}'
	husk_create_ok local probe '{"Timeout": 30}'
}

teardown_file()
{
	local rc=0 pid
	# The host listener of the AllowHost test, by the pid it left.
	if pid=$(cat "$BATS_FILE_TMPDIR/host.pid" 2>/dev/null); then
		kill "$pid" 2>/dev/null
	fi
	husk_teardown_file || rc=1
	stop_test_host
	return "$rc"
}

teardown()
{
	husk_teardown_test
}

# The environment's own address, on its eth0.
env_addr_of()
{
	probe "ip -4 -o addr show dev eth0 | awk '{ print \$4 }'" "$1"
	ENV_ADDR=${PROBE_OUT%/*}
	[[ "$ENV_ADDR" == 100.72.* ]]
}

@test "allowed egress reaches the test host, masqueraded" {
	probe "curl --http0.9 -sS -m 10 http://$TH_ADDR:8080/" out
	[ "$PROBE_OUT" = "from $TH_GW" ]
	# The environment has a veth and a default route, nothing more.
	probe 'python3 -c "import socket; print(sorted(n for _, n in socket.if_nameindex()))"' out
	[ "$PROBE_OUT" = "['eth0', 'lo']" ]
	ip -o link show | grep -q ': hsk[0-9]*@'
}

@test "a disallowed port or address gets EPERM and a denial naming the rule" {
	husk_invoke out "$(jq -nc --arg c "curl -sS -m 5 http://$TH_ADDR:8081/ 2>&1; echo rc=\$?;
		curl -sS -m 5 http://$TH_GW:8080/ 2>&1; echo rc=\$?" '{cmd: $c}')" \
		-H 'X-Amz-Log-Type: Tail'
	out=$(jq -r .out <<<"$HTTP_BODY")
	echo "$out"
	[ "$(grep -c 'rc=7' <<<"$out")" = 2 ]
	log=$(husk_header X-Amz-Log-Result | base64 -d)
	echo "$log"
	grep -qF "DENIED connect $TH_ADDR:8081/tcp denied: Policy.Network.Egress[0] covers the address but not this port/protocol" <<<"$log"
	grep -qF "DENIED connect $TH_GW:8080/tcp denied: no Policy.Network.Egress rule allows it" <<<"$log"
	husk_report | grep -q 'Denials: 2'
}

@test "DNS reaches huskd's DNS servers when the policy says so, and not otherwise" {
	probe 'cat /etc/resolv.conf; python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(5)
s.sendto(b\"q\", (\"'"$TH_ADDR"'\", 53)); print(s.recv(64).decode())"' out
	grep -qx "nameserver $TH_ADDR" <<<"$PROBE_OUT"
	grep -qx 'dns:q' <<<"$PROBE_OUT"
	probe 'python3 -c "
import socket, errno
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    s.sendto(b\"q\", (\"'"$TH_ADDR"'\", 53)); print(\"sent\")
except OSError as e: print(errno.errorcode[e.errno])"' out2
	[ "$PROBE_OUT" = EPERM ]
}

@test "the report counts bytes in and out of the environment" {
	probe "curl --http0.9 -sS -m 10 -o /dev/null http://$TH_ADDR:8080/ && echo ok" out
	[ "$PROBE_OUT" = ok ]
	in=$(husk_report | tr '\t' '\n' | sed -n 's/^Bytes In: //p')
	out=$(husk_report | tr '\t' '\n' | sed -n 's/^Bytes Out: //p')
	[ "$in" -gt 0 ]
	[ "$out" -gt 0 ]
}

@test "environments cannot reach each other" {
	env_addr_of out2
	b=$ENV_ADDR
	# out may connect to the pool by policy; nftables drops it on the way:
	# a timeout (curl 28), not a refusal from the other environment's kernel.
	probe "curl -sS -m 3 http://$b:9001/ 2>&1; echo rc=\$?" out
	grep -q 'rc=28' <<<"$PROBE_OUT"
}

@test "the host's own services are unreachable unless AllowHost" {
	python3 -c '
import socket
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("0.0.0.0", 18099)); l.listen(8)
while True:
    c, a = l.accept(); c.recv(4096); c.sendall(b"host\n"); c.close()
' 3>&- &
	echo $! >"$BATS_FILE_TMPDIR/host.pid"
	husk_wait_for 10 eval 'ss -ltn | grep -q ":18099 "'
	env_addr_of out2
	gw=${ENV_ADDR%.*}.$((${ENV_ADDR##*.} - 1))
	probe "curl -sS -m 3 http://$gw:18099/ 2>&1; echo rc=\$?" out2
	grep -q 'rc=28' <<<"$PROBE_OUT"
	env_addr_of hostok
	gw=${ENV_ADDR%.*}.$((${ENV_ADDR##*.} - 1))
	probe "curl --http0.9 -sS -m 10 http://$gw:18099/" hostok
	[ "$PROBE_OUT" = host ]
}

@test "without egress the environment keeps its loopback-only namespace" {
	probe 'python3 -c "import socket; print(sorted(n for _, n in socket.if_nameindex()))"' local
	[ "$PROBE_OUT" = "['lo']" ]
}

@test "veths and their nftables set entries go with their environments" {
	[ -n "$(ip -o link show | grep ': hsk[0-9]*@')" ]
	for f in out out2 hostok; do
		husk_delete "$f"
	done
	husk_wait_for 10 eval '! ip -o link show | grep -q ": hsk[0-9]*@"'
	nft -j list set ip husk allow_host | jq -e '[.nftables[].set.elem // empty] | length == 0'
}
