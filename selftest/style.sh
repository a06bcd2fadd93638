#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# style.sh (make style): checkpatch.pl --strict on the project's C sources
# and headers, and kernel-doc -none on the public header and every file
# that exports a function. Passes only without any ERROR, WARNING or CHECK
# and without any kernel-doc warning; the last line sums up. Both scripts
# come from Debian's linux-source-6.12 package, of which only four files
# are kept in $ND_CACHE/checkpatch/<version>/.
set -euo pipefail
# shellcheck source=selftest/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SOURCE_PKG=linux-source-6.12

# fetch_checkpatch: set CHECKPATCH and KERNELDOC, extracting them once per
# package version.
fetch_checkpatch() {
	local ver dir deb tmp files
	nd_cache_lock
	nd_apt_update_if_stale
	ver=$(nd_apt_candidate "$SOURCE_PKG")
	[[ -n $ver ]] || nd_die "no candidate for $SOURCE_PKG"
	dir=$ND_CACHE/checkpatch/$ver
	CHECKPATCH=$dir/checkpatch.pl
	KERNELDOC=$dir/kernel-doc
	# A cache from before kernel-doc was kept is extracted again.
	[[ -e $dir/.complete && -e $KERNELDOC ]] && return
	deb=$(nd_fetch_deb "$SOURCE_PKG") || { nd_apt_update && deb=$(nd_fetch_deb "$SOURCE_PKG"); } ||
		nd_die "cannot download $SOURCE_PKG"
	nd_log "extracting checkpatch.pl and kernel-doc from $(basename "$deb") (about a minute, once)"
	tmp=$(mktemp -d "$ND_CACHE/.checkpatch.XXXXXX")
	chmod 755 "$tmp"
	# checkpatch reads spelling.txt and const_structs.checkpatch beside
	# itself; 6.12's kernel-doc is one Perl script.
	files=(checkpatch.pl spelling.txt const_structs.checkpatch kernel-doc)
	if ! dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/src/$SOURCE_PKG.tar.xz" |
		tar -xJ -C "$tmp" --strip-components=2 "${files[@]/#/$SOURCE_PKG/scripts/}"; then
		rm -rf "$tmp"
		nd_die "cannot extract checkpatch.pl and kernel-doc from $deb"
	fi
	rm -rf "$ND_CACHE/checkpatch"
	mkdir -p "$ND_CACHE/checkpatch"
	mv "$tmp" "$dir"
	touch "$dir/.complete"
	# The four files are all that is needed from the 150 MB package.
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

# kerneldoc: kernel-doc -none -Wall (every comment parsed, nothing written
# but warnings) on the consumer API and every file with an EXPORT_SYMBOL*;
# any line it prints is a finding. And every exported function must have
# a kernel-doc comment there: kernel-doc -export lists those it finds.
kerneldoc() {
	local -a docs exporters exportargs=()
	local out missing f
	cd "$ND_ROOT"
	mapfile -t exporters < <(grep -l '^EXPORT_SYMBOL' -- "${files[@]}" | sort -u)
	for f in "${exporters[@]}"; do
		exportargs+=(-export-file "$f")
	done
	mapfile -t docs < <(printf '%s\n' nodirect_alloc.h "${exporters[@]}" | sort -u)
	out=$(perl "$KERNELDOC" -none -Wall "${docs[@]}" 2>&1) || true
	missing=$(comm -23 \
		<(sed -n 's/^EXPORT_SYMBOL[_A-Z]*(\([a-z0-9_]*\));$/\1/p' "${exporters[@]}" | sort -u) \
		<(perl "$KERNELDOC" -rst -sphinx-version 3.0 -export \
			"${exportargs[@]}" "${docs[@]}" 2>/dev/null |
			sed -n 's/^\.\. c:function:: .*[ *]\([a-z0-9_][a-z0-9_]*\) *(.*/\1/p' | sort -u))
	[[ -z $missing ]] || out+=${out:+$'\n'}"exported without a kernel-doc comment: "$(tr '\n' ' ' <<<"$missing")
	if [[ -n $out ]]; then
		printf '%s\n' "$out"
		echo "style: $(wc -l <<<"$out") kernel-doc findings in ${docs[*]}"
		exit 1
	fi
	echo "kernel-doc: ${docs[*]} clean, every export documented"
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
			# TRACE_EVENT()'s layout, as in every include/trace/events/ header.
			[[ $f == nd_trace.h ]] && ignore=(--ignore PARENTHESIS_ALIGNMENT,OPEN_ENDED_LINE)
			perl "$CHECKPATCH" --strict --no-tree --color=never "${ignore[@]}" -f "$f" 2>&1 || true
		done
	)
	printf '%s\n' "$out"
	count=$(grep -cE '^(ERROR|WARNING|CHECK):' <<<"$out" || true)
	if ((count)); then
		echo "style: $count checkpatch findings in ${#files[@]} files"
		exit 1
	fi
	kerneldoc
	echo "style: ${#files[@]} files clean"
}

main "$@"
