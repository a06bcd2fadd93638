#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# plot-check.sh [DIR]: the plots in DIR (bench/ by default) show what the
# table says. Reads results.tsv (the table behind results.md), each plot's
# data (.dat) and its script (.gp), and fails, saying where, unless, for
#   cost-per-page (always): µs per page against pages, a panel per boot
#     ("krel, N vCPUs"), of every contender with steady rows in that boot;
#   cost-vs-cpus (when there is one, see below): µs per pair at 64 pages
#     against vCPUs, a panel per kernel ("krel, 64 pages"), of every
#     contender of CPUS_CONTENDERS with steady rows at 64 pages in it;
# these hold:
#   - every panel of the data names each of its contenders, and nothing
#     else, in a header line;
#   - each point (x, contender) of each panel is that row's median (per page
#     for cost-per-page) in µs, to the rounding of the data's six significant
#     digits (1e-5 of it), and each row of the table is a point;
#   - the script draws each named column of each panel by that name, with
#     that name as its title.
#
# bench-report.sh draws cost-vs-cpus only when some kernel was booted at
# more than one vCPU count, and results.md then points to it. So it is
# checked when results.md names cost-vs-cpus.png or any cost-vs-cpus file
# is in DIR (then its .dat and .gp must be there); a directory with none
# of these (as those made before the plot existed, bench/ and
# bench/hardening-ii/) has nothing of it to disagree with, and passes.
set -euo pipefail

# The contenders bench-report.sh draws against vCPUs (V in its AWK_LIB),
# and the size it compares them at.
CPUS_CONTENDERS="vmalloc nd_not_present nd_read_only nd_pool nd_ro_pool per_page"
CPUS_PAGES=64

DIR=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/bench}

# check PLOT: hold DIR/PLOT.dat and DIR/PLOT.gp against DIR/results.tsv.
check() {
	local plot=$1 f
	for f in results.tsv "$plot.dat" "$plot.gp"; do
		[[ -s $DIR/$f ]] || { echo "plot-check: no $DIR/$f"; return 1; }
	done
	awk -v plot="$plot" -v gp="$DIR/$plot.gp" -v vlist="$CPUS_CONTENDERS" -v vpages="$CPUS_PAGES" '
	function fail(msg) { print "plot-check: " plot ": " msg; bad++ }
	# "nd_pool at 64 pages", "vmalloc at 1 vCPU", "per_page at 8 vCPUs"
	function at(c, v) {
		return c " at " v " " unit (unit == "vCPU" && v != 1 ? "s" : "")
	}
	BEGIN {
		n = split(vlist, v, " ")
		for (i = 1; i <= n; i++)
			inv[v[i]] = 1
		x = plot == "cost-vs-cpus" ? "cpus" : "pages"
		unit = plot == "cost-vs-cpus" ? "vCPU" : "pages"
	}
	# The table: what each panel must show, keyed by its title.
	FILENAME ~ /results\.tsv$/ {
		if (FNR == 1 || $4 != "steady")
			next
		if (plot == "cost-vs-cpus") {
			if ($6 != vpages || !($5 in inv))
				next
			title = $2 ", " vpages " pages"
			want[title, $5, $3] = $8 / 1000
		} else {
			title = $2 ", " $3 " vCPU" ($3 > 1 ? "s" : "")
			want[title, $5, $6] = $8 / $6 / 1000
		}
		names[title, $5] = 1
		rows++
		next
	}
	# The plot'"'"'s data.
	/^# / {
		panel = substr($0, 3)
		panels[++np] = panel
		next
	}
	$1 == x {
		nh[panel] = NF - 1
		for (i = 2; i <= NF; i++) {
			col[panel, i] = $i
			head[panel, $i] = 1
		}
		next
	}
	NF >= 2 {
		for (i = 2; i <= NF; i++) {
			c = col[panel, i]
			if ($i == "?") {
				if ((panel, c, $1) in want)
					fail(panel ": " at(c, $1) " is missing from the plot")
				continue
			}
			if (!((panel, c, $1) in want)) {
				fail(panel ": " at(c, $1) " is plotted but not in the table")
				continue
			}
			w = want[panel, c, $1]
			if ($i - w > w / 100000 || w - $i > w / 100000)
				fail(panel ": " at(c, $1) " is " $i " µs in the plot, " w " in the table")
			seen[panel, c, $1] = 1
		}
	}
	END {
		for (k in names) {
			split(k, p, SUBSEP)
			if (!((p[1], p[2]) in head))
				fail(p[1] ": contender " p[2] " of the table has no column in the plot")
		}
		for (k in head) {
			split(k, p, SUBSEP)
			if (!((p[1], p[2]) in names))
				fail(p[1] ": column " p[2] " of the plot is no contender of the table")
		}
		for (k in want)
			if (!(k in seen)) {
				split(k, p, SUBSEP)
				fail(p[1] ": " at(p[2], p[3]) " is in the table but not plotted")
			}
		# The script: each panel draws each column by name, titled by it.
		n = 0
		while ((getline line < gp) > 0) {
			if (line !~ /^plot /)
				continue
			n++
			for (i = 1; i <= nh[panels[n]]; i++) {
				c = col[panels[n], i + 1]
				# Its colour and mark (lt) may be given; names are [a-z_].
				if (line !~ ("\"" plot "\\.dat\" index " (n - 1) " using \"" x "\":\"" c \
				    "\" with linespoints (lt [0-9]+ )?title \"" c "\""))
					fail(panels[n] ": the script does not draw " c " by its name")
			}
		}
		if (n != np)
			fail("the script draws " n " panels, the data has " np)
		if (!rows)
			fail("no rows for it in the table")
		if (bad)
			exit 1
		printf "plot-check: %s: %d panels, %d points agree with the table\n", plot, np, rows
	}' "$DIR/results.tsv" "$DIR/$plot.dat"
}

# wants_cpus: whether DIR has a plot against vCPUs, or its results.md says so.
wants_cpus() {
	local f
	for f in dat gp png; do
		[[ -e $DIR/cost-vs-cpus.$f ]] && return 0
	done
	[[ -f $DIR/results.md ]] && grep -q 'cost-vs-cpus\.png' "$DIR/results.md"
}

# Failures first: make check quotes the first line of a failed check.
main() {
	local plot out passed='' failed=''
	for plot in cost-per-page cost-vs-cpus; do
		if [[ $plot == cost-vs-cpus ]] && ! wants_cpus; then
			passed+="plot-check: $plot: none here, and results.md points to none"$'\n'
			continue
		fi
		if out=$(check "$plot"); then
			passed+=$out$'\n'
		else
			failed+=$out$'\n'
		fi
	done
	printf '%s%s' "$failed" "$passed"
	[[ -z $failed ]]
}

main "$@"
