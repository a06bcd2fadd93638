#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# fetch-kernel.sh SERIES
#
# Makes Debian 12's current kernel of SERIES (6.1 or 6.12) usable without
# installing it: the image and header packages are downloaded and extracted
# into one root per kernel version under $ND_CACHE/kernels/SERIES/, and the
# headers' Makefile is repointed into that root. Prints on stdout:
#   ND_SERIES=6.12
#   ND_KREL=6.12.117+deb12-amd64
#   ND_KDIR=<root>/usr/src/linux-headers-<krel>     (KDIR for kbuild)
#   ND_VMLINUZ=<root>/boot/vmlinuz-<krel>
# A cached version is reused without any download.
set -euo pipefail
# shellcheck source=selftest/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The metapackage that always depends on the series' current image: the
# concrete packages of older versions vanish from the mirrors.
metapackage() {
	case $1 in
	6.1) echo linux-image-amd64 ;;
	6.12) echo linux-image-6.12-amd64 ;;
	*) nd_die "unknown kernel series '$1' (expected 6.1 or 6.12)" ;;
	esac
}

# resolve SERIES: set IMAGE, KREL, VERSION and PKGS from apt's lists.
resolve() {
	local headers
	IMAGE=$(nd_apt_depends "$(metapackage "$1")" '^linux-image-')
	[[ -n $IMAGE ]] || return 1
	KREL=${IMAGE#linux-image-}
	VERSION=$(nd_apt_candidate "$IMAGE")
	headers=linux-headers-$KREL
	PKGS=("$IMAGE" "$headers"
		"$(nd_apt_depends "$headers" '^linux-headers-.*-common$')"
		"$(nd_apt_depends "$headers" '^linux-kbuild-')")
	[[ -n $VERSION && -n ${PKGS[2]} && -n ${PKGS[3]} ]]
}

# extract ROOT: download the packages and unpack them into ROOT.
extract() {
	local root=$1 pkg deb
	rm -rf "$root"
	mkdir -p "$root"
	for pkg in "${PKGS[@]}"; do
		deb=$(nd_fetch_deb "$pkg") || return 1
		nd_log "extracting $(basename "$deb")"
		if [[ $pkg == "$IMAGE" ]]; then
			# Only the kernel image; its modules are not needed.
			dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$root" ./boot || return 1
		else
			dpkg-deb -x "$deb" "$root" || return 1
		fi
	done
}

# The arch headers include the common headers by absolute path.
repoint_makefile() {
	local root=$1 mk=$1/usr/src/linux-headers-$KREL/Makefile
	sed -i "1s|^include /usr/src/|include $root/usr/src/|" "$mk"
	grep -q "^include $root/usr/src/linux-headers-.*-common/Makefile" "$mk" ||
		nd_die "unexpected first line in $mk"
}

main() {
	local series=${1:?usage: fetch-kernel.sh 6.1|6.12} root pkg
	metapackage "$series" >/dev/null
	nd_cache_lock
	nd_apt_update_if_stale
	resolve "$series" || { nd_apt_update && resolve "$series"; } ||
		nd_die "cannot resolve the $series kernel packages"
	root=$ND_CACHE/kernels/$series/${KREL}_$VERSION
	if [[ ! -e $root/.complete ]]; then
		# A download can fail when the lists name a version the mirror
		# dropped already: refresh them once and try again.
		if ! extract "$root.partial"; then
			nd_apt_update || nd_die "cannot fetch the $series kernel"
			resolve "$series" || nd_die "cannot resolve the $series kernel packages"
			root=$ND_CACHE/kernels/$series/${KREL}_$VERSION
			extract "$root.partial" || nd_die "cannot fetch the $series kernel"
		fi
		rm -rf "$root"
		mv "$root.partial" "$root"
		repoint_makefile "$root"
		touch "$root/.complete"
		# Older versions of the series are never resolved again.
		find "$ND_CACHE/kernels/$series" -mindepth 1 -maxdepth 1 ! -path "$root" \
			-exec rm -rf {} +
		for pkg in "${PKGS[@]}"; do
			rm -f "$ND_CACHE/deb/${pkg}_"*.deb
		done
	fi
	printf 'ND_SERIES=%s\nND_KREL=%s\nND_KDIR=%s\nND_VMLINUZ=%s\n' "$series" "$KREL" \
		"$root/usr/src/linux-headers-$KREL" "$root/boot/vmlinuz-$KREL"
}

main "$@"
