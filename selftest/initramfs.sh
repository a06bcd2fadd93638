#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# initramfs.sh OUT.cpio.gz INIT [FILE[=/GUEST/PATH]...]
#
# Builds the guest's initramfs (cpio newc, gzip): a static busybox with its
# applet links, INIT as /init, and each FILE at /GUEST/PATH (default: /name),
# e.g. build/6.1/nodirect_alloc.ko=/nodirect_alloc.ko or a test program.
set -euo pipefail
# shellcheck source=selftest/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BUSYBOX=${ND_BUSYBOX:-/bin/busybox}

# busybox-static's binary works in a guest without any libraries.
check_busybox() {
	[[ -x $BUSYBOX ]] || nd_die "$BUSYBOX missing (run selftest/deps.sh)"
	# grep without -q reads to the end: under pipefail, a grep that
	# stopped at its match would fail readelf (SIGPIPE) and the test.
	if LC_ALL=C readelf -l "$BUSYBOX" 2>/dev/null |
		grep 'Requesting program interpreter' >/dev/null; then
		nd_die "$BUSYBOX is dynamically linked: install busybox-static"
	fi
}

# stage_busybox DIR: /bin/busybox plus one symlink per applet, made here
# rather than by the guest so /init can use any applet from its first line.
stage_busybox() {
	local dir=$1 applet
	mkdir -p "$dir/bin" "$dir/sbin" "$dir/usr/bin" "$dir/usr/sbin"
	cp "$BUSYBOX" "$dir/bin/busybox"
	while read -r applet; do
		[[ $applet == bin/busybox || -e $dir/$applet ]] && continue
		ln -s /bin/busybox "$dir/$applet"
	done < <("$BUSYBOX" --list-full)
}

main() {
	(($# >= 2)) || nd_die "usage: initramfs.sh OUT.cpio.gz INIT [FILE[=/GUEST/PATH]...]"
	local out=$1 init=$2 spec src dest stage
	shift 2
	check_busybox
	stage=$(mktemp -d)
	# shellcheck disable=SC2064 # expand now: stage is local
	trap "rm -rf '$stage'" EXIT
	stage_busybox "$stage"
	mkdir -p "$stage"/{dev,proc,sys,tmp,root}
	# The kernel opens /dev/console before /init runs; without root the
	# node cannot be made, and /init reopens it after mounting devtmpfs.
	mknod -m 600 "$stage/dev/console" c 5 1 2>/dev/null || true
	install -m 0755 "$init" "$stage/init"
	for spec in "$@"; do
		src=${spec%%=*}
		dest=/$(basename "$src")
		[[ $spec == *=* ]] && dest=${spec#*=}
		[[ -f $src ]] || nd_die "initramfs: no such file: $src"
		mkdir -p "$stage$(dirname "$dest")"
		cp "$src" "$stage$dest"
		# As INSTALL_MOD_STRIP=1: a module's DWARF (5 MB against the
		# headers' -g) is for the host's tools, not the guest's.
		if [[ $dest == *.ko ]]; then
			strip --strip-debug "$stage$dest"
		fi
	done
	mkdir -p "$(dirname "$out")"
	# The kernel unpacks newc only; root-owned so /init runs as expected.
	# gzip -1: 7% larger than -9 for a seventh of its time on the host.
	(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
		cpio --quiet -o -H newc -R 0:0) | gzip -1 >"$out.tmp"
	mv "$out.tmp" "$out"
}

main "$@"
