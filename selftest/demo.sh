#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# demo.sh (make demo): boot Debian 12's 6.12 kernel (ND_KERNEL=<name> for
# another kernel of kernels.sh, e.g. trixie-bpo-rt) in QEMU, load
# nodirect_alloc with demo=1 and show, live, what the module prints and its
# counters. Ends with one line: the result.
set -euo pipefail
# shellcheck source=selftest/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ND_KERNEL=${ND_KERNEL:-6.12}

# follow PID LOG: print the console lines a person cares about until PID
# ends: the module's own, the counters, the verdict and any kernel alarm.
follow() {
	tail -n +1 -F --pid="$1" "$2" 2>/dev/null |
		sed -u -e 's/\r$//' -e 's/^\[ *[0-9]*\.[0-9]*\] //' |
		grep --line-buffered -E "nodirect_alloc|ND-|$ND_BAD_ALWAYS|$ND_BAD_UNLESS_CRASH" |
		grep --line-buffered -v -E 'taints kernel|tainting kernel' |
		sed -u -e 's|^/sys/kernel/nodirect_alloc/\([^:]*\):|  counter \1 = |' -e 's/^/  | /' ||
		true # only a view: the logs are judged afterwards
}

main() {
	local log name pid reason
	bash "$ND_ROOT/selftest/deps.sh"
	nd_use_kernel "$ND_KERNEL" || nd_die "cannot fetch the $ND_KERNEL kernel"
	log=$ND_LOGDIR/demo-build.log
	echo "Building nodirect_alloc for $ND_KREL"
	if ! nd_build "$ND_ROOT/build/$ND_KREL" "$log" "W=1"; then
		tail -n 20 "$log"
		echo "demo: FAIL: the module does not build for $ND_KREL (${log#"$ND_ROOT"/})"
		exit 1
	fi
	ND_INITRD=$ND_ROOT/build/initrd-$ND_KREL.cpio.gz
	nd_initramfs "$ND_INITRD" "$ND_ROOT/build/$ND_KREL/nodirect_alloc.ko"
	name=$ND_KREL/smp2-512M/demo
	echo "Booting $ND_KREL in QEMU (2 CPUs, 512M, no KVM: under a minute)"
	nd_boot_paths "$name"
	rm -f "$ND_CONSOLE" # tail must not show an old boot
	nd_boot_run "$name" demo 2 512M "" "" &
	pid=$!
	follow "$pid" "$ND_CONSOLE"
	ND_QEMU_RC=0
	wait "$pid" || ND_QEMU_RC=$?
	reason=$(nd_boot_reason "$name" demo)
	if [[ -z $reason ]]; then
		echo "demo: PASS: nodirect_alloc ran its demo on $ND_KREL and unloaded cleanly (${ND_CONSOLE#"$ND_ROOT"/})"
	else
		echo "demo: FAIL: $reason"
		exit 1
	fi
}

main "$@"
