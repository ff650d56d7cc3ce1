# SPDX-License-Identifier: GPL-2.0
# bash completion for tracer(8). Installed by `make install` into
# $(PREFIX)/share/bash-completion/completions/tracer.
#
# Commands and options come from the tracer being completed (`tracer --help`,
# `tracer COMMAND --help`), so they follow the binary; values: backend names,
# interfaces (-i), pids (-p), strategy numbers (-s, from `tracer pktleak
# --help`), files (options whose value is a FILE or PATH), and after `--` a
# program, then its own completion (bash-completion's _command_offset) or
# file names.

# _tracer_help BIN [COMMAND]: "OPTION ARG" per option of the help's option
# lines (ARG is the metavariable, empty when the option takes none).
_tracer_help()
{
	"$@" --help 2>/dev/null | sed -nE \
		-e 's/^ +(-[A-Za-z0-9]), (--[A-Za-z0-9-]+)( ([A-Z][A-Z]*))?( .*)?$/\1 \4\n\2 \4/p' \
		-e 's/^ +(--?[A-Za-z0-9][A-Za-z0-9-]*)( ([A-Z][A-Z]*))?( .*)?$/\1 \3/p'
}

# _tracer_commands BIN: the names under "Commands:" in `tracer --help`.
_tracer_commands()
{
	"$1" --help 2>/dev/null |
		sed -nE '/^Commands:/,/^$/s/^  ([a-z][a-z0-9-]*) .*/\1/p'
}

# _tracer_strategies BIN: the numbers under "Strategies:" of pktleak's help.
_tracer_strategies()
{
	"$1" pktleak --help 2>/dev/null |
		sed -nE '/^Strategies:/,/^$/s/^ +([0-9]+) .*/\1/p'
}

# _tracer_value BIN OPTION METAVAR CUR: complete OPTION's value (a FILE or
# PATH: file names); nothing is offered for numbers.
_tracer_value()
{
	local bin=$1 opt=$2 metavar=$3 cur=$4 head=
	case $opt in
	--backend)
		mapfile -t COMPREPLY < <(compgen -W 'auto fentry kprobe tracepoint' -- "$cur") ;;
	-i | --interface)
		mapfile -t COMPREPLY < <(compgen -W "$(ls /sys/class/net 2>/dev/null)" -- "$cur") ;;
	--ring-size)
		# tfo's ring buffer: powers of two (bytes)
		mapfile -t COMPREPLY < <(compgen -W '4096 65536 262144 2097152 16777216' -- "$cur") ;;
	-p | --pid)
		mapfile -t COMPREPLY < <(compgen -W "$(cd /proc && printf '%s\n' [0-9]*)" -- "$cur") ;;
	-s | --strategy)
		# A comma-separated list: complete its last number with one not
		# in the list yet.
		[[ $cur == *,* ]] && head=${cur%,*},
		mapfile -t COMPREPLY < <(compgen -P "$head" -W "$(
			_tracer_strategies "$bin" | grep -vxF -e "${head//,/$'\n'}"
		)" -- "${cur##*,}") ;;
	*)
		if [[ $metavar == FILE || $metavar == PATH ]]; then
			compopt -o filenames 2>/dev/null
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		fi ;;
	esac
}

_tracer()
{
	local cur=${COMP_WORDS[COMP_CWORD]} bin=${COMP_WORDS[0]}
	local prev= cmd= dashdash= i w opts line arg
	local -A takes=()

	COMPREPLY=()
	# The tracer being completed; `tracer` from PATH if that one is not.
	if [[ $bin == */* ]]; then
		[[ -x $bin ]] || bin=tracer
	else
		bin=$(type -P "$bin") || bin=tracer
	fi

	# Global options (from tracer --help), and which take a value.
	while read -r w arg; do
		[[ $w ]] && takes[$w]=$arg
	done < <(_tracer_help "$bin")
	# Find the command and `--` before the word being completed.
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if [[ $w == -- ]]; then
			dashdash=$i
			break
		fi
		if [[ $w == -* ]]; then
			[[ $w != *=* && ${takes[$w]} ]] && ((i++))
			continue
		fi
		if [[ -z $cmd ]]; then
			for line in $(_tracer_commands "$bin"); do
				if [[ $line == "$w" ]]; then cmd=$line; break; fi
				[[ $line == "$w"* ]] && cmd=$line
			done
			[[ $cmd ]] || return 0
			while read -r line arg; do
				[[ $line ]] && takes[$line]=$arg
			done < <(_tracer_help "$bin" "$cmd")
		else
			break # the command's operand: a program follows
		fi
	done

	# After `--`: the program, then whatever it takes.
	if [[ $dashdash ]]; then
		if ((COMP_CWORD == dashdash + 1)); then
			mapfile -t COMPREPLY < <(compgen -c -- "$cur" | sort -u)
		elif declare -F _command_offset >/dev/null; then
			_command_offset $((dashdash + 1))
		else
			compopt -o default 2>/dev/null
		fi
		return 0
	fi

	prev=${COMP_WORDS[COMP_CWORD - 1]}
	if [[ $cur == --*=* ]]; then
		prev=${cur%%=*}
		cur=${cur#*=}
		_tracer_value "$bin" "$prev" "${takes[$prev]}" "$cur"
		return 0
	fi
	if ((COMP_CWORD > 1)) && [[ $prev == -* && ${takes[$prev]} ]]; then
		_tracer_value "$bin" "$prev" "${takes[$prev]}" "$cur"
		return 0
	fi

	if [[ -z $cmd && $cur != -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$(_tracer_commands "$bin")" -- "$cur")
		return 0
	fi
	# Options: the global ones and, after the command, its own (-h and -V
	# only before it).
	opts=${!takes[*]}
	if [[ $cmd ]]; then
		opts=$(printf '%s\n' $opts | grep -vxE -e '-V|--version')
		opts+=" --"
	fi
	mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
	return 0
}

complete -F _tracer tracer
