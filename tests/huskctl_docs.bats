#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# huskctl's documentation: the man page renders without warnings and names
# every object of tools/main.c's table and every command of the objects'
# command tables; the bash completion offers the objects and the commands.
# Needs no huskd and no root; needs groff (Debian: groff-base).
# shellcheck source-path=SCRIPTDIR

setup()
{
	: "${HUSK_SRC:=$(cd "$BATS_TEST_DIRNAME/.." && pwd)}"
	MAN_PAGE=$HUSK_SRC/tools/huskctl.8
	COMPLETION=$HUSK_SRC/tools/huskctl.bash
	MAIN_C=$HUSK_SRC/tools/main.c
}

need_groff()
{
	if ! command -v groff >/dev/null; then
		echo "groff is not installed: apt-get install groff-base (scripts/deps.sh does)" >&2
		return 1
	fi
}

# The object names of main.c's objects[] table, one per line.
objects_of_main()
{
	sed -n '/^static const struct hctl_object objects\[\] = {/,/^};/p' "$MAIN_C" |
		grep -oE '\{"[a-z]+",' | tr -d '{",'
}

# The command names of tools/$1.c's struct hctl_cmd tables ("help" aside), one per line.
commands_of()
{
	local src=$HUSK_SRC/tools/$1.c

	[ -f "$src" ] || return 0
	sed -n '/struct hctl_cmd [a-z_]*\[\] *= *{/,/^};/p' "$src" |
		grep -oE '\{ *"[a-z][a-z-]*" *,|\.name *= *"[a-z][a-z-]*"' |
		grep -oE '"[a-z-]+"' | tr -d '"' | grep -vx help || true
}

# The man page as plain text, one line per paragraph, no hyphenation at the ends of lines.
render()
{
	groff -man -Tascii -P-bcou -rLL=300n "$MAN_PAGE"
}

# complete WORD...: COMPREPLY for the line "WORD... " with the cursor in a new word.
complete_line()
{
	COMP_WORDS=("$@" "")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_huskctl
}

# in_reply WORD: COMPREPLY holds WORD.
in_reply()
{
	local w

	for w in "${COMPREPLY[@]}"; do
		[ "$w" = "$1" ] && return 0
	done
	echo "'$1' is not among the completions: ${COMPREPLY[*]}" >&2
	return 1
}

@test "the man page renders without warnings" {
	need_groff
	groff -man -Tutf8 -ww "$MAN_PAGE" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err"
	cat "$BATS_TEST_TMPDIR/err"
	[ ! -s "$BATS_TEST_TMPDIR/err" ]
	[ -s "$BATS_TEST_TMPDIR/out" ]
}

@test "the man page names every object of main.c and its commands" {
	need_groff
	local obj cmd objects n=0 missing=0

	objects=$(objects_of_main)
	echo "objects of main.c: $objects"
	[ "$(wc -w <<<"$objects")" -ge 10 ]
	render >"$BATS_TEST_TMPDIR/page"
	for obj in $objects; do
		if ! grep -qE "^ *huskctl $obj( |\$)" "$BATS_TEST_TMPDIR/page"; then
			echo "the man page has no 'huskctl $obj' entry"
			missing=1
		fi
		for cmd in $(commands_of "$obj"); do
			n=$((n + 1))
			if ! grep -E "^ *huskctl $obj " "$BATS_TEST_TMPDIR/page" |
				grep -qE "(^|[^a-z-])$cmd([^a-z-]|\$)"; then
				echo "the man page has no 'huskctl $obj $cmd'"
				missing=1
			fi
		done
	done
	echo "commands checked: $n"
	[ "$missing" = 0 ]
}

@test "the man page has the sections of a man page" {
	need_groff
	local s

	render >"$BATS_TEST_TMPDIR/page"
	for s in NAME SYNOPSIS DESCRIPTION OPTIONS "OBJECTS AND COMMANDS" EXAMPLES \
		"EXIT STATUS" FILES "SEE ALSO"; do
		grep -qx "$s" "$BATS_TEST_TMPDIR/page" || { echo "no section $s"; return 1; }
	done
	grep -q 'bpftool(8)' "$BATS_TEST_TMPDIR/page"
}

@test "the completion offers every object of main.c after huskctl" {
	local obj objects

	bash -n "$COMPLETION"
	# shellcheck source=../tools/huskctl.bash
	source "$COMPLETION"
	objects=$(objects_of_main)
	[ -n "$objects" ]
	complete_line huskctl
	echo "huskctl: ${COMPREPLY[*]}"
	for obj in $objects; do
		in_reply "$obj"
	done
	complete_line huskctl -j --socket /nonexistent
	for obj in $objects; do
		in_reply "$obj"
	done
}

@test "the completion offers show and dump after huskctl map, and after a prefix of map" {
	# shellcheck source=../tools/huskctl.bash
	source "$COMPLETION"
	complete_line huskctl map
	echo "huskctl map: ${COMPREPLY[*]}"
	in_reply show
	in_reply dump
	complete_line huskctl -p m
	in_reply show
	in_reply dump
}

@test "the completion offers the maps pinned under --bpf-dir, and the event types" {
	local t

	# shellcheck source=../tools/huskctl.bash
	source "$COMPLETION"
	mkdir -p "$BATS_TEST_TMPDIR/pins/maps"
	touch "$BATS_TEST_TMPDIR/pins/maps/husk_envs" "$BATS_TEST_TMPDIR/pins/maps/husk_net4"
	complete_line huskctl --bpf-dir "$BATS_TEST_TMPDIR/pins" map dump
	echo "map dump: ${COMPREPLY[*]}"
	[ "${#COMPREPLY[@]}" = 2 ]
	in_reply husk_envs
	in_reply husk_net4
	complete_line huskctl -d "$BATS_TEST_TMPDIR/nothing" map dump
	[ "${#COMPREPLY[@]}" = 0 ]
	complete_line huskctl events --follow --type
	echo "events --type: ${COMPREPLY[*]}"
	[ "${#COMPREPLY[@]}" = 5 ]
	for t in denial exec fork exit oom; do
		in_reply "$t"
	done
}
