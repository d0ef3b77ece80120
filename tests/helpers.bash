# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
#
# Shared by the bats suites: a private huskd per test file (its own state and
# run directories under a mktemp directory, its own cgroup parent, a free
# loopback port), the Lambda API through curl, the test functions as zips,
# and the check that nothing of a huskd is left behind once it stopped.
#
# A suite's setup_file calls husk_setup_file NAME [huskd options], its
# teardown_file husk_teardown_file, its teardown husk_teardown_test.

: "${HUSK_SRC:=$(cd "$BATS_TEST_DIRNAME/.." && pwd)}"
: "${HUSK_BUILD:=$HUSK_SRC}"
export HUSK_SRC HUSK_BUILD
export HUSK_FUNCTIONS=$HUSK_SRC/tests/functions
export HUSK_ROLE=arn:aws:iam::000000000000:role/husk-test
export HUSK_API=/2015-03-31/functions

# ---------------------------------------------------------------- helpers

# husk_wait_for SECONDS COMMAND...: run COMMAND every 0.1 s until it
# succeeds; fail after SECONDS.
husk_wait_for()
{
	local limit=$1 start
	shift
	start=$(date +%s%N)
	until "$@"; do
		if (($(date +%s%N) - start > limit * 1000000000)); then
			echo "timed out after ${limit}s waiting for: $*" >&2
			return 1
		fi
		sleep 0.1
	done
}

husk_free_port()
{
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# A scratch directory for one test, or for setup_file.
husk_scratch()
{
	echo "${BATS_TEST_TMPDIR:-$BATS_FILE_TMPDIR}"
}

# refute COMMAND...: COMMAND must fail. (A bare "! COMMAND" does not fail a
# bats test: errexit ignores negated commands.)
refute()
{
	if "$@"; then
		echo "expected to fail: $*" >&2
		return 1
	fi
}

# ---------------------------------------------------------------- huskd

# husk_instance NAME: choose the directories, socket, port and cgroup parent
# of a huskd (exported, so that the tests of a file see those of setup_file).
husk_instance()
{
	local name=$1

	# Under /tmp, not $TMPDIR: every directory above the code must be
	# searchable by the uids of the jails' user namespaces.
	HUSK_TMP=$(mktemp -d "/tmp/husk-$name.XXXXXX")
	chmod 755 "$HUSK_TMP"
	HUSK_STATE=$HUSK_TMP/state
	HUSK_RUN=$HUSK_TMP/run
	HUSK_SOCK=$HUSK_RUN/huskd.sock
	HUSK_LOG=$HUSK_TMP/huskd.log
	HUSK_PIDFILE=$HUSK_TMP/huskd.pid
	HUSK_CGPARENT=husk-test-$BATS_ROOT_PID-$name
	HUSK_BPFDIR=/sys/fs/bpf/husk-test-$BATS_ROOT_PID-$name
	HUSK_PORT=$(husk_free_port)
	mkdir -p "$HUSK_TMP/zips"
	export HUSK_TMP HUSK_STATE HUSK_RUN HUSK_SOCK HUSK_LOG HUSK_PIDFILE HUSK_CGPARENT HUSK_PORT \
		HUSK_BPFDIR
}

husk_alive()
{
	local pid=$1 state

	[ -r "/proc/$pid/stat" ] || return 1
	state=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)
	[ "$state" != Z ] && [ "$state" != X ]
}

husk_api_ready()
{
	local code

	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 --unix-socket "$HUSK_SOCK" \
		"http://localhost$HUSK_API/") || return 1
	[ "$code" = 200 ] || return 1
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
		"http://127.0.0.1:$HUSK_PORT$HUSK_API/") || return 1
	[ "$code" = 200 ]
}

husk_ready_or_dead()
{
	husk_api_ready || ! husk_alive "$HUSKD_PID"
}

# husk_daemon_start [huskd options]: start huskd of the current instance
# and wait until its API answers on the socket and on TCP.
husk_daemon_start()
{
	[ -x "$HUSK_BUILD/huskd" ] || {
		echo "no huskd at $HUSK_BUILD/huskd: build first (make O=...)" >&2
		return 1
	}
	echo "--- huskd $* ($(date +%T.%N))" >>"$HUSK_LOG"
	"$HUSK_BUILD/huskd" --state-dir "$HUSK_STATE" --run-dir "$HUSK_RUN" \
		--socket "$HUSK_SOCK" --listen "127.0.0.1:$HUSK_PORT" \
		--cgroup-parent "$HUSK_CGPARENT" --bpf-dir "$HUSK_BPFDIR" \
		"$@" </dev/null >>"$HUSK_LOG" 2>&1 3>&- &
	HUSKD_PID=$!
	echo "$HUSKD_PID" >"$HUSK_PIDFILE"
	export HUSKD_PID
	if ! husk_wait_for 20 husk_ready_or_dead || ! husk_alive "$HUSKD_PID"; then
		echo "huskd did not come up; its log:" >&2
		cat "$HUSK_LOG" >&2
		return 1
	fi
}

# husk_daemon_stop [SIGNAL]: signal huskd (TERM by default) and wait for it
# to exit. HUSKD_STATUS is its exit status when it is our child, else "".
husk_daemon_stop()
{
	local sig=${1:-TERM} pid

	pid=$(cat "$HUSK_PIDFILE" 2>/dev/null) || return 0
	HUSKD_STATUS=
	if husk_alive "$pid"; then
		kill "-$sig" "$pid"
		if ! husk_wait_for 30 eval '! husk_alive '"$pid"; then
			echo "huskd $pid ignored SIG$sig for 30 s; killing it" >&2
			kill -KILL "$pid"
			husk_wait_for 10 eval '! husk_alive '"$pid" || true
			wait "$pid" 2>/dev/null || true
			rm -f "$HUSK_PIDFILE"
			return 1
		fi
	fi
	HUSKD_STATUS=0
	wait "$pid" 2>/dev/null || HUSKD_STATUS=$?
	# 127: not our child (started by an earlier test); its status is lost.
	[ "$HUSKD_STATUS" != 127 ] || HUSKD_STATUS=
	rm -f "$HUSK_PIDFILE"
	return 0
}

# husk_setup_file NAME [huskd options]: a new instance, its huskd, and the
# zips of all test functions.
husk_setup_file()
{
	local name=$1
	shift
	husk_instance "$name"
	husk_zip_all
	husk_daemon_start "$@"
}

husk_teardown_file()
{
	local rc=0

	[ -n "${HUSK_TMP:-}" ] || return 0
	husk_daemon_stop || rc=1
	if [ -n "$HUSKD_STATUS" ] && [ "$HUSKD_STATUS" != 0 ]; then
		echo "huskd exited with status $HUSKD_STATUS on SIGTERM" >&2
		rc=1
	fi
	husk_check_leftovers || rc=1
	if [ "$rc" != 0 ]; then
		echo "--- huskd log (last 60 lines)" >&2
		tail -n 60 "$HUSK_LOG" >&2
	fi
	husk_remove_tmp
	return "$rc"
}

# On a failed test, show what huskd said.
husk_teardown_test()
{
	if [ -z "${BATS_TEST_COMPLETED:-}" ] && [ -n "${HUSK_LOG:-}" ] && [ -r "$HUSK_LOG" ]; then
		echo "--- huskd log (last 40 lines)"
		tail -n 40 "$HUSK_LOG"
	fi
}

# Remove the instance's directory, never across a mount point that is still
# there (rm would descend into a leftover bind of /usr).
husk_remove_tmp()
{
	if grep -qF " $HUSK_TMP" /proc/self/mountinfo; then
		echo "not removing $HUSK_TMP: something is still mounted below it" >&2
		return 1
	fi
	rm -rf --one-file-system "$HUSK_TMP"
}

# ---------------------------------------------------------------- cgroups

# The cgroup parent's directory in every mounted hierarchy, one per line:
# <mount point><huskd's own group>/<parent>. huskd's own group is that of
# the running huskd, or ours (huskd inherits it) once it stopped.
husk_cg_parents()
{
	local pid

	pid=$(cat "$HUSK_PIDFILE" 2>/dev/null) || pid=$$
	[ -r "/proc/$pid/cgroup" ] || pid=$$
	awk -v parent="$HUSK_CGPARENT" '
		FNR == NR {
			for (i = 7; i <= NF && $i != "-"; i++)
				;
			fstype = $(i + 1)
			if (fstype == "cgroup2" && !("v2" in mnt)) {
				mnt["v2"] = $5; root["v2"] = $4
			} else if (fstype == "cgroup") {
				n = split($(i + 3), opt, ",")
				for (j = 1; j <= n; j++)
					if (!(opt[j] in mnt)) {
						mnt[opt[j]] = $5; root[opt[j]] = $4
					}
			}
			next
		}
		{
			line = $0
			id = substr(line, 1, index(line, ":") - 1)
			line = substr(line, index(line, ":") + 1)
			ctrl = substr(line, 1, index(line, ":") - 1)
			path = substr(line, index(line, ":") + 1)
			split(ctrl, c, ",")
			key = (id == "0" && ctrl == "") ? "v2" : c[1]
			if (!(key in mnt))
				next
			if (root[key] != "/" && index(path, root[key]) == 1)
				path = substr(path, length(root[key]) + 1)
			if (path == "/")
				path = ""
			print mnt[key] path "/" parent
		}' /proc/self/mountinfo "/proc/$pid/cgroup" | sort -u
}

# Names of the environment groups (env-N) below the parent, in any hierarchy.
husk_envs()
{
	local d

	for d in $(husk_cg_parents); do
		[ -d "$d" ] && find "$d" -mindepth 1 -maxdepth 1 -type d -name 'env-*' -printf '%f\n'
	done | sort -u
}

# husk_env_dirs ENV: its directory in every hierarchy where it exists.
husk_env_dirs()
{
	local d

	for d in $(husk_cg_parents); do
		[ -d "$d/$1" ] && echo "$d/$1"
	done
	return 0
}

# The cgroup directory of ENV in the hierarchy of controller CTRL.
husk_env_ctrl_dir()
{
	husk_env_dirs "$1" | grep "/sys/fs/cgroup/$2/" | head -n 1
	return 0
}

# Live processes in the cgroup parent (any hierarchy): "pid comm cgroup-line".
husk_procs_in_parent()
{
	grep -sE -m 1 "/$HUSK_CGPARENT(/|\$)" /proc/[0-9]*/cgroup |
		awk '{
			pid = $0; sub(/^\/proc\//, "", pid); sub(/\/.*/, "", pid)
			line = $0; sub(/^[^:]*:/, "", line)
			comm = "?"; getline comm <("/proc/" pid "/comm")
			# A zombie is dead already; its (new) parent reaps it.
			state = ""
			while ((getline l <("/proc/" pid "/status")) > 0)
				if (l ~ /^State:/) { state = l; break }
			if (state !~ /^State:[ \t]*[ZX]/)
				print pid, comm, line
		}'
	return 0
}

# husk_env_of_ns NS: the environment group (env-N) whose processes live in
# pid namespace NS ("pid:[...]", as readlink /proc/self/ns/pid says inside).
# huskd keeps spare environments, so a group's appearance does not tell
# which function it serves; its pid namespace does.
husk_env_of_ns()
{
	local ns=$1 pid comm line

	while read -r pid comm line; do
		[ "$(readlink "/proc/$pid/ns/pid" 2>/dev/null)" = "$ns" ] || continue
		echo "${line##*/}"
		return 0
	done < <(husk_procs_in_parent)
	echo "no environment has pid namespace $ns" >&2
	return 1
}

# husk_env_of_cmd CMDLINE: the environment group of a process whose
# command line (arguments joined by spaces) is CMDLINE.
husk_env_of_cmd()
{
	local pid comm line

	while read -r pid comm line; do
		[ "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" = "$1 " ] || continue
		echo "${line##*/}"
		return 0
	done < <(husk_procs_in_parent)
	return 1
}

# husk_env_inodes ENV...: "dir inode" of each group directory, to tell a
# directory that survived from one that was made again under the same name.
husk_env_inodes()
{
	local e d

	for e in "$@"; do
		for d in $(husk_env_dirs "$e"); do
			echo "$d $(stat -c %i "$d")"
		done
	done
}

# ---------------------------------------------------------------- leftovers

# Fails (and says what) when anything of the instance's huskd remains:
# the process itself, a process in its cgroup parent, a directory of the
# parent in any hierarchy, or a mount below its directories. What it finds
# is then removed, so that one failure does not spill into the next file.
husk_check_leftovers()
{
	local procs dirs mounts pid d rc=0

	pid=$(cat "$HUSK_PIDFILE" 2>/dev/null) || pid=
	if [ -n "$pid" ] && husk_alive "$pid"; then
		echo "leftover: huskd $pid still runs" >&2
		rc=1
	fi
	procs=$(husk_procs_in_parent)
	if [ -n "$procs" ]; then
		printf 'leftover process: %s\n' "$procs" >&2
		rc=1
	fi
	dirs=$(find /sys/fs/cgroup -mindepth 1 -type d -name "$HUSK_CGPARENT" 2>/dev/null || true)
	if [ -n "$dirs" ]; then
		while read -r d; do
			find "$d" -type d 2>/dev/null | sed 's/^/leftover cgroup: /' >&2
		done <<<"$dirs"
		rc=1
	fi
	mounts=$(grep -F "$HUSK_TMP" /proc/self/mountinfo || true)
	if [ -n "$mounts" ]; then
		printf 'leftover mount: %s\n' "$mounts" >&2
		rc=1
	fi
	if [ -e "$HUSK_BPFDIR" ]; then
		find "$HUSK_BPFDIR" | sed 's/^/leftover BPF pin: /' >&2
		rc=1
	fi
	if husk_bpf_links_of_parent | grep -q .; then
		husk_bpf_links_of_parent | sed 's/^/leftover BPF program on the cgroup: /' >&2
		rc=1
	fi
	if ip -o link show 2>/dev/null | grep -q ': hsk[0-9]'; then
		ip -o link show | grep ': hsk[0-9]' | sed 's/^/leftover veth: /' >&2
		rc=1
	fi
	if nft list table ip husk >/dev/null 2>&1; then
		echo "leftover nftables table ip husk" >&2
		rc=1
	fi
	[ "$rc" = 0 ] || husk_force_cleanup "$procs" "$dirs"
	return "$rc"
}

# Programs still attached to our v2 parent group (there should be none once
# huskd stopped; the group itself is gone then, so this is empty too).
husk_bpf_links_of_parent()
{
	local d

	for d in $(find /sys/fs/cgroup -mindepth 1 -type d -name "$HUSK_CGPARENT" 2>/dev/null); do
		bpftool cgroup show "$d" 2>/dev/null | tail -n +2
	done
}

# Remove what husk_check_leftovers found: our huskd's processes (by pid),
# then its cgroup directories, deepest first.
husk_force_cleanup()
{
	local procs=$1 dirs=$2 pid d

	# Frozen tasks do not die: thaw every group first (v1 and v2).
	while read -r d; do
		[ -n "$d" ] || continue
		find "$d" -name freezer.state -exec sh -c 'echo THAWED >"$1"' _ {} \; 2>/dev/null
		find "$d" -name cgroup.freeze -exec sh -c 'echo 0 >"$1"' _ {} \; 2>/dev/null
	done <<<"$dirs"
	for pid in $(awk '{ print $1 }' <<<"$procs"); do
		kill -KILL "$pid" 2>/dev/null
	done
	husk_wait_for 10 eval '[ -z "$(husk_procs_in_parent)" ]' || true
	while read -r d; do
		[ -n "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
	done <<<"$dirs"
	# Unpinning detaches what huskd pinned; then its veths and table.
	[ -n "${HUSK_BPFDIR:-}" ] && rm -rf "$HUSK_BPFDIR"
	for d in $(ip -o link show 2>/dev/null | sed -n 's/^[0-9]*: \(hsk[0-9]*\)[@:].*/\1/p'); do
		ip link del "$d" 2>/dev/null
	done
	nft delete table ip husk 2>/dev/null
	return 0
}

# ---------------------------------------------------------------- zips

# husk_zip NAME: the zip of tests/functions/NAME (bootstrap executable).
husk_zip()
{
	local name=$1 stage zip=$HUSK_TMP/zips/$1.zip

	if [ ! -f "$zip" ]; then
		stage=$HUSK_TMP/zips/$name.d
		rm -rf "$stage"
		mkdir -p "$stage"
		if [ "$name" = minimal ]; then
			cp "$HUSK_BUILD/tests/functions/minimal/bootstrap" "$stage/" || return 1
		else
			cp -R "$HUSK_FUNCTIONS/$name/." "$stage/" || return 1
		fi
		[ -f "$stage/bootstrap" ] && chmod 755 "$stage/bootstrap"
		(cd "$stage" && zip -qrX "$zip" .) || return 1
		rm -rf "$stage"
	fi
	echo "$zip"
}

husk_zip_all()
{
	local d

	for d in "$HUSK_FUNCTIONS"/*/; do
		d=$(basename "$d")
		[ "$d" = minimal ] && continue
		husk_zip "$d" >/dev/null || return 1
	done
}

# base64 of the SHA-256 of a file, as Lambda's CodeSha256.
husk_sha256_b64()
{
	openssl dgst -sha256 -binary "$1" | base64 -w0
}

# ---------------------------------------------------------------- API

# husk_api METHOD PATH [BODY|@FILE [curl options...]]: one request on the
# Unix socket. Sets HTTP_STATUS and HTTP_BODY; headers via husk_header.
husk_api()
{
	local method=$1 path=$2 data=${3:-} dir
	local -a args

	dir=$(husk_scratch)
	shift 2
	[ $# -gt 0 ] && shift
	args=(-sS -X "$method" -o "$dir/http.body" -D "$dir/http.headers" -w '%{http_code}'
		--max-time 60 --unix-socket "$HUSK_SOCK")
	if [ -n "$data" ]; then
		args+=(-H 'Content-Type: application/json' --data-binary "$data")
	fi
	rm -f "$dir/http.body" "$dir/http.headers"
	HTTP_STATUS=$(curl "${args[@]}" "$@" "http://localhost$path") || {
		echo "curl $method $path failed (HTTP '$HTTP_STATUS')" >&2
		return 1
	}
	HTTP_BODY=$(cat "$dir/http.body" 2>/dev/null || true)
}

# husk_header NAME: a header of the last husk_api answer ("" when absent).
husk_header()
{
	tr -d '\r' <"$(husk_scratch)/http.headers" |
		awk -v h="$(echo "$1" | tr '[:upper:]' '[:lower:]')" '
			{ k = tolower(substr($0, 1, index($0, ":") - 1)) }
			k == h { v = substr($0, index($0, ":") + 1); sub(/^ +/, "", v) }
			END { print v }'
}

# husk_create_req NAME ZIP [EXTRA-JSON]: write a CreateFunction body and
# print its path. EXTRA-JSON is merged over the defaults (null deletes).
husk_create_req()
{
	local name=$1 zip=$2 extra=${3:-} f

	[ -n "$extra" ] || extra='{}'
	f=$(husk_scratch)/create-$name.json
	base64 -w0 "$zip" >"$f.b64"
	jq -n --arg name "$name" --arg role "$HUSK_ROLE" --rawfile zip "$f.b64" \
		--argjson extra "$extra" '
		{FunctionName: $name, Runtime: "provided.al2023", Role: $role,
		 Handler: "bootstrap", Code: {ZipFile: $zip}} + $extra
		| with_entries(select(.value != null))' >"$f"
	rm -f "$f.b64"
	echo "$f"
}

husk_create()
{
	local f

	f=$(husk_create_req "$@") || return 1
	husk_api POST "$HUSK_API" "@$f"
}

# husk_create_ok NAME FUNCTION-DIR [EXTRA-JSON]: create, expecting 201.
husk_create_ok()
{
	local zip

	zip=$(husk_zip "$2") || return 1
	husk_create "$1" "$zip" "${3:-}" || return 1
	if [ "$HTTP_STATUS" != 201 ]; then
		echo "CreateFunction $1: HTTP $HTTP_STATUS: $HTTP_BODY" >&2
		return 1
	fi
}

husk_delete()
{
	husk_api DELETE "$HUSK_API/$1"
}

# husk_invoke NAME [PAYLOAD|@FILE [curl options...]]
husk_invoke()
{
	local name=$1 payload=${2:-'{}'}

	shift
	[ $# -gt 0 ] && shift
	husk_api POST "$HUSK_API/$name/invocations" "$payload" "$@"
}

# The REPORT line of the last invocation.
husk_report()
{
	husk_header X-Husk-Report
}

husk_report_is_cold()
{
	husk_report | grep -q $'\tInit Duration: [0-9.]* ms'
}

# probe CMD [FUNCTION]: run CMD with bash inside the probe function's
# environment. Sets PROBE_OUT, PROBE_RC and PROBE_HEADERS, and prints them
# (bats shows them when a test fails).
probe()
{
	local fn=${2:-probe}

	husk_invoke "$fn" "$(jq -nc --arg c "$1" '{cmd: $c}')" || return 1
	if [ "$HTTP_STATUS" != 200 ] || [ -n "$(husk_header X-Amz-Function-Error)" ]; then
		echo "probe $fn: HTTP $HTTP_STATUS, function error" \
			"'$(husk_header X-Amz-Function-Error)': $HTTP_BODY" >&2
		return 1
	fi
	PROBE_OUT=$(jq -r .out <<<"$HTTP_BODY")
	PROBE_RC=$(jq -r .rc <<<"$HTTP_BODY")
	PROBE_HEADERS=$(jq -r .headers <<<"$HTTP_BODY")
	printf 'probe %s: %s\n  rc %s\n%s\n' "$fn" "$1" "$PROBE_RC" "$PROBE_OUT" | head -c 4000
	echo
}

# Assert the last answer is an API error: STATUS TYPE [REGEX of the message].
husk_expect_error()
{
	local status=$1 type=$2 re=${3:-} got_type

	got_type=$(husk_header X-Amzn-ErrorType)
	got_type=${got_type%%:*}
	if [ "$HTTP_STATUS" != "$status" ] || [ "$got_type" != "$type" ]; then
		echo "expected $status $type, got $HTTP_STATUS '$got_type': $HTTP_BODY" >&2
		return 1
	fi
	if [ "$(jq -r .Type <<<"$HTTP_BODY")" != User ]; then
		echo "error body has no \"Type\": \"User\": $HTTP_BODY" >&2
		return 1
	fi
	if [ -n "$re" ] && ! jq -r .message <<<"$HTTP_BODY" | grep -qiE -- "$re"; then
		echo "error message does not match /$re/: $HTTP_BODY" >&2
		return 1
	fi
}

# Assert the last invocation failed as a function error of TYPE.
husk_expect_function_error()
{
	local type=$1

	if [ "$HTTP_STATUS" != 200 ] || [ "$(husk_header X-Amz-Function-Error)" != Unhandled ]; then
		echo "expected 200 with X-Amz-Function-Error: Unhandled, got $HTTP_STATUS" \
			"'$(husk_header X-Amz-Function-Error)': ${HTTP_BODY:0:300}" >&2
		return 1
	fi
	if [ "$(jq -r .errorType <<<"$HTTP_BODY")" != "$type" ]; then
		echo "expected errorType $type: ${HTTP_BODY:0:300}" >&2
		return 1
	fi
	jq -e '.errorMessage | type == "string" and length > 0' <<<"$HTTP_BODY" >/dev/null || {
		echo "no errorMessage: ${HTTP_BODY:0:300}" >&2
		return 1
	}
}
