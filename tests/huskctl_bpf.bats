#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# huskctl's BPF objects: prog, map, link, cgroup (read from huskd's pins
# only, so they work while huskd is down), policy (read back from the maps)
# and feature, in text and JSON, checked against bpftool, stat and huskd's
# own API; and their errors.

load helpers

# An egress policy with a rule whose CIDR covers another's (one LPM entry
# then carries both), an IPv6 rule and an extra denied syscall. Nothing is
# ever sent to these documentation addresses.
POLICY='{"Network": {"Egress": [
	{"Cidr": "198.51.100.0/24", "Ports": "443", "Protocol": "tcp"},
	{"Cidr": "198.51.100.128/25", "Ports": "80-90", "Protocol": "udp"},
	{"Cidr": "2001:db8::/32", "Ports": "8000-8099"}]},
	"Syscalls": {"Names": ["getppid"]}}'

setup_file()
{
	husk_setup_file huskctl_bpf
	husk_create_ok probe probe "{\"Timeout\": 30, \"Policy\": $POLICY}"
	husk_create_ok idle probe \
		'{"Policy": {"Network": {"Egress": [{"Cidr": "192.0.2.0/24", "Ports": "8443"}]}}}'
	probe 'echo warm'
}

teardown_file()
{
	husk_teardown_file
}

teardown()
{
	husk_teardown_test
	if [ -n "${STATS_OLD:-}" ]; then
		echo "$STATS_OLD" >/proc/sys/kernel/bpf_stats_enabled
	fi
}

hctl()
{
	"$HUSK_BUILD/huskctl" -s "$HUSK_SOCK" -d "$HUSK_BPFDIR" "$@"
}

# The probe function's environment as huskd lists it (JSON).
probe_env()
{
	husk_api GET /husk/v1/envs
	jq -e '.Environments[] | select(.Function == "probe")' <<<"$HTTP_BODY"
}

# The v2 parent group of the environments: the directory above probe's.
v2_parent()
{
	dirname "$(probe_env | jq -r .CgroupPath)"
}

# run, expecting exit 1 and one line "huskctl: " matching REGEX.
fails_with()
{
	local re=$1
	shift
	run "$@"
	echo "status $status: $output"
	[ "$status" = 1 ]
	[ "${#lines[@]}" = 1 ]
	grep -qE -- "^huskctl: $re" <<<"$output"
}

# ---------------------------------------------------------------- prog

@test "prog show: every pinned program with its type, attach point and pin" {
	local parent n
	parent=$(v2_parent)
	n=$(find "$HUSK_BPFDIR/progs" "$HUSK_BPFDIR/lsm/progs" -type f 2>/dev/null | wc -l)
	[ "$n" -ge 15 ]
	run hctl prog show
	[ "$status" = 0 ]
	echo "$output"
	grep -qE '^[0-9]+: cgroup_sock_addr  name husk_connect4  tag [0-9a-f]{16}$' <<<"$output"
	grep -qxF "	attach cgroup_inet4_connect $parent (link $(bpftool -j link show pinned \
		"$HUSK_BPFDIR/links/husk_connect4" | jq .id))" <<<"$output"
	grep -qE '^	attach raw_tracepoint sys_enter \(link [0-9]+\)$' <<<"$output"
	grep -qxF "	pinned $HUSK_BPFDIR/progs/husk_connect4" <<<"$output"
	# The kernel keeps 15 bytes of a name; the BTF has all of it.
	grep -q 'name husk_skb_ingress ' <<<"$output"
	[ "$(grep -c '^[0-9]*: ' <<<"$output")" = "$n" ]
	if [ "$(cat /proc/sys/kernel/bpf_stats_enabled)" = 0 ]; then
		[ "$(grep -cxF '	run stats off (sysctl kernel.bpf_stats_enabled=1)' <<<"$output")" = "$n" ]
	fi
}

@test "prog show -j: stable keys, ids as bpftool says, attach points resolved" {
	local parent id
	parent=$(v2_parent)
	run hctl -j prog show
	[ "$status" = 0 ]
	jq -e --argjson n "$(find "$HUSK_BPFDIR/progs" -type f | wc -l)" 'length == $n' <<<"$output"
	jq -e 'all(.[]; keys == ["attach", "id", "name", "pinned", "run_cnt", "run_time_ns", "tag",
		"type"])' <<<"$output"
	id=$(bpftool -j prog show pinned "$HUSK_BPFDIR/progs/husk_connect4" | jq .id)
	jq -e --argjson id "$id" --arg p "$parent" --argjson cg "$(stat -c %i "$parent")" \
		'.[] | select(.name == "husk_connect4") | .id == $id and .type == "cgroup_sock_addr"
		and .attach.kind == "cgroup" and .attach.attach_type == "cgroup_inet4_connect"
		and .attach.cgroup == $p and .attach.cgroup_id == $cg' <<<"$output"
	jq -e '.[] | select(.name == "husk_sys_enter") | .type == "raw_tracepoint"
		and .attach == {"kind": "tracepoint", "tracepoint": "sys_enter", "link_id": .attach.link_id}' \
		<<<"$output"
	jq -e '.[] | select(.name == "husk_dev") | .attach.attach_type == "cgroup_device"' <<<"$output"
	# One program by its pinned name; an unknown name is an error.
	run hctl -p prog show husk_exec
	jq -e 'length == 1 and .[0].attach.tracepoint == "sched_process_exec"' <<<"$output"
	fails_with "no program husk_nope pinned in $HUSK_BPFDIR/progs" hctl prog show husk_nope
}

@test "prog show counts runs while kernel.bpf_stats_enabled is 1" {
	STATS_OLD=$(cat /proc/sys/kernel/bpf_stats_enabled)
	run hctl -j prog show husk_sys_enter
	if [ "$STATS_OLD" = 0 ]; then
		jq -e '.[0].run_cnt == null and .[0].run_time_ns == null' <<<"$output"
	fi
	echo 1 >/proc/sys/kernel/bpf_stats_enabled
	probe 'echo counted'
	run hctl -j prog show husk_sys_enter
	echo "$STATS_OLD" >/proc/sys/kernel/bpf_stats_enabled
	echo "$output"
	jq -e '.[0].run_cnt > 0 and .[0].run_time_ns > 0' <<<"$output"
	echo 1 >/proc/sys/kernel/bpf_stats_enabled
	run hctl prog list husk_sys_enter
	echo "$STATS_OLD" >/proc/sys/kernel/bpf_stats_enabled
	STATS_OLD=
	grep -qE '^	run_cnt [1-9][0-9]*  run_time_ns [1-9][0-9]*$' <<<"$output"
}

# ---------------------------------------------------------------- link

@test "link show: id, type, program, target and pin, as bpftool says" {
	local parent l
	parent=$(v2_parent)
	run hctl link show
	[ "$status" = 0 ]
	echo "$output"
	l=$(bpftool -j link show pinned "$HUSK_BPFDIR/links/husk_bind4")
	grep -qx "$(jq .id <<<"$l"): cgroup  prog $(jq .prog_id <<<"$l")" <<<"$output"
	grep -qxF "	target cgroup_inet4_bind $parent" <<<"$output"
	grep -qxF "	target raw_tracepoint sched_process_fork" <<<"$output"
	grep -qxF "	pinned $HUSK_BPFDIR/links/husk_bind4" <<<"$output"

	run hctl -j link show
	[ "$status" = 0 ]
	jq -e --argjson n "$(find "$HUSK_BPFDIR/links" -type f | wc -l)" 'length == $n' <<<"$output"
	jq -e 'all(.[]; keys == ["id", "pinned", "prog_id", "target", "type"])' <<<"$output"
	jq -e --argjson l "$l" --arg p "$parent" --argjson cg "$(stat -c %i "$parent")" \
		'.[] | select(.pinned | endswith("/husk_bind4")) | .id == $l.id
		and .prog_id == $l.prog_id and .type == "cgroup"
		and .target == {"kind": "cgroup", "attach_type": "cgroup_inet4_bind", "cgroup": $p,
				"cgroup_id": $cg}' <<<"$output"
	jq -e '[.[] | select(.type == "raw_tracepoint") | .target.tracepoint] | sort ==
		["mark_victim", "sched_process_exec", "sched_process_exit", "sched_process_fork",
		 "sys_enter", "sys_exit"]' <<<"$output"
	run hctl -j link list
	jq -e 'length > 10' <<<"$output"
}

# ---------------------------------------------------------------- map

@test "map show: type, sizes, max entries, flags, memlock and pin of every map" {
	run hctl map show
	[ "$status" = 0 ]
	echo "$output"
	grep -qE '^[0-9]+: hash  name husk_envs  flags 0x0$' <<<"$output"
	grep -qE '^	key 8B  value 80B  max_entries 1024  memlock [0-9]+B$' <<<"$output"
	grep -qE '^[0-9]+: lpm_trie  name husk_net4  flags 0x1$' <<<"$output"
	grep -qE '^[0-9]+: ringbuf  name husk_events' <<<"$output"
	grep -qxF "	pinned $HUSK_BPFDIR/maps/husk_counters" <<<"$output"

	run hctl -j map show
	[ "$status" = 0 ]
	jq -e 'length == 6 and all(.[]; keys == ["btf_id", "flags", "id", "key_size", "max_entries",
		"memlock", "name", "pinned", "type", "value_size"])' <<<"$output"
	jq -e --argjson id "$(bpftool -j map show pinned "$HUSK_BPFDIR/maps/husk_net6" | jq .id)" \
		'.[] | select(.name == "husk_net6") | .id == $id and .type == "lpm_trie"
		and .key_size == 28 and .value_size == 136 and .max_entries == 16384 and .memlock > 0' <<<"$output"
	jq -e '.[] | select(.name == "husk_counters") | .type == "array" and .flags == 1024' \
		<<<"$output"
	run hctl -j map list husk_events
	jq -e 'length == 1 and .[0].type == "ringbuf" and .[0].max_entries >= 4096' <<<"$output"
}

@test "map dump husk_net4: the allow-list as CIDRs, ports and protocols" {
	local cg
	cg=$(probe_env | jq .CgroupId)
	run hctl map dump husk_net4
	[ "$status" = 0 ]
	echo "$output"
	grep -qE "^cgroup $cg  198\.51\.100\.0/24 +tcp 443 \(rule 0\)$" <<<"$output"
	grep -qE "^cgroup $cg  198\.51\.100\.128/25 +tcp 443 \(rule 0\); udp 80-90 \(rule 1\)$" \
		<<<"$output"

	run hctl -j map dump husk_net4
	[ "$status" = 0 ]
	jq -e --argjson cg "$cg" '[.[] | select(.cgroup_id == $cg and .cidr == "198.51.100.0/24")]
		== [{"cgroup_id": $cg, "cidr": "198.51.100.0/24",
		     "rules": [{"ports": "443", "protocols": "tcp", "rule": 0}]}]' <<<"$output"
	jq -e --argjson cg "$cg" '.[] | select(.cgroup_id == $cg and .cidr == "198.51.100.128/25")
		| .rules == [{"ports": "443", "protocols": "tcp", "rule": 0},
			     {"ports": "80-90", "protocols": "udp", "rule": 1}]' <<<"$output"
	jq -e 'all(.[]; keys == ["cgroup_id", "cidr", "rules"])' <<<"$output"
}

@test "map dump husk_net6: IPv6 rules; any protocol is tcp,udp" {
	local cg
	cg=$(probe_env | jq .CgroupId)
	run hctl map dump husk_net6
	[ "$status" = 0 ]
	grep -qE "^cgroup $cg  2001:db8::/32 +tcp,udp 8000-8099 \(rule 2\)$" <<<"$output"
	run hctl -j map dump husk_net6
	jq -e --argjson cg "$cg" '.[] | select(.cgroup_id == $cg) | .cidr == "2001:db8::/32"
		and .rules == [{"ports": "8000-8099", "protocols": "tcp,udp", "rule": 2}]' \
		<<<"$output"
}

@test "map dump husk_envs (m d): slot, errno and the denied syscalls by name" {
	local env cg
	env=$(probe_env)
	cg=$(jq .CgroupId <<<"$env")
	run hctl m d husk_envs
	[ "$status" = 0 ]
	echo "$output"
	grep -qxF "cgroup $cg ($(jq -r .CgroupPath <<<"$env"))  slot $(jq .Slot <<<"$env")  flags 0x0  sys_errno 1" \
		<<<"$output" ||
		grep -qF "cgroup $cg ($(jq -r .CgroupPath <<<"$env"))  slot $(jq .Slot <<<"$env")  flags 0x1 (lsm_files)" \
			<<<"$output"
	grep -qE '^	denied syscalls: .*\bgetppid\b' <<<"$output"

	run hctl -j map dump husk_envs
	[ "$status" = 0 ]
	jq -e --argjson env "$env" '.[] | select(.cgroup_id == $env.CgroupId) |
		.slot == $env.Slot and .cgroup == $env.CgroupPath and .sys_errno == 1
		and (.denied_syscalls | index("getppid") and index("mount") and index("bpf"))
		and (.denied_syscalls | index("read") | not)' <<<"$output"
	jq -e 'all(.[]; keys == ["cgroup", "cgroup_id", "denied_syscalls", "flags", "slot",
		"sys_errno"])' <<<"$output"
	# Every environment huskd lists is in the map, spares too.
	husk_api GET /husk/v1/envs
	jq -e --argjson m "$output" '[.Environments[].CgroupId] - [$m[].cgroup_id] == []' \
		<<<"$HTTP_BODY"
}

@test "map dump husk_counters: only non-zero slots, syscalls by name" {
	husk_api GET /husk/v1/envs
	envs=$HTTP_BODY
	run hctl -j map dump husk_counters
	[ "$status" = 0 ]
	echo "$output" | head -c 2000
	jq -e 'length >= 1 and length <= 1024' <<<"$output"
	# Nothing all-zero, every syscall count non-zero and named.
	jq -e 'all(.[]; ([.rx_bytes, .tx_bytes, .file_opens, .execs, .forks, .denials,
		.lost_events] | add) + ([.syscalls[]] | add // 0) > 0)' <<<"$output"
	jq -e 'all(.[]; all(.syscalls | to_entries[]; .value > 0 and (.key | test("^[a-z_0-9]+$"))
		and (.key | test("^[0-9]+$") | not)))' <<<"$output"
	# A spare ran husk-init's set-up: its mounts are counted by name.
	jq -e 'any(.[]; .syscalls.mount > 0)' <<<"$output"
	# Slots name their environment, as huskd does.
	jq -e --argjson e "$envs" 'all(.[] | select(.cgroup_id != null); . as $c |
		any($e.Environments[]; .Slot == $c.slot and .CgroupId == $c.cgroup_id))' <<<"$output"
	run hctl map dump husk_counters
	[ "$status" = 0 ]
	grep -qE '^slot [0-9]+ \(cgroup [0-9]+\)$' <<<"$output"
	grep -qE '^	syscalls: .*\bmount [1-9]' <<<"$output"
}

@test "map dump husk_events: a ring buffer cannot be dumped" {
	fails_with 'husk_events is a ring buffer: .* cannot be dumped' hctl map dump husk_events
	fails_with 'husk_events is a ring buffer' hctl -j map dump husk_events
}

@test "map dump NAME raw: keys and values by their BTF field names" {
	local cg
	cg=$(probe_env | jq .CgroupId)
	run hctl -j map dump husk_envs raw
	[ "$status" = 0 ]
	jq -e --argjson cg "$cg" '.[] | select(.key == $cg) | .value | keys ==
		["flags", "pad", "slot", "sys_denied", "sys_errno"]
		and (.sys_denied | length) == 8' <<<"$output"
	run hctl -j map dump husk_net4 raw
	# prefixlen counts the cgroup id's 64 bits; the id is two words, high first.
	jq -e --argjson cg "$cg" '.[] | select(.key.cgid == [0, $cg] and .key.prefixlen == 88)
		| .value.n == 1 and .value.r[0] == {"port_lo": 443, "port_hi": 443, "protocols": 1,
		"pad": 0, "rule": 0}' <<<"$output"
	run hctl map dump husk_envs raw
	grep -qE "^key: $cg  value: \{\"slot\":[0-9]+," <<<"$output"
	# husk_fs is only written when BPF LSM enforces files.
	run hctl -j feature probe
	if jq -e '.bpf_lsm.enabled == false' <<<"$output"; then
		run hctl map dump husk_fs
		[ "$output" = "husk_fs: no entries" ]
		run hctl -j map dump husk_fs raw
		[ "$output" = "[]" ]
	fi
}

@test "map dump: unknown map, missing name and bad arguments" {
	fails_with "no map husk_nope pinned in $HUSK_BPFDIR/maps" hctl map dump husk_nope
	fails_with 'usage: huskctl map dump NAME \[raw\]' hctl map dump
	fails_with 'usage: huskctl map dump NAME \[raw\]' hctl map dump husk_envs cooked
	fails_with "bad map name" hctl map dump ../maps/husk_envs
}

# ---------------------------------------------------------------- cgroup

@test "cgroup tree: the parent's programs, every environment, inherited" {
	local parent n_links env
	parent=$(v2_parent)
	n_links=$(for l in "$HUSK_BPFDIR"/links/*; do bpftool -j link show pinned "$l"; done |
		jq -s '[.[] | select(.type == "cgroup")] | length')
	run hctl cgroup tree
	[ "$status" = 0 ]
	echo "$output"
	[ "${lines[0]}" = CgroupPath ]
	grep -qxF "$parent  (cgroup id $(stat -c %i "$parent"))" <<<"$output"
	grep -qE '^    [0-9]+ +cgroup_inet4_connect +multi +husk_connect4$' <<<"$output"
	grep -qE '^    [0-9]+ +cgroup_device +multi +husk_dev$' <<<"$output"
	for env in $(find "$parent" -mindepth 1 -maxdepth 1 -type d -name 'env-*'); do
		grep -qxF "$env  (cgroup id $(stat -c %i "$env"))" <<<"$output"
	done
	grep -qxF "    no programs of its own: $n_links programs inherited from parent" <<<"$output"

	run hctl -j cgroup tree
	[ "$status" = 0 ]
	jq -e --arg p "$parent" --argjson n "$n_links" '.[0].cgroup == $p and .[0].env == false
		and (.[0].programs | length) == $n and .[0].inherited == []' <<<"$output"
	jq -e 'all(.[]; keys == ["cgroup", "cgroup_id", "env", "inherited", "programs"])' <<<"$output"
	jq -e --argjson n "$n_links" 'all(.[] | select(.env); .programs == []
		and (.inherited | length) == $n)' <<<"$output"
	jq -e --argjson n "$(find "$parent" -mindepth 1 -maxdepth 1 -type d -name 'env-*' | wc -l)" \
		'[.[] | select(.env)] | length == $n' <<<"$output"
	jq -e --argjson id "$(bpftool -j prog show pinned "$HUSK_BPFDIR/progs/husk_bind6" | jq .id)" \
		'.[0].programs[] | select(.name == "husk_bind6") | .id == $id
		and .attach_type == "cgroup_inet6_bind" and .attach_flags == "multi"' <<<"$output"
}

@test "cgroup tree ROOT: from one environment; ROOT must be a cgroup v2 directory" {
	local path
	path=$(probe_env | jq -r .CgroupPath)
	run hctl -j cgroup tree "$path"
	[ "$status" = 0 ]
	jq -e --arg p "$path" 'length == 1 and .[0].cgroup == $p and .[0].env' <<<"$output"
	run hctl cgroup tree "$path"
	grep -qF "$path  (cgroup id $(stat -c %i "$path"))" <<<"$output"
	fails_with '/tmp is not a cgroup v2 directory' hctl cgroup tree /tmp
	fails_with "cannot open cgroup $(v2_parent)/no-such-group" \
		hctl cgroup tree "$(v2_parent)/no-such-group"
}

# ---------------------------------------------------------------- feature

@test "feature probe: this host meets husk's requirements; huskd says what it uses" {
	run hctl feature probe
	echo "$output"
	[ "$status" = 0 ]
	grep -qxE '  BTF +yes \(/sys/kernel/btf/vmlinux\)' <<<"$output"
	grep -qxE '  ring buffer maps +yes' <<<"$output"
	grep -qxE '  Landlock +ABI [1-9][0-9]*' <<<"$output"
	grep -qE '^  BPF LSM +(yes|no: .*\(huskd.s probe\))' <<<"$output"
	grep -qE '^    Files +(BPF LSM|Landlock)' <<<"$output"
	[ "${lines[-1]}" = "Requirements: met" ]

	run hctl -j feature probe
	[ "$status" = 0 ]
	jq -e '.root and .btf and .ringbuf and .bpffs and .user_namespaces and .landlock_abi >= 1
		and .requirements_met and .missing == []' <<<"$output"
	jq -e '.bpf_lsm.enabled == .huskd.BpfLsm.Enabled and .cgroup.mode == .huskd.CgroupMode
		and .landlock_abi == .huskd.LandlockAbi' <<<"$output"
	jq -e --arg v2 "$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)" \
		'.cgroup.v2 == $v2' <<<"$output"
	if [ -e /dev/kvm ]; then
		jq -e '.kvm.present and (.kvm.kind == "hardware" or .kvm.kind == "nested/emulated")' \
			<<<"$output"
	else
		jq -e '.kvm == {"present": false, "kind": null, "nested_param": null}' <<<"$output"
	fi
	if grep -qw hypervisor /proc/cpuinfo && [ -e /dev/kvm ]; then
		jq -e '.kvm.kind == "nested/emulated"' <<<"$output"
	fi
}

@test "feature probe without huskd: BPF LSM unknown, the rest probed here" {
	run "$HUSK_BUILD/huskctl" -s /nonexistent/huskd.sock feature probe
	echo "$output"
	[ "$status" = 0 ]
	grep -qxE "  BPF LSM +unknown: huskd not running \(the probe is huskd's\); LSM list: .*" \
		<<<"$output"
	grep -qxE '  Landlock +ABI [1-9][0-9]*' <<<"$output"
	run "$HUSK_BUILD/huskctl" -j -s /nonexistent/huskd.sock feature probe
	jq -e '.bpf_lsm.enabled == null and .huskd == null and .requirements_met' <<<"$output"
}

# ---------------------------------------------------------------- policy

@test "policy show ENV: the egress allow-list, files and syscalls as enforced" {
	local env name id
	env=$(probe_env)
	name=$(jq -r .Name <<<"$env")
	id=$(jq -r .Id <<<"$env")
	run hctl policy show "$name"
	[ "$status" = 0 ]
	echo "$output"
	grep -qxF "$name (function probe, cgroup id $(jq .CgroupId <<<"$env"), slot $(jq .Slot <<<"$env")): read back from husk's maps" \
		<<<"$output"
	grep -qE '^Network \(cgroup BPF' <<<"$output"
	grep -qxE '    198\.51\.100\.0/24 +tcp 443 \(rule 0\)' <<<"$output"
	grep -qxE '    2001:db8::/32 +tcp,udp 8000-8099 \(rule 2\)' <<<"$output"
	grep -qxF '  bind:     loopback addresses only' <<<"$output"
	grep -qE '^  denied with errno 1 \(EPERM\): .*\bgetppid\b' <<<"$output"
	grep -qE '^Syscalls \(seccomp\)$' <<<"$output"

	run hctl -j policy show "$id"
	[ "$status" = 0 ]
	jq -e 'keys == ["cgroup", "cgroup_id", "env", "files", "function", "id", "network", "slot",
		"source", "syscalls"] and .source == "maps" and .function == "probe"' <<<"$output"
	jq -e --argjson env "$env" '.cgroup_id == $env.CgroupId and .cgroup == $env.CgroupPath
		and .slot == $env.Slot and .env == $env.Name' <<<"$output"
	jq -e '.network.egress[] | select(.cidr == "198.51.100.128/25") | .rules ==
		[{"ports": "443", "protocols": "tcp", "rule": 0},
		 {"ports": "80-90", "protocols": "udp", "rule": 1}]' <<<"$output"
	jq -e '(.network.egress | length) == 3 and .network.sockets == ["tcp", "udp", "unix"]' \
		<<<"$output"
	jq -e '.syscalls.engine == "seccomp" and .syscalls.errno == 1
		and (.syscalls.denied | index("getppid"))' <<<"$output"
	husk_api GET /husk/v1/features
	if jq -e '.BpfLsm.Enabled == false' <<<"$HTTP_BODY"; then
		husk_api GET "$HUSK_API/probe/configuration"
		jq -e --argjson c "$HTTP_BODY" '.files.source == "configuration"
			and (.files.note | startswith("enforced by Landlock in the environment"))
			and .files.read == $c.Policy.Files.Read and .files.exec == $c.Policy.Files.Exec
			and (.files.engine | startswith("Landlock ABI"))' <<<"$output"
		run hctl policy show "env-$id"
		grep -qxF "  enforced by Landlock in the environment; the ruleset cannot be read back: the function's configured Files" \
			<<<"$output"
	fi
}

@test "policy show FN: its environments; without any, the configuration, marked" {
	run hctl -j policy show probe
	[ "$status" = 0 ]
	jq -e '.function == "probe" and .enforced and (.environments | length) >= 1
		and all(.environments[]; .function == "probe" and .source == "maps")' <<<"$output"
	run hctl policy show probe
	grep -qE '^env-[0-9]+ \(function probe, ' <<<"$output"

	run hctl policy show idle
	[ "$status" = 0 ]
	echo "$output"
	[ "${lines[0]}" = "no environment of idle is running: nothing is loaded" ]
	[ "${lines[1]}" = "Configured policy of idle (configured, not enforced)" ]
	grep -qxE '    192\.0\.2\.0/24 +any 8443 \(rule 0\)' <<<"$output"
	run hctl -j policy show idle
	[ "$status" = 0 ]
	jq -e '.enforced == false and .environments == [] and
		.configured.Network.Egress == [{"Cidr": "192.0.2.0/24", "Ports": "8443",
		"Protocol": "any"}]' <<<"$output"
}

@test "policy show: unknown environment and unknown function" {
	fails_with 'unknown environment env-99999 ' hctl policy show env-99999
	fails_with '/2015-03-31/functions/nosuch/configuration: Function not found' \
		hctl policy show nosuch
	fails_with 'usage: huskctl policy show ENV\|FUNCTION' hctl policy show
	# A name becomes part of an API path: nothing but a function name gets there.
	fails_with "bad function name '../../husk/v1/envs'" hctl policy show ../../husk/v1/envs
}

# ---------------------------------------------------------------- errors

@test "prefixes (the first match, as in bpftool), unknown objects and commands" {
	run hctl pr s
	[ "$status" = 0 ]
	[ "$output" = "$(hctl prog show)" ]
	run hctl -j m d husk_envs
	[ "$status" = 0 ]
	jq -e 'length >= 1' <<<"$output"
	run hctl c t
	[ "$status" = 0 ]
	[ "${lines[0]}" = CgroupPath ]
	run hctl fe p
	[ "$status" = 0 ]
	# "p" is a prefix of prog and policy: the first in the table, prog, as bpftool does.
	run hctl p s
	[ "$status" = 0 ]
	[ "$output" = "$(hctl prog show)" ]
	fails_with "unknown command 'frob'" hctl map frob
	fails_with "unknown command 'frob'" hctl prog frob
	fails_with "unknown command 'frob'" hctl link frob
	fails_with "unknown command 'frob'" hctl cgroup frob
	fails_with "unknown command 'frob'" hctl feature frob
	fails_with "unknown command 'frob'" hctl policy frob
	run hctl map help
	[ "$status" = 0 ]
	grep -qF 'huskctl map dump NAME [raw]' <<<"$output"
}

@test "a missing pin directory is a one-line error for every BPF object" {
	local d=/sys/fs/bpf/husk-no-such-dir-$$ cmd
	for cmd in "prog show" "link show" "map show" "map dump husk_envs" "cgroup tree" \
		"policy show probe"; do
		# shellcheck disable=SC2086
		fails_with "no husk pins in $d: is huskd running with --bpf-dir $d\\?" \
			"$HUSK_BUILD/huskctl" -s "$HUSK_SOCK" -d "$d" $cmd
	done
}

@test "not root: BPF objects are refused; feature probe says root is missing" {
	local dir
	dir=$(mktemp -d /tmp/husk-nonroot.XXXXXX)
	chmod 755 "$dir"
	cp "$HUSK_BUILD/huskctl" "$dir/"
	run setpriv --reuid=65534 --regid=65534 --clear-groups "$dir/huskctl" -d "$HUSK_BPFDIR" \
		prog show
	local prog_status=$status prog_output=$output
	run setpriv --reuid=65534 --regid=65534 --clear-groups "$dir/huskctl" -s "$HUSK_SOCK" \
		-j feature probe
	rm -rf "$dir"
	[ "$prog_status" = 1 ]
	[ "$prog_output" = "huskctl: must run as root (husk's BPF objects and huskd's socket are root's)" ]
	[ "$status" = 1 ]
	[ "${lines[-1]}" = "huskctl: this host does not meet husk's requirements: missing root" ]
	jq -e '.root == false and .missing == ["root"] and .requirements_met == false' <<<"${lines[0]}"
}

# ---------------------------------------------------------------- huskd down

@test "prog, map, link and cgroup work while huskd is down; policy says it is away" {
	local cg
	cg=$(probe_env | jq .CgroupId)
	husk_daemon_stop KILL
	# The pins outlive a killed huskd: read them.
	run hctl -j prog show
	[ "$status" = 0 ]
	jq -e 'length >= 15 and any(.[]; .attach.attach_type == "cgroup_inet4_connect")' <<<"$output"
	run hctl -j link show
	[ "$status" = 0 ]
	jq -e 'length >= 15' <<<"$output"
	run hctl map show
	[ "$status" = 0 ]
	grep -q 'name husk_net4' <<<"$output"
	run hctl map dump husk_net4
	[ "$status" = 0 ]
	grep -qE "^cgroup $cg  198\.51\.100\.0/24 +tcp 443 \(rule 0\)$" <<<"$output"
	run hctl -j cgroup tree
	[ "$status" = 0 ]
	jq -e '.[0].programs | length >= 10' <<<"$output"
	run hctl feature probe
	[ "$status" = 0 ]
	grep -qE "BPF LSM +unknown: huskd not running" <<<"$output"
	fails_with "huskd is not reachable" hctl policy show probe
	# A new huskd replaces the pins, so that teardown finds everything clean.
	husk_daemon_start
	grep -q "removing the pins of an earlier run in $HUSK_BPFDIR" "$HUSK_LOG"
	run hctl -j prog show
	[ "$status" = 0 ]
}
