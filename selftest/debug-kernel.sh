#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# debug-kernel.sh NAME
#
# The kernel of a matrix row whose metapackage is linux-source (kernels.sh:
# "debug"), built from Debian's own source of that suite, with the kernel
# maintainers' checkers switched on. As the WireGuard selftests' harness:
# x86_64_defconfig, kernel/configs/kvm_guest.config and our fragment
# (selftest/debug.config) merged by the kernel's merge_config.sh, then
# olddefconfig; every option the fragment asks for is checked to have
# survived. Built in the build root of the suite's release, with the
# compiler of that release's kernels (gcc-14 for trixie), so that it is the
# same code the trixie-bpo row runs, and cached in
# $ND_CACHE/kernels/NAME/<version>_<recipe hash>/ (about 25 minutes on two
# cores, once). Prints what fetch-kernel.sh prints: ND_KNAME, ND_KREL,
# ND_DISTRO, ND_KDIR (the built tree), ND_VMLINUZ (its bzImage), ND_KCC.
set -euo pipefail
# shellcheck source=selftest/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FRAGMENT=$ND_ROOT/selftest/debug.config

# release_cc RELEASE: the compiler Debian builds RELEASE's kernels with.
release_cc() {
	case $1 in
	bookworm) echo x86_64-linux-gnu-gcc-12 ;;
	trixie) echo x86_64-linux-gnu-gcc-14 ;;
	*) nd_die "no compiler known for '$1'" ;;
	esac
}

# unpack DEB DIR: the source tree of a linux-source-X.Y package into DIR.
unpack() {
	local deb=$1 dir=$2 tarball
	tarball=$(dpkg-deb --fsys-tarfile "$deb" | tar -t | grep -m1 -E '^\./usr/src/linux-source-.*\.tar\.xz$') ||
		{ nd_log "no source tarball in $(basename "$deb")"; return 1; }
	mkdir -p "$dir"
	dpkg-deb --fsys-tarfile "$deb" | tar -xO "$tarball" | tar -xJ -C "$dir" --strip-components=1
}

# configure DIR: defconfig, the KVM guest fragment and ours, merged.
configure() {
	local dir=$1
	nd_chroot "$ROOT" make -C "$dir" -s CC="$CC" x86_64_defconfig >&2 || return 1
	# merge_config.sh -m only merges; olddefconfig then resolves.
	nd_chroot "$ROOT" sh -c 'cd "$1" && KCONFIG_CONFIG=.config \
		scripts/kconfig/merge_config.sh -m .config kernel/configs/kvm_guest.config "$2"' \
		sh "$dir" "$dir/nd-debug.config" >&2 || return 1
	nd_chroot "$ROOT" make -C "$dir" -s CC="$CC" olddefconfig >&2 || return 1
	check_config "$dir/.config"
}

# check_config CONFIG: every line of the fragment holds in CONFIG, or the
# build stops here, naming each option Kconfig dropped or changed.
check_config() {
	local config=$1 line opt want got bad=0
	while IFS= read -r line; do
		if [[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)=(.*)$ ]]; then
			opt=${BASH_REMATCH[1]} want=${BASH_REMATCH[2]}
		elif [[ $line =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
			opt=${BASH_REMATCH[1]} want=n
		else
			continue
		fi
		got=$(sed -n "s/^$opt=//p" "$config")
		[[ -n $got ]] || got=n
		if [[ $got != "$want" ]]; then
			nd_log "debug config: $opt=$want was asked for, olddefconfig made it $got"
			bad=1
		fi
	done <"$FRAGMENT"
	((!bad))
}

# build DIR: the kernel, its modules' symbol versions and a tree that
# builds external modules, with every core of the host.
build() {
	local dir=$1 t=$SECONDS
	nd_log "building the $NAME kernel $VERSION (once; about 25 minutes on two cores)"
	nd_chroot "$ROOT" make -C "$dir" -s -j"$(nproc)" CC="$CC" bzImage modules >&2 ||
		return 1
	nd_log "built the $NAME kernel in $((SECONDS - t)) s"
}

recipe_hash() {
	{
		cat "$FRAGMENT"
		declare -f configure check_config build
		printf '%s\n' "$CC"
	} | sha256sum | cut -c1-12
}

main() {
	NAME=${1:?usage: debug-kernel.sh NAME (see kernels.sh)}
	local src distro dir deb krel lock
	nd_matrix_row "$NAME" || exit 1
	[[ $ND_K_META == linux-source ]] || nd_die "$NAME is not built from source (kernels.sh)"
	distro=$(nd_matrix_distro "$ND_K_SUITE")
	CC=$(release_cc "$distro")
	ROOT=$(bash "$ND_ROOT/selftest/buildroot.sh" "$distro") || nd_die "no $distro build root"
	# The apt configuration and lists are shared with fetch-kernel.sh,
	# which may run at the same time (check.sh builds this kernel beside
	# the others): the cache lock while they are written or read, not
	# over the build.
	nd_cache_lock
	nd_apt_private "$ND_K_SUITE"
	nd_apt_update_if_stale
	src=$(nd_apt_depends linux-source '^linux-source-')
	VERSION=$(nd_apt_candidate "$src")
	if [[ -z $src || -z $VERSION ]]; then
		nd_apt_update
		src=$(nd_apt_depends linux-source '^linux-source-')
		VERSION=$(nd_apt_candidate "$src")
	fi
	[[ -n $src && -n $VERSION ]] || nd_die "cannot resolve linux-source in $ND_K_SUITE"
	dir=$ND_CACHE/kernels/$NAME/${VERSION}_$(recipe_hash)
	mkdir -p "$ND_CACHE/kernels/$NAME"
	exec {ND_LOCK_FD}>&-
	# Its own lock: the other kernels need not wait for this build.
	exec {lock}>"$ND_CACHE/kernels/$NAME.lock"
	flock "$lock"
	if [[ ! -e $dir/.complete ]]; then
		# The download reads the shared lists: the cache lock again
		# (never held while this kernel's lock is waited for).
		nd_cache_lock
		deb=$(nd_fetch_deb "$src") || nd_die "cannot fetch $src $VERSION"
		exec {ND_LOCK_FD}>&-
		rm -rf "$dir"
		unpack "$deb" "$dir" || nd_die "cannot unpack $(basename "$deb")"
		cp "$FRAGMENT" "$dir/nd-debug.config"
		configure "$dir" || nd_die "the debug configuration does not hold (see above)"
		build "$dir" || nd_die "the $NAME kernel did not build"
		touch "$dir/.complete"
		# Only the current version and recipe are used again.
		find "$ND_CACHE/kernels/$NAME" -mindepth 1 -maxdepth 1 ! -path "$dir" \
			-exec rm -rf {} +
		rm -f "$deb"
	fi
	krel=$(cat "$dir/include/config/kernel.release")
	printf '%s\n' "ND_KNAME=$NAME" "ND_KREL=$krel" "ND_DISTRO=$distro" "ND_KDIR=$dir" \
		"ND_VMLINUZ=$dir/arch/x86/boot/bzImage" "ND_KCC=$CC"
}

main "$@"
