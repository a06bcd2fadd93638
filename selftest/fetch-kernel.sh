#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# fetch-kernel.sh NAME
#
# Makes the current kernel of the matrix row NAME (kernels.sh: 6.1, 6.12,
# trixie, trixie-bpo, ...) usable without installing it: the image and
# header packages are downloaded (Debian 12's through the host's apt, the
# others through a private apt configuration) and extracted into one root
# per kernel version under $ND_CACHE/kernels/NAME/, and the headers' Makefile
# is repointed into that root. Prints on stdout:
#   ND_KNAME=trixie-bpo-rt
#   ND_KREL=7.3.4+deb13-rt-amd64
#   ND_DISTRO=trixie                                 (its release: toolchain)
#   ND_KDIR=<root>/usr/src/linux-headers-<krel>     (KDIR for kbuild)
#   ND_VMLINUZ=<root>/boot/vmlinuz-<krel>
#   ND_KCC=x86_64-linux-gnu-gcc-14                  (the headers' compiler)
# A cached version is reused without any download. A row built from
# source (the debug kernel) is debug-kernel.sh's, with the same output.
set -euo pipefail
# shellcheck source=selftest/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# resolve: set IMAGE, BINARY, KREL, VERSION and PKGS from apt's lists for
# the row nd_matrix_row chose. From 7.x on, linux-image-<krel> is a small
# package that depends on linux-binary-<krel>, which holds the vmlinuz;
# before, the image package holds it itself (BINARY=IMAGE).
resolve() {
	local headers
	IMAGE=$(nd_apt_depends "$ND_K_META" '^linux-image-')
	[[ -n $IMAGE ]] || return 1
	KREL=${IMAGE#linux-image-}
	VERSION=$(nd_apt_candidate "$IMAGE")
	BINARY=$(nd_apt_depends "$IMAGE" '^linux-binary-')
	BINARY=${BINARY:-$IMAGE}
	headers=linux-headers-$KREL
	PKGS=("$BINARY" "$headers"
		"$(nd_apt_depends "$headers" '^linux-headers-.*-common$')"
		"$(nd_apt_depends "$headers" '^linux-kbuild-')")
	[[ -n $VERSION && -n ${PKGS[2]} && -n ${PKGS[3]} ]]
}

# extract ROOT: download the packages and unpack them into ROOT; the kernel
# image ends up in ROOT/boot/vmlinuz-KREL whichever package layout it had.
extract() {
	local root=$1 pkg deb member
	rm -rf "$root"
	mkdir -p "$root/boot"
	for pkg in "${PKGS[@]}"; do
		deb=$(nd_fetch_deb "$pkg") || return 1
		nd_log "extracting $(basename "$deb")"
		if [[ $pkg == "$BINARY" ]]; then
			# Only the kernel image, not its modules: in /boot up to
			# 6.x, in /usr/lib/modules/KREL/ in 7.x's linux-binary.
			member=$(dpkg-deb --fsys-tarfile "$deb" | tar -t |
				grep -F -x -e "./boot/vmlinuz-$KREL" -e "./usr/lib/modules/$KREL/vmlinuz") ||
				{ nd_log "no vmlinuz for $KREL in $(basename "$deb")"; return 1; }
			dpkg-deb --fsys-tarfile "$deb" | tar -xO "$member" >"$root/boot/vmlinuz-$KREL" ||
				return 1
		else
			dpkg-deb -x "$deb" "$root" || return 1
		fi
	done
}

# The arch headers include the common headers by absolute path (and from
# 7.x on also name their own directory as KBUILD_OUTPUT).
repoint_makefile() {
	local root=$1 mk=$1/usr/src/linux-headers-$KREL/Makefile
	sed -i -E "s,^(include |KBUILD_OUTPUT=)/usr/src/,\1$root/usr/src/," "$mk"
	grep -q "^include $root/usr/src/linux-headers-.*-common/Makefile" "$mk" ||
		nd_die "unexpected include line in $mk"
	! grep -q '/usr/src/' <(grep -v "$root/usr/src/" "$mk") ||
		nd_die "$mk names /usr/src/ where it was not repointed"
}

# checker_valid ROOT: from 6.14 on, kbuild runs scripts/checker-valid.sh
# to see whether sparse understands the headers (__typeof_unqual__), and
# quietly builds without sparse when the script fails. Debian's
# linux-kbuild does not ship it, so C=1 would never check anything: put the
# kernel's own script (upstream scripts/checker-valid.sh) where kbuild
# looks. Kernels that do not call it are left alone.
checker_valid() {
	local common script
	common=$(ls -d "$1"/usr/src/linux-headers-*-common)
	grep -q 'scripts/checker-valid.sh' "$common/Makefile" || return 0
	script=$common/scripts/checker-valid.sh
	[[ -e $script ]] && return 0
	cat >"$script" <<'EOF'
#!/bin/sh -eu
# SPDX-License-Identifier: GPL-2.0
# Added by nodirect_alloc's fetch-kernel.sh: Linux's scripts/checker-valid.sh,
# which Debian's linux-kbuild package lacks.

[ ! -x "$(command -v "$1")" ] && exit 1

tmp_file=$(mktemp)
trap "rm -f $tmp_file" EXIT

cat << EOT >$tmp_file
static inline int u(const int *q)
{
	__typeof_unqual__(*q) v = *q;
	return v;
}
EOT

# sparse happily exits with 0 on error so validate
# there is none on stderr. Use awk as grep is a pain with sh -e
$@ $tmp_file 2>&1 | awk -v c=1 '/error/{c=0}END{print c}'
EOF
	chmod 755 "$script"
}

# kernel_cc KDIR: the compiler the kernel was built with, as its config
# names it (CONFIG_CC_VERSION_TEXT="x86_64-linux-gnu-gcc-14 (Debian ...)");
# Debian's .kernelvariables sets the same CC for kbuild.
kernel_cc() {
	sed -n 's/^CONFIG_CC_VERSION_TEXT="\{0,1\}\([^ ]*\) .*/\1/p' "$1/include/config/auto.conf"
}

main() {
	local name=${1:?usage: fetch-kernel.sh NAME (see kernels.sh)} root pkg cc
	nd_matrix_row "$name" || exit 1
	# The debug row is built from source, not taken from a .deb.
	if [[ $ND_K_META == linux-source ]]; then
		exec bash "$ND_ROOT/selftest/debug-kernel.sh" "$name"
	fi
	nd_apt_private "$ND_K_SUITE"
	nd_cache_lock
	nd_apt_update_if_stale
	resolve || { nd_apt_update && resolve; } ||
		nd_die "cannot resolve the $name kernel packages ($ND_K_META from $ND_K_SUITE)"
	root=$ND_CACHE/kernels/$name/${KREL}_$VERSION
	if [[ ! -e $root/.complete ]]; then
		# A download can fail when the lists name a version the mirror
		# dropped already: refresh them once and try again.
		if ! extract "$root.partial"; then
			nd_apt_update || nd_die "cannot fetch the $name kernel"
			resolve || nd_die "cannot resolve the $name kernel packages"
			root=$ND_CACHE/kernels/$name/${KREL}_$VERSION
			extract "$root.partial" || nd_die "cannot fetch the $name kernel"
		fi
		rm -rf "$root"
		mv "$root.partial" "$root"
		repoint_makefile "$root"
		touch "$root/.complete"
		# Older versions of the kernel are never resolved again.
		find "$ND_CACHE/kernels/$name" -mindepth 1 -maxdepth 1 ! -path "$root" \
			-exec rm -rf {} +
		for pkg in "${PKGS[@]}"; do
			rm -f "$ND_CACHE/deb/${pkg}_"*.deb
		done
	fi
	checker_valid "$root"
	[[ -f $root/boot/vmlinuz-$KREL ]] || nd_die "no boot/vmlinuz-$KREL in ${PKGS[0]}"
	cc=$(kernel_cc "$root/usr/src/linux-headers-$KREL")
	[[ -n $cc ]] || nd_die "no CONFIG_CC_VERSION_TEXT in the $KREL headers"
	printf '%s\n' "ND_KNAME=$name" "ND_KREL=$KREL" "ND_DISTRO=$(nd_matrix_distro "$ND_K_SUITE")" \
		"ND_KDIR=$root/usr/src/linux-headers-$KREL" "ND_VMLINUZ=$root/boot/vmlinuz-$KREL" \
		"ND_KCC=$cc"
}

main "$@"
