#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# layers.sh BUILD_DIR: every call goes down.  nd_internal.h gives each
# source file of the module a layer ("Layer N, file.c:" headings, 1 on
# top); from the objects of a build, each function or variable one of
# them uses that another defines must come from the same layer or one
# below.  The module's files reach the tests (selftest/) only through
# nd_test_run() and nd_test_exit(), from nodirect_alloc.c.  An object
# without a layer fails too, so that a new file cannot slip past.
set -euo pipefail

dir=${1:?usage: layers.sh BUILD_DIR}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

declare -A layer=() owner=()
while read -r n file; do
	obj=${file%.c}.o
	# Kbuild compiles nodirect_alloc.c as nodirect.o (see there).
	[[ $obj == nodirect_alloc.o ]] && obj=nodirect.o
	layer[$obj]=$n
done < <(sed -n 's|^/\* Layer \([0-9]\+\), \([a-z0-9_]\+\.c\):.*|\1 \2|p' "$root/nd_internal.h")
((${#layer[@]})) || { echo "FAIL: no 'Layer N, file.c:' heading in nd_internal.h"; exit 1; }

objs=()
for o in "$dir"/*.o; do
	o=${o##*/}
	[[ $o == nodirect_alloc.o || $o == *.mod.o ]] && continue
	objs+=("$o")
done
tests=("$dir"/selftest/*.o)

bad=0 refs=0
for o in "${objs[@]}"; do
	if [[ -z ${layer[$o]:-} ]]; then
		echo "FAIL: $o has no layer in nd_internal.h"
		bad=$((bad + 1))
	fi
	while read -r sym; do owner[$sym]=$o; done < <(nm -g --defined-only "$dir/$o" | awk '{print $3}')
done
for t in "${tests[@]}"; do
	while read -r sym; do owner[$sym]=selftest/${t##*/}; done < <(nm -g --defined-only "$t" | awk '{print $3}')
done

for o in "${objs[@]}"; do
	[[ -n ${layer[$o]:-} ]] || continue
	while read -r sym; do
		def=${owner[$sym]:-}
		[[ -n $def && $def != "$o" ]] || continue
		refs=$((refs + 1))
		if [[ $def == selftest/* ]]; then
			if [[ $o != nodirect.o || ! $sym =~ ^nd_test_(run|exit)$ ]]; then
				echo "FAIL: $o uses $sym of the tests ($def)"
				bad=$((bad + 1))
			fi
		elif ((layer[$def] < layer[$o])); then
			echo "FAIL: $o (layer ${layer[$o]}) uses $sym of $def, a layer above (${layer[$def]})"
			bad=$((bad + 1))
		fi
	done < <(nm -u "$dir/$o" | awk '{print $2}')
done
echo "$refs uses across ${#objs[@]} files, $bad going up"
((bad == 0))
