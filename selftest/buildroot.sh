#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# buildroot.sh RELEASE
#
# Prints the path of a Debian RELEASE root (bookworm or trixie) that builds
# modules for that release's kernels with the compiler they were built with
# (gcc-12 or gcc-14), plus sparse for check.sh's C=2 pass and pahole for
# BTF. lib.sh uses one for the kernels of every release but the host's own:
# the host's compiler never builds for another release's kernel. Made with
# debootstrap --variant=buildd once (about 2 minutes) and cached in
# $ND_CACHE/buildroot-RELEASE/<recipe hash>/; a changed recipe makes a new
# one. lib.sh's nd_chroot runs make in it with the source tree and the
# kernel cache bind-mounted at their own paths.
set -euo pipefail
# shellcheck source=selftest/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
# What kbuild needs besides the compiler: libelf-dev and libssl-dev for
# objtool and sign-file, kmod for depmod, pahole for BTF, sparse for C=2.
COMMON=make,bc,bison,flex,libelf-dev,libssl-dev,kmod,pahole,sparse

# release_cc RELEASE: the compiler package of the release's kernels; it
# brings x86_64-linux-gnu-gcc-N, the CC their headers name.
release_cc() {
	case $1 in
	bookworm) echo gcc-12 ;;
	trixie) echo gcc-14 ;;
	*) nd_die "no build root recipe for '$1' (bookworm or trixie)" ;;
	esac
}

# From 6.14 on the kernel's headers use __typeof_unqual__ under
# __CHECKER__, which sparse 0.6.4 (trixie's) cannot parse: such kernels
# check the checker (scripts/checker-valid.sh) and quietly build without it.
# Debian unstable's sparse (0.6.5~rc1 today) parses it; its one binary
# needs only libc, so trixie's root gets it from its .deb in /usr/local/bin,
# ahead of its own. CHECKER_PROBE is what checker-valid.sh compiles.
CHECKER_PROBE='static inline int u(const int *q)
{
	__typeof_unqual__(*q) v = *q;
	return v;
}'

# add_sparse DIR: unstable's sparse into the root, checked with the probe.
add_sparse() {
	local dir=$1 deb
	nd_apt_private sid
	nd_apt_update_if_stale
	deb=$(nd_fetch_deb sparse) || { nd_apt_update && deb=$(nd_fetch_deb sparse); } || return 1
	nd_log "adding $(basename "$deb")'s sparse to the root"
	dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/bin/sparse >"$dir/usr/local/bin/sparse" || return 1
	chmod 755 "$dir/usr/local/bin/sparse"
	rm -f "$deb"
	printf '%s\n' "$CHECKER_PROBE" >"$dir/tmp/nd-checker-probe.c"
	chroot "$dir" /usr/local/bin/sparse /tmp/nd-checker-probe.c 2>&1 | { ! grep error; } >&2 ||
		{ nd_log "unstable's sparse does not parse __typeof_unqual__"; return 1; }
	rm -f "$dir/tmp/nd-checker-probe.c"
}

# make_root DIR: the root, checked to hold the compiler, sparse and pahole.
make_root() {
	local dir=$1 cc
	cc=$(release_cc "$RELEASE")
	debootstrap --variant=buildd --keyring="$KEYRING" --include="$cc,$COMMON" \
		"$RELEASE" "$dir" "$(nd_mirror)" >&2
	if [[ $RELEASE == trixie ]]; then
		add_sparse "$dir" || return 1
	fi
	# shellcheck disable=SC2016 # $1 is the inner shell's
	chroot "$dir" sh -c 'command -v "x86_64-linux-gnu-$1" && command -v sparse && command -v pahole' \
		sh "$cc" >&2
	rm -rf "$dir"/var/cache/apt/archives/*.deb
}

recipe_hash() {
	{
		declare -f release_cc add_sparse make_root
		printf '%s\n' "$RELEASE" "$COMMON" "$CHECKER_PROBE" "$(nd_mirror)"
	} | sha256sum | cut -c1-12
}

main() {
	RELEASE=${1:?usage: buildroot.sh RELEASE}
	release_cc "$RELEASE" >/dev/null
	local base=$ND_CACHE/buildroot-$RELEASE dir tmp lock
	dir=$base/$(recipe_hash)
	if [[ ! -e $dir/.complete ]]; then
		mkdir -p "$base"
		# Its own lock: the kernel cache (nd_cache_lock) need not wait
		# minutes for debootstrap.
		exec {lock}>"$base.lock"
		flock "$lock"
	fi
	if [[ ! -e $dir/.complete ]]; then
		nd_log "building the $RELEASE build root (once; about 2 minutes)"
		tmp=$(mktemp -d "$base/.build.XXXXXX")
		# shellcheck disable=SC2064 # expand now: tmp is local
		trap "rm -rf '$tmp'" EXIT
		make_root "$tmp/root" || nd_die "debootstrap of $RELEASE failed"
		rm -rf "$dir"
		mv "$tmp/root" "$dir"
		touch "$dir/.complete"
		rm -rf "$tmp"
		trap - EXIT
		# Only the current recipe's root is used again.
		find "$base" -mindepth 1 -maxdepth 1 ! -path "$dir" -exec rm -rf {} +
	fi
	printf '%s\n' "$dir"
}

main "$@"
