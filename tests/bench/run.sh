#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: measure huskd against a bubblewrap baseline in the same run and
# print the tables (tests/bench/report.c). Every huskd started here is private:
# its own state and run directories under one temporary directory, its own
# Unix socket, a free loopback port and its own cgroup parent. Nothing is sent
# off loopback; processes are stopped by pid.
#
# Sample counts (environment):
#   BENCH_WARM=20000     timed warm invocations per configuration
#   BENCH_WARMUP=500     untimed warm invocations before them
#   BENCH_COLD=200       cold starts per configuration (each a new function)
#   BENCH_IDLE="0 100 1000"   idle environment counts for the memory figures
#   BENCH_BASE_IDLE      idle bwrap sandboxes (default: BENCH_IDLE)
#   BENCH_PARALLEL=4     connections used to create functions
#   BENCH_SETTLE_MS=2000 wait before each memory snapshot
#   BENCH_PIDS_MAX=16    huskd --pids-max of the idle run
#   BENCH_CPU=0          the CPU of the pinned runs
#   BWRAP=/usr/bin/bwrap
#   BENCH_LOOPS_N=200000 iterations of each enforcement loop (enforce.sh)
#   BENCH_RINGBUF_RATE=500000  events/s offered in the paced ring-buffer run
#   BENCH_ONLY=enforce   only the enforcement and ring-buffer figures
#   BENCH_RESULTS=FILE   also keep the raw "key value" figures there
set -euo pipefail

: "${HUSK_BUILD:?HUSK_BUILD must be the build directory (run through make bench)}"
: "${HUSK_SRC:?HUSK_SRC must be the source directory (run through make bench)}"

BENCH_WARM=${BENCH_WARM:-20000}
BENCH_WARMUP=${BENCH_WARMUP:-500}
BENCH_COLD=${BENCH_COLD:-200}
BENCH_IDLE=${BENCH_IDLE:-"0 100 1000"}
BENCH_BASE_IDLE=${BENCH_BASE_IDLE:-$BENCH_IDLE}
BENCH_PARALLEL=${BENCH_PARALLEL:-4}
BENCH_SETTLE_MS=${BENCH_SETTLE_MS:-2000}
BENCH_PIDS_MAX=${BENCH_PIDS_MAX:-16}
BENCH_CPU=${BENCH_CPU:-0}
BWRAP=${BWRAP:-/usr/bin/bwrap}
# How long huskd may take to stop: destroying an environment takes milliseconds.
STOP_TIMEOUT_S=${STOP_TIMEOUT_S:-30}

bench=$HUSK_BUILD/tests/bench/husk-bench
huskd=$HUSK_BUILD/huskd
init=$HUSK_BUILD/husk-init
bootstrap=$HUSK_BUILD/tests/functions/minimal/bootstrap

die() {
	echo "bench: $*" >&2
	exit 1
}

[ "$(id -u)" = 0 ] || die "must run as root: huskd creates namespaces and cgroups"
for f in "$bench" "$huskd" "$init" "$bootstrap"; do
	[ -x "$f" ] || die "$f is missing; build with make all first"
done
[ -x "$BWRAP" ] || die "$BWRAP is missing: the baseline needs Debian's bubblewrap"
command -v zip >/dev/null || die "zip is missing: it packs the minimal function"

tmp=$(mktemp -d /tmp/husk-bench.XXXXXX)
# A jail's user namespace must be able to reach the run directory below.
chmod 0755 "$tmp"
results=$tmp/results
: >"$results"
started=$SECONDS

# The huskd running now (one at a time) and every cgroup parent used.
huskd_pid=
huskd_name=
cg_parents=()
# The log that explains a failure of the step running now.
phase_log=

# Pids listed in a group's cgroup.procs: every one is below a huskd of ours.
kill_group_procs() {
	local procs=$1/cgroup.procs pid

	[ -r "$procs" ] || return 0
	while read -r pid; do
		kill -KILL "$pid" 2>/dev/null || true
	done <"$procs"
}

# What a huskd left behind in its cgroup parent (a product bug, reported).
remove_leftover_groups() {
	local parent=$1 dirs d
	mapfile -t dirs < <(find /sys/fs/cgroup -mindepth 2 -maxdepth 8 -type d \
		\( -path "*/$parent" -o -path "*/$parent/*" \) 2>/dev/null | sort -r)
	[ "${#dirs[@]}" -gt 0 ] || return 0
	echo "bench: warning: huskd left ${#dirs[@]} cgroup directories of $parent behind;" \
		"removing them" >&2
	for d in "${dirs[@]}"; do
		# Frozen v1 tasks do not die of SIGKILL until thawed.
		if [ -w "$d/freezer.state" ]; then
			echo THAWED >"$d/freezer.state" 2>/dev/null || true
		fi
		kill_group_procs "$d"
	done
	sleep 0.2
	for d in "${dirs[@]}"; do
		rmdir "$d" 2>/dev/null || echo "bench: cannot remove $d" >&2
	done
}

stop_huskd() {
	local pid=$huskd_pid waited=0

	[ -n "$pid" ] || return 0
	huskd_pid=
	kill -TERM "$pid" 2>/dev/null || true
	while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt $((STOP_TIMEOUT_S * 10)) ]; do
		sleep 0.1
		waited=$((waited + 1))
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "bench: warning: huskd ($huskd_name, pid $pid) did not stop within" \
			"${STOP_TIMEOUT_S}s of SIGTERM; killing it" >&2
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
	remove_leftover_groups "husk-bench-$$-$huskd_name"
}

cleanup() {
	local rc=$? p

	trap - EXIT
	if [ "$rc" != 0 ] && [ -s "$phase_log" ]; then
		echo "bench: errors and last lines of $phase_log:" >&2
		grep -E ' (error|warn): ' "$phase_log" | head -n 20 >&2 || true
		tail -n 10 "$phase_log" >&2
	fi
	stop_huskd
	for p in "${cg_parents[@]}"; do
		remove_leftover_groups "$p"
	done
	rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_huskd NAME [huskd options]: sets huskd_pid, tcp, unix, parent.
start_huskd() {
	local name=$1 dir=$tmp/$1 port _
	shift

	mkdir -p "$dir/state" "$dir/run"
	port=$("$bench" free-port)
	parent=husk-bench-$$-$name
	cg_parents+=("$parent")
	huskd_name=$name
	phase_log=$dir/huskd.log
	"$huskd" --state-dir "$dir/state" --run-dir "$dir/run" --socket "$dir/huskd.sock" \
		--listen "127.0.0.1:$port" --cgroup-parent "$parent" --init "$init" \
		--bpf-dir "/sys/fs/bpf/$parent" "$@" \
		2>"$dir/huskd.log" &
	huskd_pid=$!
	for _ in $(seq 100); do
		grep -q ' ready: ' "$dir/huskd.log" && break
		kill -0 "$huskd_pid" 2>/dev/null || die "huskd ($name) exited at start"
		sleep 0.1
	done
	grep -q ' ready: ' "$dir/huskd.log" || die "huskd ($name) not ready after 10 s"
	tcp=tcp:127.0.0.1:$port
	unix=unix:$dir/huskd.sock
}

step() {
	printf 'bench: %-60s [%3ds]\n' "$*" $((SECONDS - started)) >&2
}

# The minimal function, as a Lambda zip (base64) and as a code directory.
mkdir "$tmp/code"
cp "$bootstrap" "$tmp/code/bootstrap"
(cd "$tmp/code" && zip -q -X "$tmp/minimal.zip" bootstrap)
base64 -w0 "$tmp/minimal.zip" >"$tmp/minimal.zip.b64"
zip64=$tmp/minimal.zip.b64

base_args=(--bwrap "$BWRAP" --init "$init" --code "$tmp/code" --log "$tmp/bwrap.log"
	--out "$results")
warm_args=(--zip-b64 "$zip64" --count "$BENCH_WARM" --warmup "$BENCH_WARMUP" --out "$results")
cold_args=(--zip-b64 "$zip64" --count "$BENCH_COLD" --parallel "$BENCH_PARALLEL"
	--out "$results")

# measure_baseline PIN: bwrap + husk-init warm and cold, right before huskd in
# the same placement, so that both see the machine in the same state.
measure_baseline() {
	local pin=$1 cpu=()

	[ "$pin" = pinned ] && cpu=(--cpu "$BENCH_CPU")
	step "baseline: bwrap + husk-init, warm and cold, $pin"
	phase_log=$tmp/bwrap.log
	"$bench" base-warm "${base_args[@]}" "${cpu[@]}" --count "$BENCH_WARM" \
		--warmup "$BENCH_WARMUP" --key "base.warm.$pin"
	"$bench" base-cold "${base_args[@]}" "${cpu[@]}" --count "$BENCH_COLD" \
		--key "base.cold.$pin"
}

# measure_huskd NAME MODE PIN [huskd options]: warm over TCP and Unix, then cold.
measure_huskd() {
	local name=$1 mode=$2 pin=$3 cpu=()
	shift 3

	[ "$pin" = pinned ] && cpu=(--cpu "$BENCH_CPU")
	step "huskd $* : warm, $mode, $pin"
	start_huskd "$name" "$@"
	"$bench" warm "${warm_args[@]}" "${cpu[@]}" --endpoint "$tcp" --function warm-tcp \
		--key "husk.warm.$pin.$mode.tcp"
	"$bench" warm "${warm_args[@]}" "${cpu[@]}" --endpoint "$unix" --function warm-unix \
		--key "husk.warm.$pin.$mode.unix"
	if [ "$mode" = freeze ]; then
		step "huskd $* : cold, $pin"
		"$bench" cold "${cold_args[@]}" "${cpu[@]}" --endpoint "$tcp" --prefix cold \
			--key "husk.cold.$pin"
	fi
	stop_huskd
}

# shellcheck source=tests/bench/enforce.sh
. "$HUSK_SRC/tests/bench/enforce.sh"
if [ "${BENCH_ONLY:-}" != enforce ]; then
measure_baseline unpinned
measure_huskd unpinned freeze unpinned
measure_baseline pinned
measure_huskd pinned freeze pinned --cpu "$BENCH_CPU"
measure_huskd nofreeze nofreeze unpinned --no-freeze
measure_huskd nofreeze-pinned nofreeze pinned --no-freeze --cpu "$BENCH_CPU"

step "huskd --pids-max $BENCH_PIDS_MAX : idle environments ($BENCH_IDLE)"
start_huskd idle --pids-max "$BENCH_PIDS_MAX"
"$bench" idle --endpoint "$unix" --prefix idle --zip-b64 "$zip64" --counts "$BENCH_IDLE" \
	--pid "$huskd_pid" --cgroup-parent "$parent" --parallel "$BENCH_PARALLEL" \
	--settle-ms "$BENCH_SETTLE_MS" --out "$results" --key husk.idle
step "stopping huskd with its idle environments"
stop_huskd

step "baseline: idle bwrap sandboxes ($BENCH_BASE_IDLE)"
phase_log=$tmp/bwrap.log
"$bench" base-idle "${base_args[@]}" --counts "$BENCH_BASE_IDLE" \
	--settle-ms "$BENCH_SETTLE_MS" --key base.idle
fi

measure_enforcement

step "done"
echo
[ "${BENCH_ONLY:-}" = enforce ] || "$bench" report --out "$results" --counts "$BENCH_IDLE"
echo
report_enforcement
echo
echo "bench: $("$BWRAP" --version) as the baseline; $((SECONDS - started)) s; samples:" \
	"warm $BENCH_WARM (after $BENCH_WARMUP), cold $BENCH_COLD, idle $BENCH_IDLE;" \
	"load average $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -n "${BENCH_RESULTS:-}" ]; then
	cp "$results" "$BENCH_RESULTS"
fi
