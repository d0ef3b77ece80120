# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
#
# bash completion for huskctl(8): huskctl [OPTIONS] OBJECT {COMMAND | help}.
# Options come before the object (huskctl stops at the first non-option, as
# bpftool does); objects and commands may be unique prefixes, so a prefix
# already typed is resolved the way huskctl resolves it. Program and map names
# come from the pins under --bpf-dir, environment ids and function names from
# huskd (huskctl -j env list, fn list) and need jq; without jq, or without
# huskd, they complete to nothing.
#
# Install as /usr/share/bash-completion/completions/huskctl, or source it.

_huskctl_objects()
{
	echo prog map link cgroup env fn policy events invocation feature
}

# The commands of object $1 ("help" included).
_huskctl_commands()
{
	case $1 in
	prog) echo show list help ;;
	map) echo show list dump help ;;
	link) echo show list help ;;
	cgroup) echo tree help ;;
	env | fn) echo list show help ;;
	policy | invocation) echo show help ;;
	feature) echo probe help ;;
	events) echo help ;;
	esac
}

# The name in the list $2 that word $1 names, as huskctl matches it: the exact
# name, else the one name it is a prefix of; nothing if none or ambiguous.
_huskctl_resolve()
{
	local word=$1 name found=''
	local -a names
	read -r -a names <<<"$2"

	[[ -n $word ]] || return 0
	for name in "${names[@]}"; do
		if [[ $name == "$word" ]]; then
			echo "$name"
			return 0
		fi
	done
	for name in "${names[@]}"; do
		[[ $name == "$word"* ]] || continue
		[[ -z $found ]] || return 0
		found=$name
	done
	echo "$found"
}

# COMPREPLY := the words of $1 that start with $2.
_huskctl_reply()
{
	mapfile -t COMPREPLY < <(compgen -W "$1" -- "$2")
}

# A leading "~/" as the shell would expand it (COMP_WORDS holds words unexpanded).
_huskctl_tilde()
{
	if [[ $1 == \~/* ]]; then
		echo "$HOME/${1#\~/}"
	else
		echo "$1"
	fi
}

# The names pinned in the sub-directories $2... of bpf dir $1.
_huskctl_pins()
{
	local dir=$1 sub f
	shift

	for sub in "$@"; do
		for f in "$dir/$sub"/*; do
			[[ -e $f ]] && echo "${f##*/}"
		done
	done
	return 0
}

# Names from "huskctl -j OBJECT list" (an array of objects): $1 is the
# object, $2 the member naming an entry, the rest the huskctl command with
# the options given on the line. Without jq or huskd, nothing.
_huskctl_list()
{
	local obj=$1 name=$2 filter
	shift 2

	command -v jq >/dev/null 2>&1 || return 0
	filter='.[]? | objects | .'"$name"' // empty | tostring'
	timeout 2 "$@" -j "$obj" list 2>/dev/null | jq -r "$filter" 2>/dev/null
	return 0
}

# Environment ids and function names; the arguments are the huskctl command.
_huskctl_envs()
{
	_huskctl_list env Name "$@"
}

_huskctl_fns()
{
	_huskctl_list fn FunctionName "$@"
}

# COMPREPLY := the directories ($1 = dirs) or files that start with $2.
_huskctl_files()
{
	compopt -o filenames 2>/dev/null || true
	if [[ $1 == dirs ]]; then
		mapfile -t COMPREPLY < <(compgen -d -- "$2")
	else
		mapfile -t COMPREPLY < <(compgen -f -- "$2")
	fi
}

# The arguments of "huskctl events", options only: $1 the word completed,
# $2 the word before it, $3 the index of the first argument, the rest the
# huskctl command.
_huskctl_events()
{
	local cur=$1 prev=$2 first=$3 i w opts=''
	shift 3

	case $prev in
	--env) _huskctl_reply "$(_huskctl_envs "$@")" "$cur"; return 0 ;;
	--fn) _huskctl_reply "$(_huskctl_fns "$@")" "$cur"; return 0 ;;
	--type) _huskctl_reply "denial exec fork exit oom" "$cur"; return 0 ;;
	esac
	for w in --follow --env --fn --type; do
		for ((i = first; i < COMP_CWORD; i++)); do
			[[ ${COMP_WORDS[i]} == "$w" ]] && continue 2
		done
		opts+=" $w"
	done
	if ((COMP_CWORD == first)); then
		opts+=" help"
	fi
	_huskctl_reply "$opts" "$cur"
}

# The argument of a global option: $1 the option, $2 the word completed.
_huskctl_optarg()
{
	case $1 in
	-s | --socket) _huskctl_files files "$2" ;;
	-d | --bpf-dir) _huskctl_files dirs "$2" ;;
	esac
}

_huskctl()
{
	local cur=${COMP_WORDS[COMP_CWORD]:-} prev=''
	local bpf_dir=/sys/fs/bpf/husk want='' w arg opt i j obj cmd
	local -a ctl

	ctl=("$(_huskctl_tilde "${COMP_WORDS[0]}")")
	COMPREPLY=()
	if ((COMP_CWORD > 0)); then
		prev=${COMP_WORDS[COMP_CWORD - 1]}
	fi
	# "--opt=value" reaches us as "--opt" "=" "value" (= is a word break).
	if [[ $cur == "=" ]]; then
		cur=''
	elif [[ $prev == "=" ]] && ((COMP_CWORD > 1)); then
		prev=${COMP_WORDS[COMP_CWORD - 2]}
	fi

	# The global options before the object, and where the object is.
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		opt='' arg=''
		case $w in
		--socket | --bpf-dir)
			opt=$w
			((++i))
			[[ ${COMP_WORDS[i]:-} == "=" ]] && ((++i))
			arg=${COMP_WORDS[i]:-}
			;;
		--socket=* | --bpf-dir=*)
			opt=${w%%=*}
			arg=${w#*=}
			;;
		--*) ;;
		-?*)
			# Bundled short options: -jp, -d DIR, -dDIR, -jd DIR.
			for ((j = 1; j < ${#w}; j++)); do
				case ${w:j:1} in
				s | d)
					opt=-${w:j:1}
					arg=${w:j+1}
					if [[ -z $arg ]]; then
						((++i))
						arg=${COMP_WORDS[i]:-}
					fi
					break
					;;
				esac
			done
			;;
		*) break ;;
		esac
		if [[ -n $opt ]] && ((i >= COMP_CWORD)); then
			want=$opt
		fi
		arg=$(_huskctl_tilde "$arg")
		case $opt in
		-s | --socket) ctl+=(-s "$arg") ;;
		-d | --bpf-dir)
			bpf_dir=$arg
			ctl+=(-d "$arg")
			;;
		esac
	done

	if [[ -n $want ]]; then
		_huskctl_optarg "$want" "$cur"
		return 0
	fi
	# Still before the object: an option or the object.
	if ((i >= COMP_CWORD)); then
		if [[ $cur == -* ]]; then
			_huskctl_reply "-j --json -p --pretty -s --socket -d --bpf-dir -h --help
				-V --version" "$cur"
		else
			_huskctl_reply "$(_huskctl_objects) help" "$cur"
		fi
		return 0
	fi

	obj=$(_huskctl_resolve "${COMP_WORDS[i]}" "$(_huskctl_objects)")
	if [[ $obj == events ]]; then
		_huskctl_events "$cur" "$prev" $((i + 1)) "${ctl[@]}"
		return 0
	fi
	if [[ -z $obj ]]; then
		return 0
	fi
	if ((COMP_CWORD == i + 1)); then
		_huskctl_reply "$(_huskctl_commands "$obj")" "$cur"
		return 0
	fi
	cmd=$(_huskctl_resolve "${COMP_WORDS[i + 1]}" "$(_huskctl_commands "$obj")")
	# "map dump NAME raw" is the one command with two arguments.
	if [[ $obj/$cmd == map/dump ]] && ((COMP_CWORD == i + 3)); then
		_huskctl_reply raw "$cur"
		return 0
	fi
	if ((COMP_CWORD != i + 2)); then
		return 0
	fi
	case $obj/$cmd in
	prog/show | prog/list)
		_huskctl_reply "$(_huskctl_pins "$bpf_dir" progs lsm/progs)" "$cur"
		;;
	map/show | map/list | map/dump)
		_huskctl_reply "$(_huskctl_pins "$bpf_dir" maps)" "$cur"
		;;
	cgroup/tree) _huskctl_files dirs "$cur" ;;
	env/show) _huskctl_reply "$(_huskctl_envs "${ctl[@]}")" "$cur" ;;
	fn/show) _huskctl_reply "$(_huskctl_fns "${ctl[@]}")" "$cur" ;;
	policy/show)
		_huskctl_reply "$(_huskctl_envs "${ctl[@]}") $(_huskctl_fns "${ctl[@]}")" "$cur"
		;;
	esac
	return 0
}

complete -F _huskctl huskctl
