#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# run-vm.sh --kernel VMLINUZ --initrd INITRD --mode MODE --console LOG
#           --verdict LOG [--smp N] [--mem SIZE[:NODES]] [--append "ARGS"]
#           [--args "MODULE PARAMS"] [--timeout SECONDS]
#
# One QEMU boot (TCG: no KVM here) of the test guest. ttyS0 goes to the
# console log, ttyS1 to the verdict log. Exits with QEMU's status, or 124
# if the guest had to be killed; that status says nothing about the test
# (QEMU exits 0 after a panic too): judge the logs. --mem 1G:2 splits the
# memory and the CPUs evenly over 2 NUMA nodes.
set -euo pipefail
# shellcheck source=selftest/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Panic on anything suspicious so a bad boot ends fast and loud;
# init_on_free catches a hidden page handed back to the allocator.
ND_BASE_APPEND="console=ttyS0 panic=-1 oops=panic panic_on_warn=1 softlockup_panic=1 init_on_free=1"

usage() {
	sed -n '3,5s/^# //p' "$0" >&2
	exit 2
}

# numa_args NODES MEM SMP: fill numa[] with QEMU options for NODES nodes,
# each with an equal share of MEM (in M or G) and of the SMP CPUs.
numa_args() {
	local nodes=$1 mem=$2 smp=$3 mb n per_cpu
	case $mem in
	*G) mb=$((${mem%G} * 1024)) ;;
	*M) mb=${mem%M} ;;
	*) usage ;;
	esac
	per_cpu=$((smp / nodes))
	((per_cpu >= 1)) || usage
	for ((n = 0; n < nodes; n++)); do
		numa+=(-object "memory-backend-ram,id=ram$n,size=$((mb / nodes))M"
			-numa "node,nodeid=$n,cpus=$((n * per_cpu))-$(((n + 1) * per_cpu - 1)),memdev=ram$n")
	done
}

main() {
	local kernel='' initrd='' mode='' console='' verdict='' append='' args=''
	local smp=2 mem=512M timeout=$ND_BOOT_TIMEOUT
	while (($#)); do
		(($# >= 2)) || usage
		case $1 in
		--kernel) kernel=$2 ;;
		--initrd) initrd=$2 ;;
		--mode) mode=$2 ;;
		--console) console=$2 ;;
		--verdict) verdict=$2 ;;
		--smp) smp=$2 ;;
		--mem) mem=$2 ;;
		--append) append=$2 ;;
		--args) args=$2 ;;
		--timeout) timeout=$2 ;;
		*) usage ;;
		esac
		shift 2
	done
	[[ -n $kernel && -n $initrd && -n $mode && -n $console && -n $verdict ]] || usage
	local -a numa=()
	if [[ $mem == *:* ]]; then
		numa_args "${mem#*:}" "${mem%:*}" "$smp"
		# A socket per node: CPUs sharing a cache across nodes make
		# the scheduler's topology check WARN.
		smp="$smp,sockets=${mem#*:},cores=$((smp / ${mem#*:})),threads=1"
		mem=${mem%:*}
	fi
	# The guest splits nd.args on commas (no quoting on the cmdline).
	append="$ND_BASE_APPEND nd.mode=$mode${args:+ nd.args=${args// /,}}${append:+ $append}"
	rm -f "$console" "$verdict"
	timeout --kill-after=10 "$timeout" \
		qemu-system-x86_64 -accel tcg,thread=multi -cpu max -smp "$smp" -m "$mem" \
		-nodefaults -display none -no-reboot \
		"${numa[@]}" -kernel "$kernel" -initrd "$initrd" -append "$append" \
		-serial "file:$console" -serial "file:$verdict" </dev/null
}

main "$@"
