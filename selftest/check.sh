#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh (make check): every test on every kernel of the matrix
# (kernels.sh: Debian 12's 6.1 and 6.12, Debian 13's 6.12, trixie-backports'
# newest kernel and its rt and cloud flavours). Per kernel: a W=1 build and a
# sparse pass with the kernel's own compiler (Debian 13's in a trixie build
# root), and QEMU boots: every kernel gets the selftest, hazards and stress
# boots, the matrix row says which of the others. Then checkpatch once. Each
# KTAP result of the module and each boot verdict is one test, named after
# the kernel release (7.3.4+deb13-rt-amd64/smp4-1G/stress: ...). Logs:
# build/logs/. Ends with "N passed, N failed" and fails if any test failed.
# Two queues of VMs (see main): most stock kernels, then the Secure Boot
# tiers; beside them, trixie's 6.12 and rt, then the debug kernel.
# secureboot.sh's tiers:
# on Debian 12 (6.1) and 13 (trixie-backports' newest) VMs, the package
# installed and signed by DKMS under Secure Boot and lockdown, a module
# linking to nd_vmalloc, a reboot, then a purge; the in-guest DKMS build
# under TCG is what they cost. ND_SECUREBOOT=0 leaves them out,
# ND_SECUREBOOT=bookworm or trixie keeps one. dkms-vm.sh's BIOS tiers (the
# same install, reboot and purge without firmware keys) cover nothing the
# Secure Boot tiers do not but the unsigned path: ND_DKMS=bookworm (or
# "bookworm trixie") adds them, ahead of the Secure Boot tiers.
#
# ND_KERNELS="6.1 trixie-bpo-rt" limits the kernels (names of kernels.sh),
# ND_ONLY=REGEX the boots (matched against name/mode); ND_CACHE moves the
# download cache.
set -euo pipefail
# shellcheck source=selftest/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ND_KERNELS=${ND_KERNELS:-$(nd_matrix_names | tr '\n' ' ')}
ND_DKMS=${ND_DKMS:-0}
[[ $ND_DKMS == 1 ]] && ND_DKMS="bookworm"
ND_SECUREBOOT=${ND_SECUREBOOT:-bookworm trixie}
[[ $ND_SECUREBOOT == 1 ]] && ND_SECUREBOOT="bookworm trixie"
[[ $ND_SECUREBOOT == 0 ]] && ND_SECUREBOOT=''

STOCK_CHECKERS=slub_debug=FZPU,page_poison=1,kfence.sample_interval=100

# Boots (tags or modes) that run without the debug row's debug_pagealloc.
# It unmaps every free page from the direct map and maps the direct map
# with 4K pages only: a boot that compares direct-map entries bit for bit
# after a free, sweeps the direct map for hidden entries, or needs a 1G
# leaf to split, would judge the kernel's checker instead of the module.
NO_PAGEALLOC="selftest stress faults hibernate pti5g"

# One boot per line: the tag a matrix row selects it by, name, mode, CPUs,
# memory, extra cmdline (commas for spaces), module params ("-" for none).
# "core" boots run on every kernel; "selftest" is the plain selftest, left
# out where numa2 (the same selftest over two nodes) runs; every kernel
# gets one stress boot. "base" and "kimage" are tags like the others: a
# row that shares its source with another (Debian 12's 6.12 is trixie's,
# cloud is trixie-backports') leaves out what the other runs. A kernel's
# boots run one after the other (two queues of VMs in all: see main).
# 5G, not 3G: with -m 3G QEMU's only whole gigabyte of RAM is split at
# boot, so no free page sits in a 1G leaf; with 5G, [1G,2G) stays one,
# unless KASLR loads the kernel there (its text mapping splits the leaf).
BOOTS=(
	# On every kernel the selftest and stress boots run with the slab and
	# page checkers a stock kernel has built in: SLUB's red zones, poison
	# and free-pointer checks, page poisoning, and KFENCE sampling.
	"selftest smp2-512M selftest 2 512M $STOCK_CHECKERS -"
	"numa2 smp2-512M-numa2 selftest 2 512M:2 $STOCK_CHECKERS -"
	"pti5g smp4-5G-pti selftest 4 5G pti=on,nokaslr selftest_need_1g=1"
	# Without PTI, freed kernel-image pages keep their high alias.
	"nopti smp2-512M-nopti selftest 2 512M pti=off -"
	"crash smp2-512M crash 2 512M - -"
	# A write through a sealed area's own address: the real fault.
	"base smp2-512M crash-seal 2 512M - -"
	"core smp2-512M hazards 2 512M - -"
	"nopool smp2-512M-nopool hazards 2 512M - pool_max_mb=0"
	# The hibernation window is a promise on each source, and so is the
	# last-moment refusal for a module loaded after PREPARE.
	"base smp2-512M hibernate 2 512M - -"
	"kimage smp2-512M snapshot 2 512M - -"
	# kexec into the same kernel: nothing of a live allocation may be
	# left in RAM for the next one.
	"kimage smp2-512M kexec 2 512M - -"
	# 60 s of stress where every boot runs, 30 s elsewhere (time);
	# secretmem on for stress-ng's secretmem stressor (off by default on 6.1).
	"stress-long smp4-1G stress 4 1G secretmem.enable=1,$STOCK_CHECKERS stress=60,pool_max_mb=32"
	"stress-short smp4-1G stress 4 1G secretmem.enable=1,$STOCK_CHECKERS stress=30,pool_max_mb=32"
	"pool smp2-512M pool 2 512M - pool_max_mb=128"
	# A module linking to our exports, loaded with insmod (no DKMS).
	"consumer smp2-512M consumer 2 512M - -"
	# The kernel's own fault injection on the stress workload (debug only).
	"faults smp4-1G faults 4 1G - stress=30,pool_max_mb=32"
	# bench=2: a few pairs of each contender; asserts the flush counts only.
	"bench smp4-512M bench-smoke 4 512M - -"
	# The trace events in tracefs around a fixed sequence (trace_test.c).
	"trace smp2-512M trace 2 512M - -"
)

# boot_selected TAG: whether the kernel of nd_matrix_row gets TAG's boots.
boot_selected() {
	local tag=$1
	case $tag in
	core) return 0 ;;
	selftest) ! boot_selected numa2 ;;
	stress-long) [[ $ND_K_BOOTS == all ]] ;;
	stress-short) [[ $ND_K_BOOTS != all ]] ;;
	faults) [[ $ND_K_META == linux-source ]] ;;
	*) [[ $ND_K_BOOTS == all || ,$ND_K_BOOTS, == *,$tag,* ]] ;;
	esac
}

# kernel_boots: the BOOTS lines of the kernel of nd_matrix_row that ND_ONLY
# (a regex on name/mode, for development) lets through.
kernel_boots() {
	local boot tag name mode
	for boot in "${BOOTS[@]}"; do
		read -r tag name mode _ <<<"$boot"
		boot_selected "$tag" || continue
		[[ -n ${ND_ONLY:-} && ! $name/$mode =~ $ND_ONLY ]] && continue
		printf '%s\n' "$boot"
	done
}

# not_run KERNEL REASON: count every test of a kernel as failed, so a broken
# step never makes the total smaller.
not_run() {
	local kernel=$1 reason=$2 boot name mode
	nd_result FAIL "$kernel: build W=1 clean" "not run: $reason"
	nd_result FAIL "$kernel: calls go down" "not run: $reason"
	nd_result FAIL "$kernel: sparse clean" "not run: $reason"
	while read -r _ name mode _; do
		nd_result FAIL "$kernel/$name/$mode: boot verdict" "not run: $reason"
	done < <(kernel_boots)
}

# first_error LOG: the line that best explains a failed build.
first_error() {
	grep -E -m1 '(error|Error [0-9]+|No rule to make target)' "$1" || echo "make failed"
}

# build_tests DIR LOG: the module for the boots, W=1 with no diagnostic at all.
build_tests() {
	local dir=$1 log=$2 diags
	if ! nd_build "$dir" "$log" "W=1"; then
		nd_result FAIL "$ND_KREL: build W=1 clean" "$(first_error "$log"); see ${log#"$ND_ROOT"/}"
		return 1
	fi
	diags=$(nd_diagnostics "$log")
	if [[ -n $diags ]]; then
		nd_result FAIL "$ND_KREL: build W=1 clean" \
			"$(wc -l <<<"$diags") warnings, first: $(head -n1 <<<"$diags"); see ${log#"$ND_ROOT"/}"
	else
		nd_result PASS "$ND_KREL: build W=1 clean"
	fi
}

# layers_test DIR: in the objects of a build, every use of a function or
# variable of another of the module's files goes down (selftest/layers.sh).
layers_test() {
	local out
	if out=$(bash "$ND_ROOT/selftest/layers.sh" "$1" 2>&1); then
		nd_result PASS "$ND_KREL: calls go down" "$(tail -n1 <<<"$out")"
	else
		nd_result FAIL "$ND_KREL: calls go down" "$(grep -m1 FAIL <<<"$out" || tail -n1 <<<"$out")"
	fi
}

# sparse_test DIR LOG WLOG: sparse over every file of the tree build_tests
# built, with C=2, which checks without compiling again (sources are copied
# with their times kept, and Kbuild's own rule forces the check too). Only
# the lines the W=1 build did not print count, should anything recompile.
sparse_test() {
	local dir=$1 log=$2 wlog=$3 diags objs checked
	if ! nd_build "$dir" "$log" "W=1 C=2"; then
		nd_result FAIL "$ND_KREL: sparse clean" "$(first_error "$log"); see ${log#"$ND_ROOT"/}"
		return
	fi
	diags=$(awk -v a="$dir/" '
		function strip(s, p, i) {
			while ((i = index(s, p)) > 0)
				s = substr(s, 1, i - 1) substr(s, i + length(p))
			return s
		}
		{ $0 = strip($0, a) }
		FILENAME == ARGV[1] { seen[$0] = 1; next }
		!seen[$0]' <(nd_diagnostics "$wlog") <(nd_diagnostics "$log"))
	# kbuild quietly skips a checker it finds unfit: no CHECK line, no
	# check. Every object the module is made of must have been checked.
	objs=$(wc -w <"$dir/nodirect_alloc.mod")
	checked=$(grep -c '^ *CHECK ' "$log" || true)
	if ((checked < objs)); then
		nd_result FAIL "$ND_KREL: sparse clean" \
			"sparse checked $checked of $objs files: $(grep -m1 -i 'checker\|sparse' "$log" || echo 'no CHECK line'); see ${log#"$ND_ROOT"/}"
	elif [[ -n $diags ]]; then
		nd_result FAIL "$ND_KREL: sparse clean" \
			"$(wc -l <<<"$diags") findings, first: $(head -n1 <<<"$diags"); see ${log#"$ND_ROOT"/}"
	else
		nd_result PASS "$ND_KREL: sparse clean"
	fi
}

# The debug kernel's checkers, each with the line it prints when it is
# switched on (debug_pagealloc prints none: its command-line switch).
CHECKERS=(
	"lockdep:Lock dependency validator"
	"KASAN:KernelAddressSanitizer initialized"
	"KFENCE:kfence: initialized"
	"kmemleak:Kernel memory leak detector initialized"
	"debug_pagealloc:Kernel command line:.* debug_pagealloc=on"
	"kmemleak scan:ND-KMEMLEAK: "
)

# checkers_test NAME APPEND: the boot just judged ran with every checker on
# (debug_pagealloc where APPEND asked for it).
checkers_test() {
	local name=$1 append=$2 c missing=()
	for c in "${CHECKERS[@]}"; do
		[[ $c == debug_pagealloc:* && $append != *debug_pagealloc=on* ]] && continue
		grep -q -E "${c#*:}" "$ND_CONSOLE" || missing+=("${c%%:*}")
	done
	# The crash boots end in the panic they provoke, and the kexec boot
	# in the next kernel's scan of RAM: neither unloads the module.
	[[ ${missing[*]} == "kmemleak scan" && $name =~ /(crash[^/]*|kexec)$ ]] && missing=()
	if ((${#missing[@]})); then
		nd_result FAIL "$name: checkers active" "not seen: ${missing[*]}"
	else
		nd_result PASS "$name: checkers active"
	fi
}

# debug_mem MEM: the memory of a hibernating or kexec boot on the debug
# kernel. Its checkers take their share (KASAN's shadow an eighth of RAM,
# kmemleak's and the debug objects' pools): below 2G it gets twice as
# much, so that, as on the stock kernels, half of it is free for the image
# (hibernation) or for the next kernel and its initramfs (kexec: with
# 512M the OOM killer took the marker's holder).
debug_mem() {
	local mem=${1%%:*} nodes=${1#*:}
	[[ $nodes == "$1" ]] && nodes='' || nodes=:$nodes
	case $mem in
	512M) mem=1G ;;
	1G) mem=2G ;;
	esac
	printf '%s%s\n' "$mem" "$nodes"
}

# consumer_build DIR: selftest/consumer's nd_keystore.ko, a module that
# links to our exports, built into DIR-consumer against the Module.symvers
# of the module in DIR, for the consumer boot (no DKMS: insmod of both).
consumer_build() {
	local dir=$1 log=$ND_LOGDIR/$ND_KREL-consumer.log diags
	rm -rf "$dir-consumer"
	cp -r "$ND_ROOT/selftest/consumer" "$dir-consumer"
	if ! nd_kmake -C "$dir-consumer" --no-print-directory KDIR="$ND_KDIR" \
		ND_SYMVERS="$dir/Module.symvers" ND_INCLUDE="$ND_ROOT" \
		ND_KBUILD_FLAGS="W=1" >"$log" 2>&1; then
		nd_result FAIL "$ND_KREL: consumer builds W=1 clean" "$(first_error "$log"); see ${log#"$ND_ROOT"/}"
		return 1
	fi
	diags=$(nd_diagnostics "$log")
	if [[ -n $diags ]]; then
		nd_result FAIL "$ND_KREL: consumer builds W=1 clean" "first: $(head -n1 <<<"$diags")"
	else
		nd_result PASS "$ND_KREL: consumer builds W=1 clean"
	fi
}

# prepare_kernel NAME: fetch one kernel of the matrix (or build it: the
# debug row), build the module against it, check it (W=1, layers, sparse)
# and pack its initramfs: all a kernel's boots need. Run ahead of the boots
# by main's preparing job; what the boots need from it goes into the
# shell-quoted assignments it prints on fd 4 (ND_PREP: built, or none when
# the kernel itself is missing).
prepare_kernel() {
	local kname=$1 dir wlog built=1
	local -a consumer
	nd_log "== kernel $kname"
	if ! nd_matrix_row "$kname"; then
		ND_K_BOOTS=all ND_K_META=''
		not_run "$kname" "no such kernel in kernels.sh"
		echo "ND_PREP=none" >&4
		return
	fi
	if ! nd_use_kernel "$kname"; then
		not_run "$kname" "cannot fetch the $kname kernel or its build root"
		echo "ND_PREP=none" >&4
		return
	fi
	nd_log "   $ND_KREL, built with $ND_KCC${ND_BUILDROOT:+ in $ND_BUILDROOT}"
	dir=$ND_ROOT/build/$ND_KREL
	wlog=$ND_LOGDIR/$ND_KREL-build.log
	build_tests "$dir" "$wlog" || built=0
	if ((built)); then
		layers_test "$dir"
		sparse_test "$dir" "$ND_LOGDIR/$ND_KREL-sparse.log" "$wlog"
	else
		nd_result FAIL "$ND_KREL: calls go down" "not run: the build failed"
		nd_result FAIL "$ND_KREL: sparse clean" "not run: the build failed"
	fi
	ND_INITRD=$ND_ROOT/build/initrd-$ND_KREL.cpio.gz
	consumer=()
	# awk reads the whole list: grep -q would stop at the first match,
	# and kernel_boots, cut off by SIGPIPE, fail the pipeline (pipefail).
	if ((built)) && kernel_boots | awk '$1 == "consumer" { f = 1 } END { exit !f }'; then
		consumer_build "$dir" && consumer=("$dir-consumer/nd_keystore.ko=/nd_keystore.ko")
	fi
	# The kexec boot loads the same kernel again.
	if ((built)) && kernel_boots | awk '$3 == "kexec" { f = 1 } END { exit !f }'; then
		consumer+=("$ND_VMLINUZ=/vmlinuz")
	fi
	if ((built)) && ! nd_initramfs "$ND_INITRD" "$dir/nodirect_alloc.ko" "${consumer[@]}"; then
		built=0
	fi
	{
		echo "ND_PREP=built"
		declare -p ND_KREL ND_VMLINUZ ND_INITRD built | sed 's/^declare -- //'
	} >&4
}

# prepare_all DIR NAME...: prepare_kernel for each NAME in turn, each into
# DIR/NAME.{out,tsv,env}, then DIR/NAME.done. At nice 15 while the boots
# run: they keep the cores they need, and a kernel's builds take what the
# boots leave; at 0 while a queue's boots wait for it (kernel_tests: with
# two queues waiting, it stays at 0 until neither waits).
prepare_all() {
	local prep=$1 kname
	shift
	renice -n 15 -p "$BASHPID" >/dev/null
	for kname; do
		# shellcheck disable=SC2030 # this kernel's own results file
		(
			ND_RESULTS=$prep/$kname.tsv
			nd_results_reset
			t=$SECONDS
			prepare_kernel "$kname" 4>"$prep/$kname.env"
			nd_log "   (prepared in $((SECONDS - t)) s, beside the boots)"
		) >"$prep/$kname.out" 2>&1 || true
		touch "$prep/$kname.done"
	done
}

# early_builds LOG NAME...: the kernels built from source (the debug row),
# built now, at the priority of the boots. On a cold cache that
# build is the longest step of all (half an hour with the VMs beside it),
# and its row's boots come last: begun when prepare_all reaches the row,
# it would leave the end of the run to the build and those boots alone.
# Its own lock makes prepare_kernel wait for it; on a warm cache it ends
# at once.
early_builds() {
	local log=$1 kname
	shift
	for kname; do
		nd_log "== building the $kname kernel beside the others (if not cached)"
		bash "$ND_ROOT/selftest/debug-kernel.sh" "$kname" >/dev/null || true
	done >"$log" 2>&1
}

# renice_tree NICE PID: PID and all its descendants to NICE.
renice_tree() {
	local nice=$1 pids=("$2") i=0 child
	while ((i < ${#pids[@]})); do
		for child in $(pgrep -P "${pids[i]}"); do
			pids+=("$child")
		done
		i=$((i + 1))
	done
	renice -n "$nice" -p "${pids[@]}" >/dev/null 2>&1 || true
}

# kernel_tests NAME PREP_DIR PREP_PID: once prepare_all has prepared NAME,
# its output and results, then its boots.
kernel_tests() {
	local kname=$1 prep=$2 pid=$3 boot tag name mode smp mem append args row_append timeout
	local ND_PREP='' ND_KREL='' ND_VMLINUZ='' ND_INITRD='' built=0
	# Nothing to boot until it is ready: meanwhile the job is not behind
	# the other queue's VM (at nice 15 it got almost nothing beside it).
	# The other queue, if it waits too, sets 0 again within a second.
	while [[ ! -e $prep/$kname.done ]] && kill -0 "$pid" 2>/dev/null; do
		renice_tree 0 "$pid"
		sleep 1
	done
	renice_tree 15 "$pid"
	cat "$prep/$kname.out" 2>/dev/null || true
	# shellcheck disable=SC2031 # the parent's, as intended
	cat "$prep/$kname.tsv" >>"$ND_RESULTS" 2>/dev/null || true
	if [[ ! -e $prep/$kname.done ]]; then
		nd_matrix_row "$kname" 2>/dev/null || ND_K_BOOTS=all ND_K_META=''
		not_run "$kname" "the job that prepares the kernels stopped"
		return
	fi
	# shellcheck disable=SC1090 # written by prepare_kernel
	. "$prep/$kname.env"
	nd_matrix_row "$kname" 2>/dev/null || return 0
	case $ND_PREP in
	built) ;;
	none) return ;;
	*)
		not_run "$kname" "preparing it stopped half way (see above)"
		return
		;;
	esac
	# fd 3: nothing a boot runs may eat the list.
	while read -r -u 3 tag name mode smp mem append args; do
		[[ $append == - ]] && append=
		append=${append//,/ }
		row_append=$ND_K_APPEND
		[[ " $NO_PAGEALLOC " == *" $tag "* || " $NO_PAGEALLOC " == *" $mode "* ]] &&
			row_append=$(sed 's/debug_pagealloc=on *//' <<<"$row_append")
		# The row's last: its switches win over the boot's.
		append=$append${row_append:+${append:+ }$row_append}
		[[ $args == - ]] && args=
		if [[ $ND_K_META == linux-source && $mode =~ ^(hibernate|snapshot|kexec)$ ]]; then
			row_append=$(debug_mem "$mem")
			name=${name/-${mem%%:*}/-${row_append%%:*}}
			mem=$row_append
		fi
		if ((built)); then
			# The checkers make a boot two to three times slower, and a
			# host busy with the DKMS tiers slower again (the 5G PTI
			# selftest: 158 s alone, over 300 s in CI).
			timeout=$ND_BOOT_TIMEOUT
			[[ $ND_K_META == linux-source ]] && timeout=$((timeout * 2))
			ND_BOOT_TIMEOUT=$timeout \
				nd_boot "$ND_KREL/$name/$mode" "$mode" "$smp" "$mem" "$append" "$args"
			if [[ $ND_K_META == linux-source ]]; then
				checkers_test "$ND_KREL/$name/$mode" "$append"
			fi
		else
			nd_result FAIL "$ND_KREL/$name/$mode: boot verdict" "not run: no module"
		fi
	done 3< <(kernel_boots)
}

# Each committed plot must show what its table says (selftest/plot-check.sh).
plot_test() {
	local dir name log
	for dir in "$ND_ROOT"/bench "$ND_ROOT"/bench/*/; do
		[[ -s $dir/results.tsv ]] || continue
		dir=${dir%/}
		name=${dir#"$ND_ROOT"/}
		log=$ND_LOGDIR/plot-check-${name//\//_}.log
		if bash "$ND_ROOT/selftest/plot-check.sh" "$dir" >"$log" 2>&1; then
			nd_result PASS "$name: plot agrees with its table"
		else
			nd_result FAIL "$name: plot agrees with its table" "$(head -n1 "$log"); see ${log#"$ND_ROOT"/}"
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

# dkms_tiers BIOS SB: each DKMS tier of the list BIOS ("0": none), then
# each Secure Boot tier of the list SB, one after the other.
dkms_tiers() {
	local bios=$1 sb=$2 vm t
	[[ $bios == 0 ]] || for vm in $bios; do
		t=$SECONDS
		# shellcheck disable=SC2031 # the job's own, as intended
		ND_RESULTS=$ND_RESULTS ND_LOGDIR=$ND_LOGDIR bash "$ND_ROOT/selftest/dkms-vm.sh" "$vm" ||
			nd_result FAIL "dkms tier $vm" "dkms-vm.sh stopped; see its output above"
		nd_log "   DKMS tier $vm took $((SECONDS - t)) s"
	done
	for vm in $sb; do
		t=$SECONDS
		# shellcheck disable=SC2031 # the job's own, as intended
		ND_RESULTS=$ND_RESULTS ND_LOGDIR=$ND_LOGDIR bash "$ND_ROOT/selftest/secureboot.sh" "$vm" ||
			nd_result FAIL "secureboot tier $vm" "secureboot.sh stopped; see its output above"
		nd_log "   Secure Boot tier $vm took $((SECONDS - t)) s"
	done
}

# The stock kernels that run in the queue beside the others, ahead of the
# debug kernel, so that both queues end together on a warm cache (at
# a364bed: the debug kernel 1610 s after the bookworm tier's 592 s, the
# stock kernels 1188 s and the trixie tier 584 s; these two took 358 s).
BESIDE_STOCK="trixie trixie-bpo-rt"

# kernels_tests PREP_DIR PREP_PID NAME...: kernel_tests of each, timed.
kernels_tests() {
	local prep=$1 pid=$2 kname t
	shift 2
	for kname; do
		t=$SECONDS
		kernel_tests "$kname" "$prep" "$pid"
		nd_log "   kernel $kname took $((SECONDS - t)) s"
	done
}

main() {
	local start=$SECONDS kname beside_pid='' beside_out=$ND_LOGDIR/beside.out
	local prep=$ND_LOGDIR/prepare prep_pid early_pid
	local beside_results=$ND_LOGDIR/beside-results.tsv
	local -a stock=() source=() beside=() front=()
	bash "$ND_ROOT/selftest/deps.sh"
	rm -rf "$ND_LOGDIR"
	nd_results_reset
	for kname in $ND_KERNELS; do
		if nd_matrix_row "$kname" 2>/dev/null && [[ $ND_K_META == linux-source ]]; then
			source+=("$kname")
			continue
		fi
		stock+=("$kname")
		if [[ " $BESIDE_STOCK " == *" $kname "* ]]; then
			beside+=("$kname")
		else
			front+=("$kname")
		fi
	done
	# The kernels are prepared one after the other, ahead of their boots:
	# the stock ones first (the debug kernel's build may take half the run).
	mkdir -p "$prep"
	early_builds "$prep/early-builds.out" "${source[@]}" &
	early_pid=$!
	prepare_all "$prep" "${stock[@]}" "${source[@]}" &
	prep_pid=$!
	# Two queues of VMs, one VM at a time in each: two keep both host
	# cores busy (a DKMS tier's VM leaves one idle for minutes: dpkg,
	# systemd's boot, depmod), more would only slow each boot down. Here
	# the stock kernels but BESIDE_STOCK, then the Secure Boot tiers;
	# beside them the BIOS DKMS tiers, BESIDE_STOCK's kernels, then the
	# kernels built from source (the debug kernel: its boots are the
	# longest, and on a cold cache its build, begun at once, ends after
	# about half of the run). The queue beside shows its output, and its
	# results count, once it ends. ND_DKMS_BESIDE=0: one queue, the
	# kernels in matrix order, then the tiers.
	if [[ ${ND_DKMS_BESIDE:-1} == 0 ]]; then
		kernels_tests "$prep" "$prep_pid" $ND_KERNELS
		dkms_tiers "$ND_DKMS" "$ND_SECUREBOOT"
	else
		if [[ $ND_DKMS != 0 || ${#beside[@]} -gt 0 || ${#source[@]} -gt 0 ]]; then
			nd_log "== beside the kernels (BIOS DKMS tiers: $ND_DKMS, then ${beside[*]} ${source[*]}): ${beside_out#"$ND_ROOT"/}"
			# shellcheck disable=SC2030,SC2031 # the subshell's own results file
			(
				ND_RESULTS=$beside_results
				nd_results_reset
				dkms_tiers "$ND_DKMS" ''
				kernels_tests "$prep" "$prep_pid" "${beside[@]}" "${source[@]}"
			) >"$beside_out" 2>&1 &
			beside_pid=$!
		fi
		kernels_tests "$prep" "$prep_pid" "${front[@]}"
		dkms_tiers 0 "$ND_SECUREBOOT"
	fi
	wait "$prep_pid" "$early_pid" || true
	plot_test
	style_test
	if [[ -n $beside_pid ]]; then
		nd_log "== waiting for the queue beside the kernels"
		wait "$beside_pid" || nd_result FAIL "the queue beside the kernels" "stopped; see ${beside_out#"$ND_ROOT"/}"
		cat "$beside_out"
		# shellcheck disable=SC2031 # the parent's, as intended
		cat "$beside_results" >>"$ND_RESULTS"
	fi
	echo "check took $((SECONDS - start)) s"
	nd_summary
}

main "$@"
