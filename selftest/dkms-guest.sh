#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# dkms-guest.sh: the guest side of dkms-vm.sh, run at boot by the
# nd-test.service unit of the Debian test VM from its second disk
# (mounted at /mnt/nd with the package and nd_keystore.ko). The phase
# comes from the kernel cmdline (nd.phase=install|reboot).
#
# Every check prints "ND-CHECK: PASS name" or "ND-CHECK: FAIL name: why"
# to ttyS1, then one "ND-VERDICT: PASS" or "ND-VERDICT: FAIL ..." line;
# the console gets the commands' output and, at the end, the kernel log
# (the cmdline keeps the console quiet, so the module's KTAP comes from it).
set -uo pipefail
shopt -s extglob
# Straight to the console: through the journal every line would carry a
# prefix, and the host reads the kernel log out of it.
exec </dev/null >/dev/console 2>&1

DISK=/mnt/nd
KREL=$(uname -r)
KEYSTORE=/sys/kernel/nd_keystore
FAILED=0
# Taint bits that mean the kernel complained: W (warning) and D (died).
TAINT_BAD=$(((1 << 9) | (1 << 7)))

report() { echo "$*" >/dev/ttyS1; echo "$*"; }

# check NAME CMD...: run CMD, report it as one test. Its output goes to
# the console as it comes (a hang shows where), its last line is the reason
# of a failure, and the time it took is shown (everything is slow in TCG).
check() {
	local name=$1 out=/run/nd-check.out start=$SECONDS
	shift
	echo "+ $*"
	if "$@" 2>&1 | tee "$out"; then
		report "ND-CHECK: PASS $name"
	else
		FAILED=1
		report "ND-CHECK: FAIL $name: $(tail -n1 "$out")"
	fi
	echo "+ $1: $((SECONDS - start)) s"
}

# finish: the kernel log, the verdict, and power off (QEMU then exits).
finish() {
	local tainted
	tainted=$(cat /proc/sys/kernel/tainted)
	echo "ND-DMESG-BEGIN"
	dmesg
	echo "ND-DMESG-END"
	if ((tainted & TAINT_BAD)); then
		report "ND-VERDICT: FAIL tainted=$tainted (warning or oops)"
	elif ((FAILED)); then
		report "ND-VERDICT: FAIL some checks failed"
	else
		report "ND-VERDICT: PASS"
	fi
	sync
	systemctl poweroff --no-block
	exit 0
}
trap finish EXIT

# --- the checks ------------------------------------------------------------

fail() { echo "$*"; return 1; }

dkms_installed() {
	local line
	line=$(dkms status nodirect_alloc)
	echo "$line"
	grep -q "^nodirect_alloc/.*, $KREL, x86_64: installed" <<<"$line" ||
		fail "not installed for $KREL"
}

from_dkms_dir() {
	local path
	path=$(modinfo -n nodirect_alloc) || return 1
	echo "$path"
	# Debian 13's kmod may name the merged /usr path.
	[[ $path == ?(/usr)/lib/modules/$KREL/updates/dkms/nodirect_alloc.ko* ]] ||
		fail "modinfo finds $path"
}

# Debian 13's dkms signs what it builds with /var/lib/dkms/mok.key, which it
# makes on its first build when openssl is there (Debian 12's VM has none):
# a module it could sign must carry that key's signature, so it loads under
# Secure Boot once the key is enrolled with mokutil.
dkms_signed() {
	local signer subject
	signer=$(modinfo -F signer nodirect_alloc) || return 1
	if [[ ! -e /var/lib/dkms/mok.pub ]]; then
		echo "no DKMS signing key here; module signer: ${signer:-none}"
		return 0
	fi
	subject=$(openssl x509 -inform DER -in /var/lib/dkms/mok.pub -noout -subject -nameopt multiline |
		sed -n 's/^ *commonName *= *//p')
	echo "signer: ${signer:-none}; DKMS key: $subject"
	[[ -n $signer && $signer == "$subject" ]] || fail "not signed with the DKMS key ($subject)"
}

loaded() { [[ -d /sys/module/$1 ]] || fail "$1 is not loaded"; }
unloaded() { [[ ! -d /sys/module/$1 ]] || fail "$1 is still loaded"; }

# A load with selftest=1 fails if the selftest fails; the host reads its
# KTAP from the kernel log. Unload first, or modprobe would do nothing.
selftest() {
	if [[ -d /sys/module/nodirect_alloc ]]; then
		modprobe -r nodirect_alloc || return 1
	fi
	modprobe nodirect_alloc selftest=1 || return 1
	modprobe -r nodirect_alloc
}

# Ask systemd-modules-load to load it at every boot, as an admin would.
load_at_boot() {
	echo nodirect_alloc >/etc/modules-load.d/nodirect_alloc.conf
}

# After the reboot it must be loaded already, and be the DKMS build.
loaded_at_boot() {
	local want
	loaded nodirect_alloc || return 1
	want=$(modinfo -F srcversion nodirect_alloc) || return 1
	[[ $(cat /sys/module/nodirect_alloc/srcversion) == "$want" ]] ||
		fail "the loaded module is not the one in updates/dkms"
}

install_keystore() {
	[[ -f $DISK/nd_keystore.ko ]] || fail "no nd_keystore.ko on the data disk (it did not build on the host)" || return
	install -D -m 0644 "$DISK/nd_keystore.ko" "/lib/modules/$KREL/extra/nd_keystore.ko"
	depmod -a
}

# depmod must have recorded the dependency on the DKMS-installed module.
keystore_depends() {
	local dep
	dep=$(grep '^extra/nd_keystore.ko:' "/lib/modules/$KREL/modules.dep")
	echo "$dep"
	[[ $dep == "extra/nd_keystore.ko: updates/dkms/nodirect_alloc.ko"* ]] ||
		fail "modules.dep: $dep"
}

# modprobe must pull nodirect_alloc in first, and it must hold the key.
keystore_load() {
	unloaded nodirect_alloc || return 1
	modprobe nd_keystore || return 1
	loaded nodirect_alloc || return 1
	[[ -e /sys/module/nodirect_alloc/holders/nd_keystore ]] || fail "nd_keystore does not hold nodirect_alloc"
	# The key is one object of nd_kzalloc() (on a page of its own, one
	# area); the sealed key is an area of nd_vmalloc().
	[[ $(cat /sys/kernel/nodirect_alloc/kmalloc_objects) == 1 ]] || fail "kmalloc_objects is not 1"
	[[ $(cat /sys/kernel/nodirect_alloc/live_allocs) == 2 ]] || fail "live_allocs is not 2"
	[[ $(cat /sys/kernel/nodirect_alloc/seals) == 1 ]] || fail "seals is not 1"
}

# The second key reads back through its sealed address; a write there faults.
keystore_sealed() {
	loaded nd_keystore || return 1
	[[ $(cat "$KEYSTORE/sealed") == 1 ]] || fail "the sealed key is writable or changed"
}

# SipHash-2-4 reference vector: key 00..0f, message 00..07.
keystore_digest() {
	local got
	loaded nd_keystore || return 1
	echo 000102030405060708090a0b0c0d0e0f >"$KEYSTORE/key" || return 1
	printf '\000\001\002\003\004\005\006\007' >"$KEYSTORE/digest" || return 1
	got=$(cat "$KEYSTORE/digest")
	[[ $got == 93f5f5799a932462 ]] || fail "digest $got"
}

keystore_hidden() {
	loaded nd_keystore || return 1
	[[ $(cat "$KEYSTORE/hidden") == 1 ]] || fail "hidden is $(cat "$KEYSTORE/hidden")"
}

# A key that is not 32 hex digits is refused, and leaves the key wiped.
keystore_refuses() {
	local got
	loaded nd_keystore || return 1
	if echo nothex >"$KEYSTORE/key" 2>/dev/null; then
		fail "accepted a bad key"
		return
	fi
	echo hi >"$KEYSTORE/digest"
	got=$(cat "$KEYSTORE/digest")
	[[ $got == "$(keystore_zero_digest)" ]] || fail "key not wiped after a bad write: $got"
}

# The digest of "hi\n" under the all-zero key, from the module itself.
keystore_zero_digest() {
	echo wipe >"$KEYSTORE/key" && echo hi >"$KEYSTORE/digest" && cat "$KEYSTORE/digest"
}

# modprobe -r takes nodirect_alloc away too once nothing uses it.
keystore_unload() {
	modprobe -r nd_keystore || return 1
	unloaded nd_keystore || return 1
	unloaded nodirect_alloc || return 1
	dmesg | grep -E 'nd_keystore: keys? wiped and freed' || fail "no 'keys wiped' message"
}

pkg_install() {
	cp "$DISK"/nodirect-alloc-dkms_*.deb /root/
	apt-get install -y /root/nodirect-alloc-dkms_*.deb
}

# Purge while loaded: the package's prerm must unload it.
pkg_remove() {
	rm -f "/lib/modules/$KREL/extra/nd_keystore.ko" /etc/modules-load.d/nodirect_alloc.conf
	modprobe nodirect_alloc || return 1
	apt-get purge -y nodirect-alloc-dkms || return 1
	unloaded nodirect_alloc
}

nothing_left() {
	local left
	left=$(find /lib/modules /usr/src /var/lib/dkms -name 'nodirect_alloc*' 2>/dev/null)
	[[ -z $left ]] || fail "left behind: $left"
	if modinfo nodirect_alloc >/dev/null 2>&1; then
		fail "modinfo still finds nodirect_alloc"
	fi
}

# --- the phases ------------------------------------------------------------

phase=$(sed -n 's/.*nd\.phase=\([a-z]*\).*/\1/p' /proc/cmdline)
echo "ND-GUEST: phase $phase on $KREL"
case $phase in
install)
	check "apt install of the package" pkg_install
	check "dkms status: installed for $KREL" dkms_installed
	check "modinfo finds it in updates/dkms" from_dkms_dir
	check "signed with the DKMS key if dkms has one" dkms_signed
	check "modprobe selftest=1 and unload" selftest
	check "modules-load.d entry for the next boot" load_at_boot
	check "consumer installed, depmod" install_keystore
	check "modules.dep: consumer needs updates/dkms/nodirect_alloc" keystore_depends
	check "modprobe consumer loads nodirect_alloc first" keystore_load
	check "consumer: key hidden from the direct map" keystore_hidden
	check "consumer: sealed key read-only through its own address" keystore_sealed
	check "consumer: SipHash digest under the key" keystore_digest
	check "consumer: bad key refused and wiped" keystore_refuses
	check "modprobe -r consumer unloads both, key wiped" keystore_unload
	;;
reboot)
	check "after reboot: loaded at boot, the DKMS build" loaded_at_boot
	check "after reboot: dkms status installed" dkms_installed
	check "after reboot: modinfo finds it in updates/dkms" from_dkms_dir
	check "after reboot: modprobe selftest=1 and unload" selftest
	check "apt purge unloads the module" pkg_remove
	check "apt purge leaves no module behind" nothing_left
	;;
*)
	report "ND-CHECK: FAIL phase: unknown nd.phase '$phase'"
	FAILED=1
	;;
esac
