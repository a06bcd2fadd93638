#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# deps.sh: install, from Debian's apt registry, everything the build and the
# VM tests need that is missing, on Debian 12 (bookworm) or 13 (trixie).
# Does nothing (and stays offline) when all is installed already. Kernels
# and headers are not installed: fetch-kernel.sh keeps them in a cache, and
# the compilers of the other release's kernels live in a build root
# (buildroot.sh), made with debootstrap.
set -euo pipefail
# shellcheck source=selftest/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PACKAGES=(
	make gcc libelf-dev    # kbuild of Debian's headers; gcc for the guest probes
	pahole                 # BTF for 6.12+ modules
	sparse                 # C=1 checks
	perl                   # checkpatch.pl
	qemu-system-x86        # the guest
	busybox-static         # the guest's userland
	cpio gzip              # initramfs
	libc6-dev              # static guest probes (kcore_read)
	xz-utils kmod          # .deb and kernel payloads
	debootstrap e2fsprogs  # build roots and the DKMS tiers' Debian roots, disk images
	debian-archive-keyring # the keys of the other release's archive (private apt)
	debhelper dh-dkms      # make deb
	gnuplot-nox            # make bench: the plot (pngcairo)
	stress-ng              # the stress boot: the kernel's own direct-map users
	ovmf                   # Secure Boot tier: OVMF's secboot code and ms vars
	openssl                # Secure Boot tier: the DKMS signing keys
	dosfstools mtools      # Secure Boot tier: the ESP, made without mounting
	fdisk                  # Secure Boot tier: sfdisk for the ESP disk's GPT
)

# The compiler of the host's own release's kernels, built on the host.
case $ND_HOST_RELEASE in
bookworm) PACKAGES+=(gcc-12) ;;
trixie) PACKAGES+=(gcc-14) ;;
*) nd_die "unsupported host: Debian ${ND_HOST_RELEASE:-?} (Debian 12 or 13 expected)" ;;
esac

# The private apt configuration needs trixie's keys, which Debian 12's
# debian-archive-keyring has only from its 2023.3+deb12u1 update on.
KEYS=/usr/share/keyrings/debian-archive-trixie-stable.gpg

main() {
	local pkg missing=()
	for pkg in "${PACKAGES[@]}"; do
		nd_pkg_installed "$pkg" || missing+=("$pkg")
	done
	[[ -e $KEYS ]] || missing+=(debian-archive-keyring)
	((${#missing[@]})) || return 0
	[[ $(id -u) == 0 ]] || nd_die "missing packages (${missing[*]}); run as root"
	nd_apt_update || nd_die "cannot install ${missing[*]}"
	nd_log "installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		"${missing[@]}" >&2
}

main "$@"
