#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# layers.sh BUILD_DIR: every call goes down.  nd_internal.h gives each
# source file of the module a layer ("Layer N, file.c:" headings, 1 on
# top); in the objects of a build (as nodirect_alloc.mod lists them), each
# function or variable one of them uses that another defines must come
# from the same layer or one below.  The module's files reach the tests
# (selftest/) only through nd_test_run() and nd_test_exit(), from
# nodirect_alloc.c.  An object without a layer, a layer without an object,
# an object nm cannot read, or no use across files at all fails too: the
# check must not pass by seeing nothing.
set -euo pipefail

dir=${1:?usage: layers.sh BUILD_DIR}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mod=$dir/nodirect_alloc.mod
bad=0 refs=0

fail() {
	echo "FAIL: $*"
	bad=$((bad + 1))
}

declare -A layer=() owner=() seen=()
while read -r n file; do
	obj=${file%.c}.o
	# Kbuild compiles nodirect_alloc.c as nodirect.o (see there).
	[[ $obj == nodirect_alloc.o ]] && obj=nodirect.o
	layer[$obj]=$n
done < <(sed -n 's|^/\* Layer \([0-9]\+\), \([a-z0-9_]\+\.c\):.*|\1 \2|p' "$root/nd_internal.h")
((${#layer[@]})) || { echo "FAIL: no 'Layer N, file.c:' heading in nd_internal.h"; exit 1; }
[[ -s $mod ]] || { echo "FAIL: no $mod: not a build of the module"; exit 1; }

objs=() tests=()
for o in $(cat "$mod"); do
	# Paths as the build saw them (in a build root for Debian 13's).
	case $o in
	*/selftest/*) o=selftest/${o##*/} ;;
	*) o=${o##*/} ;;
	esac
	[[ -f $dir/$o ]] || { fail "$o is in nodirect_alloc.mod but not built"; continue; }
	if [[ $o == selftest/* ]]; then
		tests+=("$o")
	elif [[ -n ${layer[$o]:-} ]]; then
		objs+=("$o")
		seen[$o]=1
	else
		fail "$o has no layer in nd_internal.h"
	fi
done
for o in "${!layer[@]}"; do
	[[ -n ${seen[$o]:-} ]] || fail "nd_internal.h gives $o a layer, but the module has no such object"
done

# defined OBJ: the global symbols OBJ defines; fails if nm does.
defined() { nm -g --defined-only "$dir/$1" | awk '{ print $3 }'; }
for o in "${objs[@]}" "${tests[@]}"; do
	syms=$(defined "$o") || { fail "nm cannot read $o"; continue; }
	for sym in $syms; do owner[$sym]=$o; done
done

for o in "${objs[@]}"; do
	uses=$(nm -u "$dir/$o" | awk '{ print $2 }') || { fail "nm cannot read $o"; continue; }
	for sym in $uses; do
		def=${owner[$sym]:-}
		[[ -n $def && $def != "$o" ]] || continue
		refs=$((refs + 1))
		if [[ $def == selftest/* ]]; then
			[[ $o == nodirect.o && $sym =~ ^nd_test_(run|exit)$ ]] ||
				fail "$o uses $sym of the tests ($def)"
		elif ((layer[$def] < layer[$o])); then
			fail "$o (layer ${layer[$o]}) uses $sym of $def, a layer above (${layer[$def]})"
		fi
	done
done
((refs)) || fail "no use of one file's symbol by another: nothing was checked"
echo "$refs uses across ${#objs[@]} files, $bad failures"
((bad == 0))
