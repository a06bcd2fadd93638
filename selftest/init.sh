#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the test guest (busybox sh). Reads its orders from /proc/cmdline:
#   nd.mode=selftest|crash|demo   what to do with /nodirect_alloc.ko
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

# unload_and_judge: rmmod, then PASS unless the kernel was tainted by a
# warning or an oops on the way.
unload_and_judge() {
	rmmod nodirect_alloc || verdict FAIL "rmmod failed"
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
crash)
	# The module reads a hidden page through __va: the oops panics the
	# kernel (oops=panic), so getting past insmod is the failure.
	insmod "$MODULE" selftest=crash $args
	verdict FAIL survived
	;;
demo)
	insmod "$MODULE" demo=1 $args || verdict FAIL "insmod demo=1 failed"
	show_counters
	unload_and_judge
	;;
*)
	verdict FAIL "unknown nd.mode '$mode'"
	;;
esac
