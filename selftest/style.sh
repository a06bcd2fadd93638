#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# style.sh (make style): checkpatch.pl --strict on the project's C sources
# and headers. Passes only without any ERROR, WARNING or CHECK; the last
# line sums up. checkpatch.pl comes from Debian's linux-source-6.12 package,
# of which only three files are kept in $ND_CACHE/checkpatch/<version>/.
set -euo pipefail
# shellcheck source=selftest/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SOURCE_PKG=linux-source-6.12

# fetch_checkpatch: set CHECKPATCH, extracting it once per package version.
fetch_checkpatch() {
	local ver dir deb tmp files
	nd_cache_lock
	nd_apt_update_if_stale
	ver=$(nd_apt_candidate "$SOURCE_PKG")
	[[ -n $ver ]] || nd_die "no candidate for $SOURCE_PKG"
	dir=$ND_CACHE/checkpatch/$ver
	CHECKPATCH=$dir/checkpatch.pl
	[[ -e $dir/.complete ]] && return
	deb=$(nd_fetch_deb "$SOURCE_PKG") || { nd_apt_update && deb=$(nd_fetch_deb "$SOURCE_PKG"); } ||
		nd_die "cannot download $SOURCE_PKG"
	nd_log "extracting checkpatch.pl from $(basename "$deb") (about a minute, once)"
	tmp=$(mktemp -d "$ND_CACHE/.checkpatch.XXXXXX")
	chmod 755 "$tmp"
	# checkpatch reads spelling.txt and const_structs.checkpatch beside itself.
	files=(checkpatch.pl spelling.txt const_structs.checkpatch)
	if ! dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/src/$SOURCE_PKG.tar.xz" |
		tar -xJ -C "$tmp" --strip-components=2 "${files[@]/#/$SOURCE_PKG/scripts/}"; then
		rm -rf "$tmp"
		nd_die "cannot extract checkpatch.pl from $deb"
	fi
	rm -rf "$ND_CACHE/checkpatch"
	mkdir -p "$ND_CACHE/checkpatch"
	mv "$tmp" "$dir"
	touch "$dir/.complete"
	# The three files are all that is needed from the 150 MB package.
	rm -f "$deb"
}

# The project's C files, tracked or new, never build outputs.
sources() {
	cd "$ND_ROOT"
	if git rev-parse --git-dir >/dev/null 2>&1; then
		git ls-files --cached --others --exclude-standard -- '*.c' '*.h'
	else
		find . -path ./build -prune -o -name '*.[ch]' -print | sed 's|^\./||'
	fi | sort -u
}

main() {
	local -a files ignore
	local out count f
	fetch_checkpatch
	mapfile -t files < <(sources)
	((${#files[@]})) || { echo "style: no C sources found"; exit 1; }
	cd "$ND_ROOT"
	# The test modes print raw addresses (%px) on purpose, so a kernel
	# fault report can be matched to them; nothing else may.
	out=$(
		for f in "${files[@]}"; do
			ignore=()
			[[ $f == selftest/* ]] && ignore=(--ignore VSPRINTF_SPECIFIER_PX)
			perl "$CHECKPATCH" --strict --no-tree --color=never "${ignore[@]}" -f "$f" 2>&1 || true
		done
	)
	printf '%s\n' "$out"
	count=$(grep -cE '^(ERROR|WARNING|CHECK):' <<<"$out" || true)
	if ((count)); then
		echo "style: $count checkpatch findings in ${#files[@]} files"
		exit 1
	fi
	echo "style: ${#files[@]} files clean"
}

main "$@"
