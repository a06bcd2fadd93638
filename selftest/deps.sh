#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# deps.sh: install, from Debian's apt registry, everything the build and the
# VM tests need that is missing. Does nothing (and stays offline) when all is
# installed already. Kernels and headers are not installed: fetch-kernel.sh
# keeps them in a cache.
set -euo pipefail
# shellcheck source=selftest/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PACKAGES=(
	make gcc-12 libelf-dev # kbuild of Debian's headers (CC=gcc-12)
	pahole                 # BTF for 6.12 modules
	sparse                 # C=1 checks
	perl                   # checkpatch.pl
	qemu-system-x86        # the guest
	busybox-static         # the guest's userland
	cpio gzip              # initramfs
	libc6-dev              # static guest probes (kcore_read)
	xz-utils kmod          # .deb and kernel payloads
	debootstrap e2fsprogs  # the DKMS tier: Debian root, disk images
	debhelper dh-dkms      # make deb
	gnuplot-nox            # make bench: the plot (pngcairo)
	stress-ng              # the stress boot: the kernel's own direct-map users
)

main() {
	local pkg missing=()
	for pkg in "${PACKAGES[@]}"; do
		nd_pkg_installed "$pkg" || missing+=("$pkg")
	done
	((${#missing[@]})) || return 0
	[[ $(id -u) == 0 ]] || nd_die "missing packages (${missing[*]}); run as root"
	nd_apt_update || nd_die "cannot install ${missing[*]}"
	nd_log "installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		"${missing[@]}" >&2
}

main "$@"
