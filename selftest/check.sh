#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh (make check): every test on Debian 12's kernels 6.1 and 6.12.
# Per kernel: a W=1 build, a sparse pass, and three QEMU boots (selftest on
# 2 CPUs/512M, selftest on 4 CPUs/5G with PTI demanding a 1G split, and the
# crash boot); then checkpatch once. Each KTAP result of the module and each
# boot verdict is one test. Logs: build/logs/. Ends with "N passed, N failed"
# and fails if any test failed.
# After the per-kernel tests, dkms-vm.sh adds the DKMS tier (the package
# installed by DKMS on a Debian 12 VM with 6.1, a module linking to
# nd_vmalloc, a reboot); ND_DKMS=0 leaves it out.
#
# ND_KERNELS="6.12" limits the kernels, ND_ONLY=REGEX the boots; ND_CACHE
# moves the download cache.
set -euo pipefail
# shellcheck source=selftest/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ND_KERNELS=${ND_KERNELS:-6.1 6.12}

# One boot per line: name, mode, CPUs, memory, extra cmdline (commas for
# spaces), module params ("-" for none). Run one after the other: TCG wants both host cores.
# 5G, not 3G: with -m 3G QEMU's only whole gigabyte of RAM is split at
# boot, so no free page sits in a 1G leaf; with 5G, [1G,2G) stays one,
# unless KASLR loads the kernel there (its text mapping splits the leaf).
BOOTS=(
	"smp2-512M-numa2 selftest 2 512M:2 - -"
	"smp4-5G-pti selftest 4 5G pti=on,nokaslr selftest_need_1g=1"
	"smp2-512M crash 2 512M - -"
	"smp2-512M crash-seal 2 512M - -"
	"smp2-512M hazards 2 512M - -"
	"smp2-512M-nopool hazards 2 512M - pool_max_mb=0"
	"smp2-512M hibernate 2 512M - -"
	"smp4-1G stress 4 1G - stress=60,pool_max_mb=32"
	"smp2-512M pool 2 512M - pool_max_mb=128"
	# bench=2: a few pairs of each contender; asserts the flush counts only.
	"smp4-512M bench-smoke 4 512M - -"
)

# not_run SERIES REASON: count every test of a kernel as failed, so a broken
# step never makes the total smaller.
not_run() {
	local series=$1 reason=$2 boot name mode
	nd_result FAIL "$series: build W=1 clean" "not run: $reason"
	nd_result FAIL "$series: sparse clean" "not run: $reason"
	for boot in "${BOOTS[@]}"; do
		read -r name mode _ <<<"$boot"
		nd_result FAIL "$series/$name/$mode: boot verdict" "not run: $reason"
	done
}

# first_error LOG: the line that best explains a failed build.
first_error() {
	grep -E -m1 '(error|Error [0-9]+|No rule to make target)' "$1" || echo "make failed"
}

# build_tests DIR LOG: the module for the boots, W=1 with no diagnostic at all.
build_tests() {
	local dir=$1 log=$2 diags
	if ! nd_build "$dir" "$log" "W=1"; then
		nd_result FAIL "$ND_SERIES: build W=1 clean" "$(first_error "$log"); see ${log#"$ND_ROOT"/}"
		return 1
	fi
	diags=$(nd_diagnostics "$log")
	if [[ -n $diags ]]; then
		nd_result FAIL "$ND_SERIES: build W=1 clean" \
			"$(wc -l <<<"$diags") warnings, first: $(head -n1 <<<"$diags"); see ${log#"$ND_ROOT"/}"
	else
		nd_result PASS "$ND_SERIES: build W=1 clean"
	fi
}

# sparse_test DIR LOG WLOG WDIR: a second build from scratch with C=1, so that every file is
# compiled and so checked (C=2 skips objects built by a custom rule such as
# nd_main.o). The compiler's own warnings repeat there and were counted by
# build_tests already: only the lines the W=1 build did not print count.
sparse_test() {
	local dir=$1 log=$2 wlog=$3 wdir=$4 diags
	rm -rf "$dir"
	if ! nd_build "$dir" "$log" "W=1 C=1"; then
		nd_result FAIL "$ND_SERIES: sparse clean" "$(first_error "$log"); see ${log#"$ND_ROOT"/}"
		return
	fi
	diags=$(awk -v a="$dir/" -v b="$wdir/" '
		function strip(s, p, i) {
			while ((i = index(s, p)) > 0)
				s = substr(s, 1, i - 1) substr(s, i + length(p))
			return s
		}
		{ $0 = strip(strip($0, a), b) }
		FILENAME == ARGV[1] { seen[$0] = 1; next }
		!seen[$0]' <(nd_diagnostics "$wlog") <(nd_diagnostics "$log"))
	if [[ -n $diags ]]; then
		nd_result FAIL "$ND_SERIES: sparse clean" \
			"$(wc -l <<<"$diags") findings, first: $(head -n1 <<<"$diags"); see ${log#"$ND_ROOT"/}"
	else
		nd_result PASS "$ND_SERIES: sparse clean"
	fi
}

# kernel_tests SERIES: fetch, build, check and boot one kernel.
kernel_tests() {
	local series=$1 dir wlog boot name mode smp mem append args built=1
	nd_log "== kernel $series"
	if ! nd_use_kernel "$series"; then
		not_run "$series" "cannot fetch the $series kernel"
		return
	fi
	dir=$ND_ROOT/build/$ND_KREL
	wlog=$ND_LOGDIR/$series-build.log
	build_tests "$dir" "$wlog" || built=0
	sparse_test "$dir-sparse" "$ND_LOGDIR/$series-sparse.log" "$wlog" "$dir"
	ND_INITRD=$ND_ROOT/build/initrd-$ND_KREL.cpio.gz
	if ((built)) && ! nd_initramfs "$ND_INITRD" "$dir/nodirect_alloc.ko"; then
		built=0
	fi
	for boot in "${BOOTS[@]}"; do
		read -r name mode smp mem append args <<<"$boot"
		# ND_ONLY=REGEX: only the boots whose name/mode match (development).
		[[ -n ${ND_ONLY:-} && ! $name/$mode =~ $ND_ONLY ]] && continue
		[[ $append == - ]] && append=
		append=${append//,/ }
		[[ $args == - ]] && args=
		if ((built)); then
			nd_boot "$series/$name/$mode" "$mode" "$smp" "$mem" "$append" "$args"
		else
			nd_result FAIL "$series/$name/$mode: boot verdict" "not run: no module"
		fi
	done
}

style_test() {
	local log=$ND_LOGDIR/style.log
	if bash "$ND_ROOT/selftest/style.sh" >"$log" 2>&1; then
		nd_result PASS "checkpatch --strict clean"
	else
		nd_result FAIL "checkpatch --strict clean" "$(tail -n1 "$log"); see ${log#"$ND_ROOT"/}"
	fi
}

main() {
	local start=$SECONDS series
	bash "$ND_ROOT/selftest/deps.sh"
	rm -rf "$ND_LOGDIR"
	nd_results_reset
	for series in $ND_KERNELS; do
		kernel_tests "$series"
	done
	if [[ ${ND_DKMS:-1} != 0 ]]; then
		ND_RESULTS=$ND_RESULTS ND_LOGDIR=$ND_LOGDIR bash "$ND_ROOT/selftest/dkms-vm.sh" ||
			nd_result FAIL "dkms tier" "dkms-vm.sh stopped; see its output above"
	fi
	style_test
	echo "check took $((SECONDS - start)) s"
	nd_summary
}

main "$@"
