#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# run-vm.sh --kernel VMLINUZ --initrd INITRD --mode MODE --console LOG
#           --verdict LOG [--smp N] [--mem SIZE] [--append "ARGS"]
#           [--args "MODULE PARAMS"] [--timeout SECONDS]
#
# One QEMU boot (TCG: no KVM here) of the test guest. ttyS0 goes to the
# console log, ttyS1 to the verdict log. Exits with QEMU's status, or 124
# if the guest had to be killed; that status says nothing about the test
# (QEMU exits 0 after a panic too): judge the logs.
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
	# The guest splits nd.args on commas (no quoting on the cmdline).
	append="$ND_BASE_APPEND nd.mode=$mode${args:+ nd.args=${args// /,}}${append:+ $append}"
	rm -f "$console" "$verdict"
	timeout --kill-after=10 "$timeout" \
		qemu-system-x86_64 -accel tcg,thread=multi -cpu max -smp "$smp" -m "$mem" \
		-nodefaults -display none -no-reboot \
		-kernel "$kernel" -initrd "$initrd" -append "$append" \
		-serial "file:$console" -serial "file:$verdict" </dev/null
}

main "$@"
