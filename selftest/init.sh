#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the test guest (busybox sh). Reads its orders from /proc/cmdline:
#   nd.mode=selftest|stress|faults|consumer|snapshot|kexec|pool|crash|demo|hazards|hibernate|trace
#                                 what to do with /nodirect_alloc.ko
#   nd.args=a=1,b=2               extra module parameters, commas for spaces
#                                 (so no quoting is needed on the cmdline)
# The console (ttyS0) shows everything; the one line the host trusts,
# "ND-VERDICT: PASS" or "ND-VERDICT: FAIL <reason>", goes to ttyS1.

PATH=/bin:/sbin:/usr/bin:/usr/sbin
export PATH
MODULE=/nodirect_alloc.ko
SYSFS=/sys/kernel/nodirect_alloc
# Taint bits that mean the kernel complained: W (warning) and D (died).
TAINT_BAD=$(((1 << 9) | (1 << 7)))

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1

# verdict PASS | verdict FAIL reason: report once, then power off. Closing
# ttyS1 waits until the line is sent, so nothing is lost to the poweroff.
verdict() {
	echo "ND-VERDICT: $*"
	echo "ND-VERDICT: $*" >/dev/ttyS1
	sync
	# Straight to ACPI, without machine_shutdown(): its stop_other_cpus()
	# marks each CPU offline while a wakeup on another may have picked it
	# a moment before, and set_task_cpu() WARNs (the kernel's race, seen
	# once on rt 7.3 after a passing stress boot). Not on the command
	# line: there it would also skip stopping the CPUs for kexec and panic.
	echo 1 2>/dev/null >/sys/kernel/reboot/force ||
		echo "ND-INIT: no /sys/kernel/reboot/force: the poweroff stops the CPUs"
	poweroff -f
	sleep 60
}

# The module's counters, as "/sys/kernel/nodirect_alloc/<name>:<value>".
show_counters() {
	if [ -d "$SYSFS" ]; then
		grep -r . "$SYSFS" 2>/dev/null
	else
		echo "ND-COUNTERS: $SYSFS does not exist"
	fi
}

# leak_check: on a kernel with kmemleak (the debug kernel), after rmmod:
# objects younger than 5 s are never reported, so wait, then scan twice
# (an object is reported once two scans found it unreferenced). A report
# whose backtrace names the module, or an address no symbol covers any
# more (the module's text, gone with rmmod), fails the boot; the kernel's
# own reports are shown and counted, not judged.
KMEMLEAK=/sys/kernel/debug/kmemleak
leak_check() {
	[ -e "$KMEMLEAK" ] || mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
	[ -e "$KMEMLEAK" ] || return 0
	sleep 6
	echo scan >"$KMEMLEAK"
	echo scan >"$KMEMLEAK"
	cat "$KMEMLEAK" >/tmp/kmemleak.txt
	total=$(grep -c '^unreferenced object' /tmp/kmemleak.txt)
	ours=$(awk '
		/^unreferenced object/ { if (ours) n++; ours = 0 }
		/^ +(nodirect_alloc|.*\[nodirect_alloc\])/ || /^ +0x[0-9a-f]+$/ { ours = 1 }
		END { if (ours) n++; print n + 0 }' /tmp/kmemleak.txt)
	echo "ND-KMEMLEAK: $total reports, $ours naming nodirect_alloc"
	if [ "$ours" -ne 0 ]; then
		cat /tmp/kmemleak.txt
		verdict FAIL "kmemleak: $ours leaks of nodirect_alloc"
	fi
}

# unload_and_judge: rmmod, then PASS unless the kernel was tainted by a
# warning or an oops on the way, or kmemleak found a leak of ours.
unload_and_judge() {
	rmmod nodirect_alloc || verdict FAIL "rmmod failed"
	leak_check
	judge
}

# mem_free_kb: MemFree of /proc/meminfo, in kB.
mem_free_kb() {
	sed -n 's/^MemFree: *\([0-9]*\) kB$/\1/p' /proc/meminfo
}

# wait_log TEXT: wait up to 120 s for TEXT in the kernel log.
wait_log() {
	i=0
	while ! dmesg | grep -q "$1"; do
		i=$((i + 1))
		[ $i -le 1200 ] || return 1
		sleep 0.1
	done
}

# wait_file FILE TEXT: as wait_log, for a line of TEXT in FILE.
wait_file() {
	i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -le 1200 ] || return 1
		sleep 0.1
	done
}

# The faults boot: the chance of each eligible allocation failing, and a
# cap on how many may fail (what is left of it tells how many did).
FAULT_PERCENT=5
FAULT_TIMES=100000

# judge: PASS unless the kernel was tainted by a warning or an oops.
judge() {
	tainted=$(cat /proc/sys/kernel/tainted)
	if [ $((tainted & TAINT_BAD)) -ne 0 ]; then
		verdict FAIL "tainted=$tainted (warning or oops)"
	fi
	verdict PASS
}

mode=
args=
read -r cmdline </proc/cmdline
set -f # the cmdline is split on spaces, never globbed
for word in $cmdline; do
	case $word in
	nd.mode=*) mode=${word#nd.mode=} ;;
	nd.args=*) args=$(echo "${word#nd.args=}" | tr ',' ' ') ;;
	esac
done
set +f

echo "ND-INIT: mode=$mode args=$args"
# shellcheck disable=SC2086 # args is a list of module parameters
case $mode in
selftest)
	insmod "$MODULE" selftest=1 $args || verdict FAIL "insmod selftest=1 failed"
	show_counters
	unload_and_judge
	;;
crash | crash-seal)
	# The module reads a hidden page through __va (crash), or writes
	# through a sealed area's own address (crash-seal): the oops panics
	# the kernel (oops=panic), so getting past insmod is the failure.
	insmod "$MODULE" selftest="$mode" $args
	verdict FAIL survived
	;;
stress)
	# nd.args carries stress=SECONDS; the module prints KTAP. Meanwhile
	# stress-ng makes the kernel's own code map, unmap and remove pages
	# from the direct map (secretmem) and walk memory, and checks what it
	# wrote (--verify). Its secretmem pages are not present while it
	# runs, so it runs strictly between the module's first and last sweep
	# of the direct map: the workers hold (stress_hold) until it has
	# started, and the final checks until it has exited (on the debug
	# kernel it outlived a 10 s timeout by 20 s).
	secs=$(echo "$args" | sed -n 's/.*stress=\([0-9]*\).*/\1/p')
	insmod "$MODULE" stress_hold=1 $args &
	ins=$!
	wait_log 'stress: holding before the workers start' || verdict FAIL "stress never held"
	stress-ng --secretmem 1 --memfd 1 --memfd-bytes 16M --vm 1 --vm-bytes 32M \
		--mmap 1 --mmap-bytes 32M --verify --timeout "${secs}s" \
		--metrics-brief >/tmp/stress-ng.log 2>&1 &
	sng=$!
	echo 0 >/sys/module/nodirect_alloc/parameters/stress_hold
	wait_log 'stress: holding after the workers stopped' || verdict FAIL "stress never stopped"
	wait "$sng"
	sng_rc=$?
	echo 0 >/sys/module/nodirect_alloc/parameters/stress_hold
	wait "$ins" || verdict FAIL "insmod $args failed"
	cat /tmp/stress-ng.log
	[ "$sng_rc" -eq 0 ] || verdict FAIL "stress-ng exit $sng_rc"
	echo "ND-STRESS: stress-ng passed"
	show_counters
	unload_and_judge
	;;
kexec)
	# The kernel replaced by kexec: a live allocation holding a marker, a
	# control marker in a user process that nobody wipes, then kexec -e
	# into the same kernel with this very root (repacked; no vmlinuz in
	# it). The new kernel, with nothing that clears memory on its command
	# line, scans RAM for both (mode kexec-scan).
	#
	# kexec loads the next kernel and its initrd at the top of RAM, where
	# the page allocator hands out first (this boot's initrd, freed late,
	# too): a live allocation there is overwritten whether or not we wipe
	# it (rt 7.3: frame 1ea00, in the next kernel's image, passed with the
	# wipe taken out). So a process takes a quarter of RAM in unmovable
	# pages, as the pool's are, and lets go once the allocation and the
	# control are made; the next kernel checks that the allocation's frame
	# lies outside its image and initrd.
	total_kb=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
	ram_scan hog $((total_kb / 4096)) >/tmp/hog.log &
	hog=$!
	wait_file /tmp/hog.log holding || verdict FAIL "the top of RAM was not taken"
	insmod "$MODULE" selftest=hold $args || verdict FAIL "insmod selftest=hold failed"
	hidden=$(dmesg | sed -n 's/.*nodirect_alloc: hold: marker \([0-9a-f]*\)$/\1/p' | head -n1)
	frame=$(dmesg | sed -n 's/.*nodirect_alloc: hold: its frame \([0-9a-f]*\)$/\1/p' | head -n1)
	control=$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
	[ -n "$hidden" ] && [ -n "$frame" ] && [ -n "$control" ] || verdict FAIL "no markers"
	ram_scan hold "$control" >/tmp/control.log &
	wait_file /tmp/control.log holding || verdict FAIL "the control was not made"
	kill "$hog"
	cat /tmp/hog.log /tmp/control.log
	# Only what the scan needs (busybox, init, the static probes): kexec
	# puts the initrd just below the kernel, top down, where this boot's
	# anonymous pages come from too; the whole root (51 MB on 7.3) once
	# covered every page of the control there (rt 7.3: found 0 times).
	(cd / && find . -xdev \( -path ./lib -o -path ./lib64 -o -path ./usr -o \
		-path './tmp/*' -o -name vmlinuz -o -name '*.ko' \) -prune -o -print |
		cpio -o -H newc >/tmp/initrd.cpio 2>/dev/null) ||
		verdict FAIL "cannot repack the root"
	echo "ND-KEXEC: next initrd $(wc -c </tmp/initrd.cpio) bytes"
	# nokaslr: a kernel unpacked at a random place once covered every
	# page of the control (cloud 7.3: found 0 times, 663 the next run).
	next="console=ttyS0 panic=-1 oops=panic panic_on_warn=1 init_on_alloc=0 init_on_free=0 nokaslr"
	# The debug kernel needs no5lvl (kernels.sh) in the next boot too: without
	# it KASAN reported a wild access before /init there. Nothing else of
	# this boot's line goes on: page_poison would wipe what is scanned for.
	case " $(cat /proc/cmdline) " in
	*" no5lvl "*) next="$next no5lvl" ;;
	esac
	# The image's init_size (boot protocol, offset 0x260): how much the
	# next kernel takes from where it is loaded, decompressing in place.
	isize=$(od -An -tx4 -j 608 -N4 /vmlinuz | tr -d ' ')
	next="$next nd.mode=kexec-scan nd.args=$hidden,$control,$frame,$isize"
	ram_scan load /vmlinuz /tmp/initrd.cpio "$next" || verdict FAIL "kexec_file_load failed"
	echo "ND-KEXEC: marker $hidden hidden, $control in a user process; kexec"
	ram_scan exec
	verdict FAIL "kexec failed"
	;;
kexec-scan)
	set -- $args
	# What this kernel overwrote for sure: its image from where kexec put
	# it (it runs there: nokaslr) for init_size bytes, and its initrd.
	at=$((0x$3 * 4096))
	kcode=$(sed -n 's/^ *\([0-9a-f]*\)-[0-9a-f]* : Kernel code$/\1/p' /proc/iomem | head -n1)
	rd=$(dmesg | sed -n 's/.*RAMDISK: \[mem 0x\([0-9a-f]*\)-0x\([0-9a-f]*\)\].*/\1 \2/p' | head -n1)
	[ -n "$kcode" ] && [ -n "$rd" ] || verdict FAIL "no image or initrd range in /proc/iomem and the log"
	set -- "$1" "$2" "$3" "$4" $rd
	echo "ND-KEXEC: image at $kcode (+$4), initrd $5-$6, the allocation's frame $3"
	if { [ "$at" -ge $((0x$kcode)) ] && [ "$at" -lt $((0x$kcode + 0x$4)) ]; } ||
		{ [ "$at" -ge $((0x$5)) ] && [ "$at" -le $((0x$6)) ]; }; then
		verdict FAIL "the live allocation's frame $3 lies where this kernel was loaded: the scan would prove nothing"
	fi
	out=$(ram_scan scan "$1" "$2") || verdict FAIL "ram_scan failed"
	echo "$out"
	hits=$(echo "$out" | sed -n "s/^$1 //p")
	chits=$(echo "$out" | sed -n "s/^$2 //p")
	[ "${chits:-0}" -ge 1 ] || verdict FAIL "control marker $2 not found: the scan proves nothing"
	[ "${hits:-1}" -eq 0 ] || verdict FAIL "the live allocation's marker $1 survived kexec ($hits copies)"
	echo "ND-KEXEC: control found $chits times, the allocation's marker none"
	verdict PASS
	;;
snapshot)
	# User-space hibernation (/dev/snapshot) that meets the module only
	# after PM_HIBERNATION_PREPARE: snapshot_probe opens the device (which
	# sends PREPARE), freezes the tasks, loads the module with a live
	# allocation holding a marker, and asks for the image.
	snapshot_probe "$MODULE"
	rc=$?
	case $rc in
	0) echo "ND-SNAPSHOT: the image was refused" ;;
	1) echo "ND-SNAPSHOT: the image was made without the marker" ;;
	3) verdict FAIL "the hibernation image holds the marker of a live allocation" ;;
	*) verdict FAIL "snapshot_probe failed ($rc)" ;;
	esac
	# Refused by our freeze_noirq callback, so that the ioctl fails: a
	# refusal at syscore suspend is lost in create_image() (6.1 to 7.3).
	dmesg | grep -q 'nodirect_alloc: refusing hibernation before the image' ||
		verdict FAIL "the image was not refused by us"
	[ "$rc" -eq 0 ] || verdict FAIL "creating the image did not fail with EBUSY"
	lsmod | grep -q '^nodirect_alloc ' || verdict FAIL "the module was not loaded"
	unload_and_judge
	;;
consumer)
	# selftest/consumer's nd_keystore: a module that links to our exports
	# and keeps a key in nd_kzalloc() memory and a sealed one in
	# nd_vmalloc() memory. Loaded after us with insmod, used through its
	# sysfs, unloaded before us.
	KS=/sys/kernel/nd_keystore
	insmod "$MODULE" $args || verdict FAIL "insmod nodirect_alloc failed"
	insmod /nd_keystore.ko || verdict FAIL "insmod nd_keystore failed"
	[ -e /sys/module/nodirect_alloc/holders/nd_keystore ] ||
		verdict FAIL "nd_keystore does not hold nodirect_alloc"
	[ "$(cat $SYSFS/kmalloc_objects) $(cat $SYSFS/live_allocs) $(cat $SYSFS/seals)" = "1 2 1" ] ||
		verdict FAIL "kmalloc_objects, live_allocs, seals are not 1 2 1"
	[ "$(cat $KS/hidden)" = 1 ] || verdict FAIL "the key is not hidden from the direct map"
	[ "$(cat $KS/sealed)" = 1 ] || verdict FAIL "the sealed key is writable or changed"
	# SipHash-2-4 reference vector: key 00..0f, message 00..07.
	echo 000102030405060708090a0b0c0d0e0f >$KS/key || verdict FAIL "key not taken"
	printf '\000\001\002\003\004\005\006\007' >$KS/digest
	got=$(cat $KS/digest)
	[ "$got" = 93f5f5799a932462 ] || verdict FAIL "digest $got"
	echo "ND-CONSUMER: key hidden, sealed key read-only, digest $got"
	echo nothex >$KS/key 2>/dev/null && verdict FAIL "a bad key was taken"
	show_counters
	rmmod nd_keystore || verdict FAIL "rmmod nd_keystore failed"
	dmesg | grep -q -E 'nd_keystore: keys? wiped and freed' || verdict FAIL "no 'keys wiped' message"
	[ "$(cat $SYSFS/kmalloc_objects)" = 0 ] || verdict FAIL "small objects live after the consumer left"
	# An emptied slab page is released by a worker a second later.
	sleep 2
	[ "$(cat $SYSFS/live_allocs)" = 0 ] || verdict FAIL "allocations live after the consumer left"
	unload_and_judge
	;;
faults)
	# The debug kernel's own fault injection (fail_page_alloc, failslab)
	# on the stress workload, restricted by its stack-trace filter to
	# allocations with our module's text on the stack: the only module
	# here, so the rounded range of its sections is ours alone. The
	# workers hold until the injection is armed (stress_hold), and the
	# final checks until it is off again.
	free_before=$(mem_free_kb)
	insmod "$MODULE" stress_hold=1 $args &
	ins=$!
	wait_log 'stress: holding before the workers start' || verdict FAIL "stress never held"
	addrs=$(cat /sys/module/nodirect_alloc/sections/.* | sort)
	start=$(echo "$addrs" | head -n1 | sed 's/[0-9a-f]\{6\}$/000000/')
	end=$(echo "$addrs" | tail -n1 | sed 's/[0-9a-f]\{6\}$/ffffff/')
	FI=/sys/kernel/debug
	mount -t debugfs debugfs $FI 2>/dev/null
	for a in fail_page_alloc failslab; do
		echo 0 >$FI/$a/verbose
		echo N >$FI/$a/ignore-gfp-wait
		echo 1 >$FI/$a/interval
		echo $FAULT_TIMES >$FI/$a/times
		echo "$start" >$FI/$a/require-start
		echo "$end" >$FI/$a/require-end
		echo "$FAULT_PERCENT" >$FI/$a/probability
	done
	echo 0 >$FI/fail_page_alloc/min-order
	echo "ND-FAULTS: injecting at $FAULT_PERCENT% into $start-$end"
	echo 0 >/sys/module/nodirect_alloc/parameters/stress_hold
	wait_log 'stress: holding after the workers stopped' || verdict FAIL "stress never stopped"
	injected=
	for a in fail_page_alloc failslab; do
		echo 0 >$FI/$a/probability
		injected="$injected $a=$((FAULT_TIMES - $(cat $FI/$a/times)))"
	done
	echo 0 >/sys/module/nodirect_alloc/parameters/stress_hold
	wait "$ins" || verdict FAIL "insmod stress failed under fault injection"
	refused=$(dmesg | sed -n 's/.* \([0-9]*\) allocations refused for memory$/\1/p' | tail -n1)
	echo "ND-FAULTS: injected$injected; $refused of our allocations refused"
	total=0
	for i in $injected; do
		total=$((total + ${i#*=}))
	done
	[ "$total" -ge 100 ] || verdict FAIL "only $total faults injected"
	[ "${refused:-0}" -ge 100 ] || verdict FAIL "only ${refused:-0} of our calls saw a fault"
	show_counters
	rmmod nodirect_alloc || verdict FAIL "rmmod failed"
	free_after=$(mem_free_kb)
	echo "ND-FAULTS: MemFree $free_before kB before insmod, $free_after kB after rmmod"
	leak_check
	judge
	;;
pool)
	# The pool full of free blocks, then a program that needs more than
	# is free: reclaim must take blocks back through our shrinker, or the
	# OOM killer steps in (its report fails the boot).
	insmod "$MODULE" selftest=fill $args || verdict FAIL "insmod selftest=fill failed"
	blocks=$(cat "$SYSFS/pool_blocks")
	[ "$blocks" -gt 0 ] || verdict FAIL "the pool holds no block after the fill"
	free_kb=$(mem_free_kb)
	# Half of what the pool holds (blocks of 2 MiB) more than is free.
	want_mb=$((free_kb / 1024 + blocks))
	echo "ND-POOL: $blocks blocks held, MemFree $free_kb kB, memhog $want_mb MB"
	memhog "$want_mb" || verdict FAIL "memhog $want_mb MB failed"
	left=$(cat "$SYSFS/pool_blocks")
	returned=$(cat "$SYSFS/pool_blocks_returned")
	echo "ND-POOL: after memhog: $left blocks held, $returned given back"
	[ "$left" -lt "$blocks" ] && [ "$returned" -gt 0 ] ||
		verdict FAIL "the pool kept its blocks under pressure"
	show_counters
	unload_and_judge
	;;
trace)
	# The trace events (nd_trace.h) through tracefs, around the fixed
	# sequence of selftest/trace_test.c: what they show must be that
	# sequence, and agree with the counters' deltas.
	TR=/sys/kernel/tracing
	mount -t tracefs nodev $TR || verdict FAIL "cannot mount tracefs"
	insmod "$MODULE" $args || verdict FAIL "insmod failed"
	for e in nd_alloc nd_free nd_flush nd_split nd_pool_grow nd_pool_release \
		nd_refuse nd_hibernate_refuse nd_kmalloc nd_kfree; do
		[ -e $TR/events/nodirect_alloc/$e/format ] || verdict FAIL "no event $e in tracefs"
	done
	echo >$TR/trace
	echo 1 >$TR/events/nodirect_alloc/enable || verdict FAIL "cannot enable the events"
	trace_counters() {
		for c in allocs frees flushes flush_cpus splits_2m splits_1g pool_blocks_taken \
			pool_blocks_returned bad_calls failures kmalloc_objects; do
			echo "$1_$c=$(cat $SYSFS/$c)"
		done
	}
	eval "$(trace_counters b)"
	echo run >/sys/module/nodirect_alloc/parameters/trace_sequence ||
		verdict FAIL "trace_sequence run failed"
	if echo disk >/sys/power/state; then
		verdict FAIL "hibernation went ahead with an allocation live"
	fi
	echo release >/sys/module/nodirect_alloc/parameters/trace_sequence ||
		verdict FAIL "trace_sequence release failed"
	eval "$(trace_counters a)"
	echo 0 >$TR/events/nodirect_alloc/enable
	# Before rmmod: unloading a module with events enabled clears the buffer.
	grep ' nd_[a-z_]*: ' $TR/trace >/tmp/trace.txt
	echo "ND-TRACE: $(wc -l </tmp/trace.txt) events"
	cat /tmp/trace.txt
	# NAME=VALUE lines; t_badcost: allocations whose flushes/splits fields
	# differ from the nd_flush/nd_split events since the call before (one
	# call at a time here), or whose ns is 0.
	awk '
		{
			for (i = 1; i <= NF; i++)
				if ($i ~ /^nd_[a-z_]+:$/) { ev = substr($i, 1, length($i) - 1); break }
			delete f
			for (i++; i <= NF; i++)
				if (split($i, kv, "=") == 2) f[kv[1]] = kv[2]
			n[ev]++
		}
		ev == "nd_flush" { cpus += f["cpus"]; fl++; if (f["cpus"] != ncpu) badcpus++ }
		ev == "nd_split" { sp++; lvl[f["level"]]++ }
		ev == "nd_pool_grow" { grown += f["blocks"] }
		ev == "nd_pool_release" && f["rolled_back"] == 0 && f["leaked"] == 0 { returned++ }
		ev == "nd_alloc" {
			if (f["flushes"] != fl || f["splits"] != sp || f["ns"] == 0) badcost++
			if (f["internal"] == 1) ialloc++
			else allocs = allocs " " f["size"] "/" f["path"] "/" f["prot"]
		}
		ev == "nd_free" { if (f["internal"] == 1) ifree++; else frees++ }
		ev == "nd_kmalloc" { km = km " " f["size"] "/" f["class"] }
		ev == "nd_kfree" { kf = kf " " f["class"] }
		ev == "nd_refuse" { ref = ref " " f["op"] "/" f["why"] }
		ev == "nd_hibernate_refuse" { hib = hib " " f["stage"] "/" f["live"] }
		ev !~ /^nd_(flush|split|pool_grow|pool_release)$/ { fl = 0; sp = 0 }
		END {
			printf "t_alloc=%d t_free=%d t_flush=%d t_cpus=%d t_2m=%d t_1g=%d\n",
				n["nd_alloc"], n["nd_free"], n["nd_flush"], cpus, lvl["2M"], lvl["1G"]
			printf "t_grown=%d t_returned=%d t_refuse=%d t_kmalloc=%d t_kfree=%d\n",
				grown, returned, n["nd_refuse"], n["nd_kmalloc"], n["nd_kfree"]
			printf "t_ialloc=%d t_ifree=%d t_frees=%d t_badcost=%d t_badcpus=%d\n",
				ialloc, ifree, frees, badcost, badcpus
			printf "t_allocs=\"%s\" t_km=\"%s\" t_kf=\"%s\" t_ref=\"%s\" t_hib=\"%s\"\n",
				allocs, km, kf, ref, hib
		}' ncpu="$(grep -c ^processor /proc/cpuinfo)" /tmp/trace.txt >/tmp/trace.sum
	cat /tmp/trace.sum
	eval "$(cat /tmp/trace.sum)"
	# The sequence: what trace_test.c does, in order.
	[ "$t_allocs" = " 5000/pool/not_present 12288/page/read_only 4096/pool/not_present" ] ||
		verdict FAIL "allocations traced:$t_allocs"
	[ "$t_frees" = 3 ] || verdict FAIL "$t_frees frees of consumer allocations traced, not 3"
	[ "$t_km" = " 100/128 32/32 2048/2048" ] || verdict FAIL "nd_kmalloc traced:$t_km"
	[ "$t_kf" = " 128 32 2048" ] || verdict FAIL "nd_kfree traced:$t_kf"
	[ "$t_ialloc" = 3 ] && [ "$t_ifree" = 3 ] ||
		verdict FAIL "pages of nd_kmalloc: $t_ialloc allocated, $t_ifree freed, not 3 and 3"
	[ "$t_ref" = " nd_vmalloc/size nd_kmalloc/size nd_vfree/inside nd_kfree/inside" ] ||
		verdict FAIL "refusals traced:$t_ref"
	[ "$t_hib" = " prepare/1" ] || verdict FAIL "hibernation refusals traced:$t_hib"
	[ "$t_badcost" = 0 ] || verdict FAIL "$t_badcost allocations whose cost fields disagree with the nd_flush/nd_split events, or ns=0"
	[ "$t_badcpus" = 0 ] || verdict FAIL "$t_badcpus flushes did not reach every CPU"
	[ "$t_grown" -ge 1 ] && [ "$t_returned" -ge 1 ] ||
		verdict FAIL "pool blocks: $t_grown taken, $t_returned given back traced; want some of each"
	# The counters.
	for c in "alloc allocs" "free frees" "flush flushes" "cpus flush_cpus" "2m splits_2m" \
		"1g splits_1g" "grown pool_blocks_taken" "returned pool_blocks_returned"; do
		set -- $c
		eval "t=\$t_$1 d=\$((a_$2 - b_$2))"
		[ "$t" = "$d" ] || verdict FAIL "$2 went up by $d, but $t events say so"
	done
	d=$((a_bad_calls + a_failures - b_bad_calls - b_failures))
	[ "$t_refuse" = "$d" ] || verdict FAIL "bad_calls and failures went up by $d, but $t_refuse nd_refuse events"
	[ $((t_kmalloc - t_kfree)) = $((a_kmalloc_objects - b_kmalloc_objects)) ] ||
		verdict FAIL "kmalloc_objects went up by $((a_kmalloc_objects - b_kmalloc_objects)), events say $((t_kmalloc - t_kfree))"
	echo "ND-TRACE: the events match the sequence and the counters"
	show_counters
	unload_and_judge
	;;
demo)
	insmod "$MODULE" demo=1 $args || verdict FAIL "insmod demo=1 failed"
	show_counters
	unload_and_judge
	;;
bench-smoke)
	# A few pairs of each contender; the module's KTAP checks the flush
	# counts only, never a time.
	insmod "$MODULE" bench=2 $args || verdict FAIL "insmod bench=2 failed"
	show_counters
	unload_and_judge
	;;
bench)
	# memfd_secret first, keeping its cold ballast while the module runs,
	# so that the module's cold phase finds fresh pages too.
	/memfd_secret_bench --ready /tmp/memfd.ready &
	holder=$!
	while [ ! -e /tmp/memfd.ready ] && kill -0 "$holder" 2>/dev/null; do
		sleep 1
	done
	memfd=ok
	if [ ! -e /tmp/memfd.ready ]; then
		wait "$holder"
		memfd="exit $?"
	fi
	insmod "$MODULE" bench=1 $args || verdict FAIL "insmod bench=1 failed"
	[ "$memfd" = ok ] || verdict FAIL "memfd_secret_bench failed ($memfd)"
	kill "$holder"
	show_counters
	unload_and_judge
	;;
hibernate)
	# A kernel thread allocates and frees in a loop while we hibernate
	# (no swap: the image is made, then cannot be written). The module
	# judges the image at rmmod. A pass that caught an allocation live at
	# PREPARE is refused, rightly: try again, three times at most.
	insmod "$MODULE" selftest=hibernate $args || verdict FAIL "insmod selftest=hibernate failed"
	for try in 1 2 3; do
		sleep 1
		refused=$(dmesg | grep -c 'refusing hibernation')
		echo "ND-HIBERNATE: try $try"
		echo disk >/sys/power/state 2>/dev/null
		[ "$(dmesg | grep -c 'refusing hibernation')" -gt "$refused" ] || break
	done
	sleep 1
	show_counters
	unload_and_judge
	;;
hazards)
	# A live secret, then the ways code outside the module could copy it
	# out: /proc/kcore, and a hibernation image.
	insmod "$MODULE" selftest=hold $args || verdict FAIL "insmod selftest=hold failed"
	addr=$(dmesg | sed -n 's/.*nodirect_alloc: hold: live allocation at \([0-9a-f]*\),.*/\1/p' | head -n1)
	secret=$(dmesg | sed -n 's/.*nodirect_alloc: hold: .*holding "\(.*\)"$/\1/p' | head -n1)
	[ -n "$addr" ] && [ -n "$secret" ] || verdict FAIL "no held allocation in the log"
	# Positive control: kcore reads and finds the kernel's own banner.
	banner=$(grep -m1 ' linux_banner$' /proc/kallsyms | cut -d' ' -f1)
	timeout 30 kcore_read "$banner" 64 "Linux version"
	[ $? -eq 3 ] || verdict FAIL "kcore control: linux_banner at $banner not readable"
	# The direct map too: a control string there reads back, the
	# secret's alias does not.
	dmap=$(dmesg | sed -n 's/.*nodirect_alloc: hold: its direct-map alias at \([0-9a-f]*\)$/\1/p' | head -n1)
	ctl=$(dmesg | sed -n 's/.*nodirect_alloc: hold: control "\(.*\)" through the direct map at \([0-9a-f]*\)$/\1 \2/p' | head -n1)
	[ -n "$dmap" ] && [ -n "$ctl" ] || verdict FAIL "no direct-map addresses in the log"
	timeout 30 kcore_read "${ctl#* }" 64 "${ctl% *}"
	[ $? -eq 3 ] || verdict FAIL "kcore control: ${ctl% *} not read through the direct map at ${ctl#* }"
	for a in "$addr" "$dmap"; do
		timeout 30 kcore_read "$a" 4096 "$secret"
		rc=$?
		case $rc in
		0) echo "ND-HAZARD: kcore read of $a returned, without the secret" ;;
		3) verdict FAIL "kcore read of $a gave the secret away" ;;
		124 | 143) verdict FAIL "kcore read of $a hung" ;;
		*) verdict FAIL "kcore read of $a failed ($rc)" ;;
		esac
	done
	# Hibernation is refused before any task is frozen.
	if echo disk >/sys/power/state; then
		verdict FAIL "hibernation went ahead with an allocation live"
	fi
	dmesg | grep -q 'nodirect_alloc: refusing hibernation' ||
		verdict FAIL "hibernation failed, but not by our refusal"
	if dmesg | grep -q 'Freezing user space'; then
		verdict FAIL "hibernation froze tasks before it was refused"
	fi
	echo "ND-HAZARD: hibernation refused"
	show_counters
	# As when a consumer leaked its allocation: rmmod restores it.
	rmmod nodirect_alloc || verdict FAIL "rmmod failed"
	dmesg | grep -q 'nodirect_alloc: unloading with 1 allocations live: wiped, restored' ||
		verdict FAIL "rmmod did not report restoring the live allocation"
	leak_check
	judge
	;;
*)
	verdict FAIL "unknown nd.mode '$mode'"
	;;
esac
