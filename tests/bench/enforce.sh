# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Sourced by run.sh: the cost of enforcement per operation and the
# telemetry ring buffer's throughput. husk-loops runs getpid, openat and
# connect loops (tests/bench/loops.c)
#   nobpf  on the host before any huskd runs (no husk program loaded),
#   host   on the host while huskd runs (its programs see a task that is in
#          no environment: the price every other process of the host pays),
#   env    inside an environment under the full policy (egress rules, DNS,
#          file rules through Landlock or BPF LSM, extra seccomp rules).
# The ratios env/host are what enforcement adds to a function; host/nobpf is
# what the system-wide raw tracepoints cost everyone else.

BENCH_LOOPS_N=${BENCH_LOOPS_N:-200000}
BENCH_LOOPS_REPEAT=${BENCH_LOOPS_REPEAT:-5}
BENCH_RINGBUF_RATE=${BENCH_RINGBUF_RATE:-500000}
loops=$HUSK_BUILD/tests/bench/husk-loops
ringbuf=$HUSK_BUILD/tests/bench/husk-bench-ringbuf
# UDP connect sends nothing: it only sets the socket's peer.
LOOPS_PEER=198.51.100.1:53

# record KEY OUTPUT: "OP NS ERRORS" lines of husk-loops into $tmp/loops.raw.
record() {
	local key=$1 op ns err

	while read -r op ns err; do
		[ -n "$ns" ] || die "husk-loops ($key) said: $2"
		echo "$key $op $ns $err" >>"$tmp/loops.raw"
	done <<<"$2"
}

# loops_on_host KEY PATH: the three loops once, as a host process.
loops_on_host() {
	record "$1" "$("$loops" getpid "$BENCH_LOOPS_N"
		"$loops" openat "$BENCH_LOOPS_N" "$2"
		"$loops" connect "$BENCH_LOOPS_N" "$LOOPS_PEER")"
}

# loops_in_env: the three loops once, inside the loops function's environment.
loops_in_env() {
	local op out

	for op in "getpid $BENCH_LOOPS_N" "openat $BENCH_LOOPS_N /var/task/bootstrap" \
		"connect $BENCH_LOOPS_N $LOOPS_PEER"; do
		jq -n --arg c "/var/task/husk-loops $op" '{cmd: $c}' >"$tmp/loops-event.json"
		out=$(api POST /loops/invocations "$tmp/loops-event.json" | jq -r .out) ||
			die "invoking the loops function failed"
		record env "$out"
	done
}

# The median of each configuration and operation into $results (and errors).
summarize_loops() {
	local key op
	for key in nobpf host env; do
		for op in getpid openat connect; do
			awk -v k="$key" -v o="$op" '$1 == k && $2 == o { print $3 }' "$tmp/loops.raw" |
				sort -g | awk -v k="$key" -v o="$op" '
					{ v[NR] = $1 } END { if (NR) printf "enf.%s.%s %s\n", k, o, v[int((NR + 1) / 2)] }'
			awk -v k="$key" -v o="$op" '$1 == k && $2 == o && $4 != 0 { e += $4 }
				END { if (e) printf "enf.%s.%s.errors %d\n", k, o, e }' "$tmp/loops.raw"
		done
	done >>"$results"
}

full_policy() {
	local rules='{"Cidr": "198.51.100.0/24", "Ports": "53", "Protocol": "udp"}' i
	for i in $(seq 1 20); do
		rules+=", {\"Cidr\": \"203.0.$i.0/24\", \"Ports\": \"443\", \"Protocol\": \"tcp\"}"
	done
	printf '{"Network": {"Egress": [%s], "Dns": true}, "Syscalls": {"Names": ["acct", "swapon"]}}' \
		"$rules"
}

# api METHOD PATH [BODY-FILE]: huskd's Lambda API over its Unix socket.
api() {
	curl -sS --fail-with-body --unix-socket "${unix#unix:}" -X "$1" \
		${3:+--data-binary "@$3"} "http://localhost/2015-03-31/functions$2"
}

measure_enforcement() {
	local code=$tmp/loops-code req=$tmp/loops-create.json i

	: >"$tmp/loops.raw"
	step "enforcement: loops on the host, no husk program loaded (x$BENCH_LOOPS_REPEAT)"
	for i in $(seq "$BENCH_LOOPS_REPEAT"); do
		loops_on_host nobpf "$bootstrap"
	done

	start_huskd enforce

	mkdir -p "$code"
	cp "$HUSK_SRC/tests/functions/probe/bootstrap" "$loops" "$code/"
	(cd "$code" && zip -q -X "$tmp/loops.zip" bootstrap husk-loops)
	jq -n --rawfile zip <(base64 -w0 "$tmp/loops.zip") --argjson policy "$(full_policy)" \
		'{FunctionName: "loops", Runtime: "provided.al2023", Handler: "x", Timeout: 300,
		  Role: "arn:aws:iam::000000000000:role/bench", Code: {ZipFile: $zip},
		  Policy: $policy}' >"$req"
	api POST "" "$req" >/dev/null || die "cannot create the loops function"
	# The cold start (and the spare it replaces) out of the way first.
	jq -n '{cmd: "true"}' >"$tmp/loops-event.json"
	api POST /loops/invocations "$tmp/loops-event.json" >/dev/null
	sleep 2
	step "enforcement: loops on the host and in the environment, alternating (x$BENCH_LOOPS_REPEAT)"
	for i in $(seq "$BENCH_LOOPS_REPEAT"); do
		loops_on_host host "$bootstrap"
		loops_in_env
	done
	stop_huskd
	summarize_loops

	step "telemetry: ring buffer, flat out and at $BENCH_RINGBUF_RATE events/s"
	"$ringbuf" "$BENCH_RINGBUF_RATE" 2 >>"$results"
}

# The table of the figures above, with the targets of issue 3.
report_enforcement() {
	awk -v rate="$BENCH_RINGBUF_RATE" '
		{ v[$1] = $2 }
		function row(op, target,   n, h, e) {
			n = v["enf.nobpf." op]; h = v["enf.host." op]; e = v["enf.env." op]
			printf "  %-8s %10.1f %10.1f %10.1f   %+7.1f %%   %+7.1f %%   %s\n", op, n, h, e,
				(e / h - 1) * 100, (h / n - 1) * 100, target
			for (k in v) if (k ~ "^enf\\..*\\." op "\\.errors$")
				printf "           (%s: %d errors)\n", k, v[k]
		}
		END {
			print "Enforcement cost per operation (ns, median of the runs; husk-loops, same run)"
			printf "  %-8s %10s %10s %10s   %9s   %9s   %s\n", "op", "no BPF", "host",
				"env+policy", "env/host", "host/noBPF", "target (env/host)"
			row("getpid", "<= +1 %")
			row("openat", "<= +3 %")
			row("connect", "<= +3 %")
			print ""
			print "Telemetry ring buffer (bpf/husk_test.bpf.c husk_bench_emit -> libbpf ring_buffer)"
			printf "  flat out: %.0f events/s offered, %.0f consumed, %d lost   (target >= 2,000,000 consumed)\n",
				v["ringbuf_max_offered_per_s"], v["ringbuf_max_consumed_per_s"], v["ringbuf_max_lost"]
			printf "  paced:    %.0f events/s offered, %.0f consumed, %d lost   (target: 0 lost at %d/s)\n",
				v["ringbuf_paced_offered_per_s"], v["ringbuf_paced_consumed_per_s"],
				v["ringbuf_paced_lost"], rate
		}' "$results"
}
