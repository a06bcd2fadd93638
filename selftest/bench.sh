#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh (make bench): what hiding memory costs. Boots each kernel (by
# default Debian 12's 6.1, Debian 13's 6.12 and the newest of
# trixie-backports: 6.1, trixie and trixie-bpo in kernels.sh) with 1, 2, 4
# and 8 vCPUs, twelve boots, in nd.mode=bench (memfd_secret_bench, then the
# module with bench=1: every contender in one boot, interleaved), collects
# the "bench:" lines from the consoles and writes
#   bench/results.md          the tables, ratios and the targets
#   bench/results.tsv         every line, in ns (profile.tsv: the profile)
#   bench/cost-per-page.png   cost per page against size, per contender
#   bench/cost-vs-cpus.png    a 64-page pair against the vCPUs, per kernel
#                             (only with more than one vCPU count)
# each plot with its data (.dat) and script (.gp) beside it.
# Logs: build/bench-logs/. Fails if a boot failed (its tables are missing).
#
# ND_BENCH_KERNELS="6.12" (names of kernels.sh) and ND_BENCH_SMP="4" narrow
# the run; ND_BENCH_OUT moves the results (default: bench/);
# ND_BENCH_TIMEOUT bounds each boot.
set -euo pipefail
# shellcheck source=selftest/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# A full 4-vCPU boot takes about 70 s on two quiet host cores, over 300 s
# when other guests share them. An 8-vCPU boot has not been timed yet: it
# runs twice the vCPU threads on the same cores and every flush waits for
# seven other CPUs, so the bound allows twice the 4-vCPU bound and more.
ND_BOOT_TIMEOUT=${ND_BENCH_TIMEOUT:-1800}
ND_BENCH_KERNELS=${ND_BENCH_KERNELS:-6.1 trixie trixie-bpo}
ND_BENCH_SMP=${ND_BENCH_SMP:-1 2 4 8}
ND_BENCH_OUT=${ND_BENCH_OUT:-$ND_ROOT/bench}
ND_LOGDIR=$ND_ROOT/build/bench-logs
ND_RESULTS=$ND_LOGDIR/results.tsv
# 1G holds the cold phase's ballast. secretmem is off by default on 6.1;
# init_on_free=0 (Debian's default) overrides the harness's init_on_free=1,
# which would make every vfree() wipe the pages a second time.
BENCH_MEM=1G
BENCH_APPEND="secretmem.enable=1 init_on_free=0"

DATA=$ND_LOGDIR/results.tsv.raw
PROFILE=$ND_LOGDIR/profile.tsv.raw

# build_kernel SERIES: set ND_INITRD to a bench initramfs for SERIES.
build_kernel() {
	local dir=$ND_ROOT/build/$ND_KREL log=$ND_LOGDIR/$1-build.log
	nd_build "$dir" "$log" "" || { tail -n 5 "$log" >&2; return 1; }
	ND_INITRD=$ND_ROOT/build/initrd-bench-$ND_KREL.cpio.gz
	nd_initramfs "$ND_INITRD" "$dir/nodirect_alloc.ko" \
		"$ND_ROOT/build/guest/memfd_secret_bench=/memfd_secret_bench"
}

# collect SERIES SMP: append the boot's "bench:" lines to the two tables.
# A line cut by a kernel message in the middle lacks its last field.
collect() {
	nd_console_text "$ND_CONSOLE" | awk -v k="$1" -v rel="$ND_KREL" -v smp="$2" \
		-v data="$DATA" -v prof="$PROFILE" '
	{
		i = index($0, "bench: phase=")
		if (!i)
			next
		n = split(substr($0, i + 7), f, " ")
		split("", v)
		for (j = 1; j <= n; j++) {
			e = index(f[j], "=")
			if (e)
				v[substr(f[j], 1, e - 1)] = substr(f[j], e + 1)
		}
		head = k "\t" rel "\t" smp "\t" v["phase"] "\t" v["contender"] "\t" v["pages"] "\t" v["iters"]
		if (v["phase"] == "profile") {
			if (v["walk_ns"] == "")
				next
			print head "\t" v["map_ns"] "\t" v["hide_ns"] "\t" v["flush_ns"] "\t" \
				v["wipe_ns"] "\t" v["restore_ns"] "\t" v["vfree_ns"] "\t" v["base_ns"] "\t" \
				v["walk_ns"] >>prof
		} else {
			if (v["splits"] == "")
				next
			print head "\t" v["median_ns"] "\t" v["p90_ns"] "\t" v["ipis"] "\t" \
				v["ipis_alloc"] "\t" v["ipis_free"] "\t" v["tlb"] "\t" \
				v["flushes_alloc"] "\t" v["flushes_free"] "\t" v["splits"] >>data
		}
	}'
}

# run_kernel SERIES: every vCPU count of one kernel.
run_kernel() {
	local series=$1 smp name
	nd_log "== kernel $series"
	if ! nd_use_kernel "$series" || ! build_kernel "$series"; then
		nd_result FAIL "$series: bench" "cannot fetch or build for the $series kernel"
		return
	fi
	for smp in $ND_BENCH_SMP; do
		name=$series/smp$smp-$BENCH_MEM/bench
		CONTENTION+="${CONTENTION:+, }$series/$smp vCPU: $(other_qemus)"
		nd_boot "$name" bench "$smp" "$BENCH_MEM" "$BENCH_APPEND" ""
		[[ $(tail -n1 "$ND_RESULTS" | cut -f1) == PASS ]] || continue
		collect "$series" "$smp"
	done
}

# Load of the host, and QEMUs that are not ours: what the timings shared
# the host cores with. (comm is cut to 15 characters.)
host_load() {
	cut -d' ' -f1-3 /proc/loadavg
}

other_qemus() {
	pgrep -c 'qemu-system-x86' || true
}

main() {
	local start=$SECONDS load0 series
	CONTENTION=''
	bash "$ND_ROOT/selftest/deps.sh"
	rm -rf "$ND_LOGDIR"
	mkdir -p "$ND_LOGDIR" "$ND_ROOT/build/guest" "$ND_BENCH_OUT"
	nd_results_reset
	printf 'series\tkrel\tcpus\tphase\tcontender\tpages\tpairs\tmedian_ns\tp90_ns\tipis\tipis_alloc\tipis_free\ttlb\tflushes_alloc\tflushes_free\tsplits\n' >"$DATA"
	printf 'series\tkrel\tcpus\tphase\tcontender\tpages\titers\tmap_ns\thide_ns\tflush_ns\twipe_ns\trestore_ns\tvfree_ns\tbase_ns\twalk_ns\n' >"$PROFILE"
	load0=$(host_load)
	gcc -static -O2 -Wall -Wextra -Werror -o "$ND_ROOT/build/guest/memfd_secret_bench" \
		"$ND_ROOT/selftest/memfd_secret_bench.c"
	for series in $ND_BENCH_KERNELS; do
		run_kernel "$series"
	done
	if (($(wc -l <"$DATA") > 1)); then
		cp "$DATA" "$ND_BENCH_OUT/results.tsv"
		cp "$PROFILE" "$ND_BENCH_OUT/profile.tsv"
		bash "$ND_ROOT/selftest/bench-report.sh" "$ND_BENCH_OUT" \
			"date=$(date -u '+%Y-%m-%d %H:%M UTC')" \
			"host=$(nproc) host cores, $(sed -n 's/^model name\t*: //p' /proc/cpuinfo | head -n1)" \
			"load=$load0 at the start, $(host_load) at the end (1/5/15 min)" \
			"qemus=other QEMU guests running as each boot started: $CONTENTION" \
			"wall=$((SECONDS - start)) s"
		nd_log "wrote ${ND_BENCH_OUT#"$ND_ROOT"/}/results.md and cost-per-page.png"
		if [[ -s $ND_BENCH_OUT/cost-vs-cpus.png ]]; then
			nd_log "wrote ${ND_BENCH_OUT#"$ND_ROOT"/}/cost-vs-cpus.png (a 64-page pair against the vCPUs)"
		else
			nd_log "no cost-vs-cpus.png: each kernel ran at one vCPU count (ND_BENCH_SMP=$ND_BENCH_SMP)"
		fi
	fi
	echo "bench took $((SECONDS - start)) s"
	nd_summary
}

main "$@"
