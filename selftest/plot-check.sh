#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# plot-check.sh [DIR]: the plot in DIR (bench/ by default) shows what the
# table says. Reads results.tsv (the table behind results.md), the plot's
# data (cost-per-page.dat) and its script (cost-per-page.gp), and fails,
# saying where, unless:
#   - every panel of the data names every contender of the table's steady
#     state, and nothing else, in a header line;
#   - each point (pages, contender) of each panel is that row's median per
#     page in µs (to 0.1 %), and each row of the table is a point;
#   - the script draws each named column of each panel by that name, with
#     that name as its title.
set -euo pipefail

DIR=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/bench}
for f in results.tsv cost-per-page.dat cost-per-page.gp; do
	[[ -s $DIR/$f ]] || { echo "plot-check: no $DIR/$f"; exit 1; }
done

awk -v gp="$DIR/cost-per-page.gp" '
function fail(msg) { print "plot-check: " msg; bad++ }
FILENAME ~ /results\.tsv$/ {
	if (FNR == 1 || $4 != "steady")
		next
	title = $2 ", " $3 " vCPU" ($3 > 1 ? "s" : "")
	want[title, $5, $6] = $8 / $6 / 1000
	names[title, $5] = 1
	rows++
	next
}
FILENAME ~ /\.dat$/ {
	if ($0 ~ /^# /) {
		panel = substr($0, 3)
		panels[++np] = panel
		next
	}
	if ($1 == "pages") {
		nh[panel] = NF - 1
		for (i = 2; i <= NF; i++) {
			col[panel, i] = $i
			head[panel, $i] = 1
		}
		next
	}
	if (NF < 2)
		next
	for (i = 2; i <= NF; i++) {
		c = col[panel, i]
		if ($i == "?") {
			if ((panel, c, $1) in want)
				fail(panel ": " c " at " $1 " pages is missing from the plot")
			continue
		}
		if (!((panel, c, $1) in want)) {
			fail(panel ": " c " at " $1 " pages is plotted but not in the table")
			continue
		}
		w = want[panel, c, $1]
		if ($i - w > w / 1000 || w - $i > w / 1000)
			fail(panel ": " c " at " $1 " pages is " $i " µs per page in the plot, " w " in the table")
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
			fail(p[1] ": " p[2] " at " p[3] " pages is in the table but not plotted")
		}
	# The script: each panel draws each column by name, titled by it.
	n = 0
	while ((getline line < gp) > 0) {
		if (line !~ /^plot /)
			continue
		n++
		for (i = 1; i <= nh[panels[n]]; i++) {
			c = col[panels[n], i + 1]
			if (index(line, "index " (n - 1) " using \"pages\":\"" c "\" with linespoints title \"" c "\"") == 0)
				fail(panels[n] ": the script does not draw " c " by its name")
		}
	}
	if (n != np)
		fail("the script draws " n " panels, the data has " np)
	if (!rows)
		fail("no steady-state rows in the table")
	if (bad)
		exit 1
	printf "plot-check: %d panels, %d points agree with the table\n", np, rows
}' "$DIR/results.tsv" "$DIR/cost-per-page.dat"
