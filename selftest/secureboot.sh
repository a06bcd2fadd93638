#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# secureboot.sh [--alone [RELEASE...]] [bookworm|trixie]: the Secure Boot tier of make
# check: dkms-vm.sh's Debian VM (its root, with the boot chain and mokutil
# added), booted the way a Secure Boot machine boots: OVMF with Microsoft's
# keys → shim-signed → grub-efi-amd64-signed → Debian's signed kernel, from
# an ESP, so the kernel is locked down and loads only modules signed by a
# key it trusts.
#
# The DKMS signing key (/var/lib/dkms/mok.key, mok.pub) is made here, not by
# the guest's dkms, so that its certificate can be enrolled before the
# first boot: virt-fw-vars (Debian 13's python3-virt-firmware, run in the
# trixie build root) writes it into shim's MokList in a copy of OVMF's
# variables, where a user would run mokutil --import and confirm it in
# MokManager at the next boot. Root, ESP, keys and variables are cached
# together in $ND_CACHE/secureboot-vm-RELEASE/. The first boot (nd.phase=
# secureboot of dkms-guest.sh) installs the package, loads the module and
# the consumer, and checks what lockdown allows and refuses; the second
# (nd.phase=reboot, as the DKMS tier's) finds the signed module loaded at
# boot and purges the package. Under Secure Boot the command line is the
# one in the ESP's grub.cfg, not QEMU's: each phase has an ESP of its own.
set -euo pipefail

KIND=secureboot
PHASES=(secureboot reboot)
# The boot chain, mokutil for the guest's view of it, openssl for dkms's
# signing (Debian 12's dkms does not pull it in), xz and zstd to unpack a
# compressed module for the negative controls.
EXTRA_PKGS=(shim-signed grub-efi-amd64-signed mokutil openssl xz-utils zstd)
# shellcheck source=selftest/dkms-vm.sh
. "$(dirname "${BASH_SOURCE[0]}")/dkms-vm.sh"

OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.secboot.fd
OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.ms.fd
# The owner GUID shim gives its own MokList entries.
SHIM_GUID=605dab50-e046-4300-abb6-3dd810dd8b23
ESP_TYPE=C12A7328-F81F-11D2-BA4B-00A0C93EC93B

# make_key DIR NAME CN: a key pair as Debian's dkms makes it: NAME.key (PEM)
# and NAME.pub (DER).
make_key() {
	openssl req -new -x509 -nodes -days 36500 -subj "/CN=$3" -newkey rsa:2048 \
		-keyout "$1/$2.key" -outform DER -out "$1/$2.pub" 2>/dev/null
}

# virt_fw_vars ARGS...: Debian 13's virt-fw-vars, in the trixie build root
# (installed there once); its paths must lie under $ND_ROOT, which the root
# sees at the same place.
virt_fw_vars() {
	local root lock
	root=$(bash "$ND_ROOT/selftest/buildroot.sh" trixie) || return 1
	if [[ ! -x $root/usr/bin/virt-fw-vars ]]; then
		exec {lock}>"$ND_CACHE/buildroot-trixie.lock"
		flock "$lock"
		nd_log "installing python3-virt-firmware in the trixie build root"
		nd_chroot "$root" sh -c 'export DEBIAN_FRONTEND=noninteractive
			apt-get update -qq && apt-get install -y -q --no-install-recommends python3-virt-firmware' >&2
		exec {lock}>&-
	fi
	nd_chroot "$root" virt-fw-vars "$@"
}

# esp ROOT OUT PHASE: the EFI system partition OUT/esp-PHASE.img, a GPT
# disk made without mounting: shim as the removable-media boot loader (no
# fbx64.efi: the fallback would write boot entries and reset), GRUB and
# MokManager beside it, and the kernel and initrd under /nd/, which grub.cfg
# boots with the tier's command line and PHASE. Debian's signed GRUB reads
# grub.cfg from its prefix, /EFI/debian.
esp() {
	local root=$1 out=$2 fat=$2/esp.fat cfg=$2/grub.cfg mb=96
	cat >"$cfg" <<-EOF
		set timeout=0
		search --no-floppy --set=root --file /nd/vmlinuz
		linux /nd/vmlinuz $CMDLINE nd.phase=$3
		initrd /nd/initrd.img
		boot
	EOF
	truncate -s ${mb}M "$fat"
	mkfs.fat -F 32 -n NDESP "$fat" >&2
	mmd -i "$fat" ::/EFI ::/EFI/BOOT ::/EFI/debian ::/nd
	mcopy -i "$fat" "$root/usr/lib/shim/shimx64.efi.signed" ::/EFI/BOOT/BOOTX64.EFI
	mcopy -i "$fat" "$root/usr/lib/shim/mmx64.efi.signed" ::/EFI/BOOT/mmx64.efi
	mcopy -i "$fat" "$root/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed" ::/EFI/BOOT/grubx64.efi
	mcopy -i "$fat" "$cfg" ::/EFI/debian/grub.cfg
	mcopy -i "$fat" "$out/vmlinuz" "$out/initrd.img" ::/nd/
	truncate -s $((mb + 2))M "$out/esp-$3.img"
	printf 'label: gpt\nstart=1MiB, size=%dMiB, type=%s, name="EFI system partition"\n' \
		"$mb" "$ESP_TYPE" | sfdisk -q "$out/esp-$3.img" >&2
	dd if="$fat" of="$out/esp-$3.img" bs=1M seek=1 conv=notrunc status=none
	rm -f "$fat" "$cfg"
}

# finish_image ROOT OUT (dkms-vm.sh's hook, after make_image): the ESPs, the
# DKMS key and a key that is never enrolled (both for the guest, on its
# data disk), and OVMF's variables with the DKMS key in shim's MokList.
finish_image() {
	local root=$1 out=$2 tmp phase
	for phase in "${PHASES[@]}"; do
		esp "$root" "$out" "$phase"
	done
	mkdir "$out/guest"
	make_key "$out/guest" mok "DKMS module signing key"
	make_key "$out/guest" rogue "nodirect_alloc test key, not enrolled"
	tmp=$(mktemp -d "$ND_ROOT/build/.secureboot-vars.XXXXXX")
	cp "$OVMF_VARS" "$tmp/ms.fd"
	openssl x509 -inform DER -in "$out/guest/mok.pub" -out "$tmp/mok.pem"
	virt_fw_vars --input "$tmp/ms.fd" --add-mok "$SHIM_GUID" "$tmp/mok.pem" \
		--output "$tmp/vars.fd" >&2 || { rm -rf "$tmp"; return 1; }
	mv "$tmp/vars.fd" "$out/vars.fd"
	rm -rf "$tmp"
}
RECIPE_EXTRA=$(declare -f make_key esp finish_image; printf '%s\n' "$CMDLINE" "$OVMF_VARS" "${PHASES[*]}")

# boot_args PHASE (dkms-vm.sh's, replaced): Q35 with SMM, which OVMF's
# secboot code needs so that only it can write the variables, a fresh copy
# of the cached variables, and PHASE's ESP as the only boot device, in a PCI
# slot after the disks (Q35 gives it the first free one otherwise, and
# it would be vda, where the guest expects its root).
boot_args() {
	cp "$IMAGE_DIR/vars.fd" "$WORK/vars.fd"
	BOOT_ARGS=(-machine "q35,smm=on" -global ICH9-LPC.disable_s3=1
		-global "driver=cfi.pflash01,property=secure,value=on"
		-drive "if=pflash,format=raw,unit=0,file=$OVMF_CODE,readonly=on"
		-drive "if=pflash,format=raw,unit=1,file=$WORK/vars.fd"
		-drive "if=none,id=esp,format=raw,readonly=on,file=$IMAGE_DIR/esp-$1.img"
		-device "virtio-blk-pci,drive=esp,bootindex=0,addr=0x10")
}

# --alone [RELEASE...] (make secureboot): both releases unless named, and
# the summary of them all; a RELEASE alone: one tier, for check.sh.
if [[ ${1:-} == --alone ]]; then
	shift
	bash "$ND_ROOT/selftest/deps.sh"
	nd_results_reset
	releases=("$@")
	((${#releases[@]})) || releases=(bookworm trixie)
	for release in "${releases[@]}"; do
		(main "$release") || nd_result FAIL "secureboot tier $release" "secureboot.sh stopped"
	done
	nd_summary
else
	main "$@"
fi
