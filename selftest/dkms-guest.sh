#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# dkms-guest.sh: the guest side of dkms-vm.sh, run at boot by the
# nd-test.service unit of the Debian test VM from its second disk
# (mounted at /mnt/nd with the package and nd_keystore.ko). The phase
# comes from the kernel cmdline (nd.phase=install|reboot|secureboot: the
# last for secureboot.sh, whose disk adds the DKMS key pair and a key that
# is not enrolled).
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

# ccache_on: with the host's ccache disk (dkms-vm.sh's ccache_disk), the
# DKMS build compiles through ccache: Debian's kernel headers put it in
# front of the compiler when DEBIAN_KERNEL_USE_CCACHE is set. A disk that
# does not mount only means a build without it.
ccache_on() {
	local dev=/dev/disk/by-label/ndccache dir=/var/cache/nd-ccache
	# The unit waits for vdb only: under TCG udev may not have named
	# the third disk yet.
	udevadm settle --timeout=30 || true
	if [[ ! -b $dev ]]; then
		echo "ND-CCACHE: off (no disk labelled ndccache)"
		return 0
	fi
	command -v ccache >/dev/null || { echo "ND-CCACHE: off (no ccache)"; return 0; }
	mkdir -p "$dir"
	mount "$dev" "$dir" || { echo "ND-CCACHE: off (the disk does not mount)"; return 0; }
	export CCACHE_DIR=$dir CCACHE_MAXSIZE=1G DEBIAN_KERNEL_USE_CCACHE=1
	ccache --zero-stats >/dev/null
}

# ccache_off: how many objects came from the cache ("ND-CCACHE:" on the
# console, which dkms-vm.sh logs), and the disk unmounted whole.
ccache_off() {
	[[ -n ${CCACHE_DIR:-} ]] || return 0
	ccache --print-stats | awk '
		$1 ~ /^(direct|preprocessed)_cache_hit$/ { hit += $2 }
		$1 == "cache_miss" { miss = $2 }
		END { printf "ND-CCACHE: %d hits, %d misses\n", hit, miss }'
	umount "$CCACHE_DIR"
}

pkg_install() {
	cp "$DISK"/nodirect-alloc-dkms_*.deb /root/
	local rc=0
	ccache_on
	apt-get install -y /root/nodirect-alloc-dkms_*.deb || rc=$?
	ccache_off
	return "$rc"
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

# --- Secure Boot (secureboot.sh) -------------------------------------------

DKMS_CN="DKMS module signing key"
# The end of a signed module: struct module_signature (12 bytes, its last
# 4 the signature's length, big-endian), then this line.
SIG_MAGIC='~Module signature appended~'
# Taint E: an unsigned module was loaded.
TAINT_UNSIGNED=$((1 << 13))

sb_enabled() {
	local state
	state=$(mokutil --sb-state 2>&1)
	echo "$state"
	[[ $state == *"SecureBoot enabled"* ]] || fail "$state"
}

locked_down() {
	local mode
	mode=$(cat /sys/kernel/security/lockdown) || return 1
	echo "$mode"
	[[ $mode == *"[integrity]"* || $mode == *"[confidentiality]"* ]] || fail "lockdown: $mode"
}

# shim copied the enrolled key from MokList to MokListRT; the kernel
# trusts what it finds there.
mok_loaded() {
	dmesg | grep "Loaded X.509 cert '$DKMS_CN" || fail "no 'Loaded X.509 cert '$DKMS_CN'"
}

# The key pair whose certificate the host enrolled, where dkms looks for it,
# before dkms runs: dkms would otherwise make a new one, never enrolled.
dkms_key() {
	install -D -m 0600 "$DISK/mok.key" /var/lib/dkms/mok.key &&
		install -m 0644 "$DISK/mok.pub" /var/lib/dkms/mok.pub
}

# Under Secure Boot the module must carry the DKMS key's signature: an
# unsigned one (dkms without openssl, or without a key) does not pass.
signed_by_dkms() {
	local signer
	signer=$(modinfo -F signer "$1") || return 1
	echo "signer: ${signer:-none}"
	[[ $signer == "$DKMS_CN" ]] || fail "signer is '${signer:-none}', not '$DKMS_CN'"
}

# sign_file KEY CERT KO: sign KO in place with the kernel's own sign-file.
sign_file() {
	"/lib/modules/$KREL/build/scripts/sign-file" sha256 "$@"
}

# A module of one's own (the consumer, built on the host) is signed with the
# same key, as its user would sign it.
keystore_signed() {
	local ko=/lib/modules/$KREL/extra/nd_keystore.ko
	sign_file /var/lib/dkms/mok.key /var/lib/dkms/mok.pub "$ko" || return 1
	signed_by_dkms "$ko"
}

# Both modules loaded (keystore_load), the kernel still has no taint E.
not_tainted_unsigned() {
	local tainted
	tainted=$(cat /proc/sys/kernel/tainted)
	echo "tainted=$tainted"
	((!(tainted & TAINT_UNSIGNED))) || fail "taint E (unsigned module loaded): tainted=$tainted"
}

# Lockdown forbids hibernation: no disk mode, and the request is refused.
hibernation_refused() {
	local disk
	disk=$(cat /sys/power/disk)
	echo "/sys/power/disk: $disk"
	[[ $disk == "[disabled]" ]] || fail "/sys/power/disk reads '$disk'"
	if echo disk >/sys/power/state; then
		fail "echo disk >/sys/power/state was accepted"
	fi
}

# The module as DKMS installed it, uncompressed: the signed one.
signed_copy() {
	local path
	path=$(modinfo -n nodirect_alloc) || return 1
	case $path in
	*.xz) xz -dc "$path" ;;
	*.zst) zstd -qdc "$path" ;;
	*.gz) gzip -dc "$path" ;;
	*) cat "$path" ;;
	esac >/run/nd-signed.ko
}

# The positive control of the two below: the copy loads.
signed_copy_loads() {
	signed_copy || return 1
	signed_by_dkms /run/nd-signed.ko || return 1
	insmod /run/nd-signed.ko || return 1
	rmmod nodirect_alloc
}

# The same module with its signature cut off, by the length in its trailer.
unsigned_copy() {
	local size len
	signed_copy || return 1
	size=$(stat -c %s /run/nd-signed.ko)
	[[ $(tail -c $((${#SIG_MAGIC} + 1)) /run/nd-signed.ko) == "$SIG_MAGIC" ]] ||
		fail "no signature trailer" || return
	len=$(od -An -tu1 -j $((size - ${#SIG_MAGIC} - 5)) -N4 /run/nd-signed.ko |
		awk '{ print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4 }')
	head -c $((size - ${#SIG_MAGIC} - 1 - 12 - len)) /run/nd-signed.ko >/run/nd-unsigned.ko
	[[ -z $(modinfo -F signer /run/nd-unsigned.ko) ]] || fail "still signed after the cut"
}

# rejected KO: insmod must fail with EKEYREJECTED.
rejected() {
	local out
	if out=$(insmod "$1" 2>&1); then
		rmmod nodirect_alloc
		fail "$1 was loaded"
		return
	fi
	echo "$out"
	[[ $out == *"Key was rejected by service"* ]] || fail "refused, but not with EKEYREJECTED: $out"
}

unsigned_rejected() {
	unsigned_copy || return 1
	rejected /run/nd-unsigned.ko
}

rogue_rejected() {
	unsigned_copy || return 1
	cp /run/nd-unsigned.ko /run/nd-rogue.ko
	sign_file "$DISK/rogue.key" "$DISK/rogue.pub" /run/nd-rogue.ko || return 1
	modinfo -F signer /run/nd-rogue.ko
	rejected /run/nd-rogue.ko
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
	# The Secure Boot tier's reboot: the module loaded at boot under lockdown.
	if [[ -d /sys/firmware/efi ]]; then
		check "after reboot: kernel still locked down" locked_down
	fi
	check "after reboot: loaded at boot, the DKMS build" loaded_at_boot
	check "after reboot: dkms status installed" dkms_installed
	check "after reboot: modinfo finds it in updates/dkms" from_dkms_dir
	check "after reboot: modprobe selftest=1 and unload" selftest
	check "apt purge unloads the module" pkg_remove
	check "apt purge leaves no module behind" nothing_left
	;;
secureboot)
	check "Secure Boot enabled (mokutil --sb-state)" sb_enabled
	check "kernel locked down (integrity or confidentiality)" locked_down
	check "kernel loaded the enrolled DKMS key from MokListRT" mok_loaded
	check "the enrolled key pair in /var/lib/dkms" dkms_key
	check "apt install of the package" pkg_install
	check "dkms status: installed for $KREL" dkms_installed
	check "modinfo finds it in updates/dkms" from_dkms_dir
	check "signed with the DKMS key" signed_by_dkms nodirect_alloc
	check "modprobe selftest=1 and unload" selftest
	check "consumer installed, depmod" install_keystore
	check "consumer signed with the DKMS key (sign-file)" keystore_signed
	check "modprobe consumer loads nodirect_alloc first" keystore_load
	check "no taint E (unsigned module) with both loaded" not_tainted_unsigned
	check "consumer: key hidden from the direct map" keystore_hidden
	check "consumer: sealed key read-only through its own address" keystore_sealed
	check "consumer: SipHash digest under the key" keystore_digest
	check "consumer: bad key refused and wiped" keystore_refuses
	check "modprobe -r consumer unloads both, key wiped" keystore_unload
	check "modules-load.d entry for the next boot" load_at_boot
	check "hibernation refused under lockdown" hibernation_refused
	check "control: the signed module, uncompressed, loads by insmod" signed_copy_loads
	check "unsigned module refused: EKEYREJECTED" unsigned_rejected
	check "module signed by a key not enrolled refused: EKEYREJECTED" rogue_rejected
	;;
*)
	report "ND-CHECK: FAIL phase: unknown nd.phase '$phase'"
	FAILED=1
	;;
esac
