#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# bench-report.sh DIR [KEY=VALUE...]
#
# Turns DIR/results.tsv and DIR/profile.tsv (written by bench.sh, in ns)
# into DIR/results.md, DIR/cost-per-page.png (cost per page against size,
# a panel per boot) and, when some kernel was booted at more than one vCPU
# count, DIR/cost-vs-cpus.png (a 64-page pair against the vCPUs, a panel
# per kernel); each plot's data (.dat) and script (.gp) stay beside it.
# KEY=VALUE pairs describe the run (date, host, load, qemus, wall) for the
# header. Separate from bench.sh so that the report can be redone without
# booting anything; --plot-only redoes the plots and leaves results.md.
set -euo pipefail
# shellcheck source=selftest/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The targets of issue 4, steady state on 4 vCPUs.
TARGET_SMP=4
TARGET_PAGES="64 256"
TARGET_RATIO=1.25
TARGET_PER_PAGE=10

# Common awk: the tables in memory, number formats, contender names.
# V and vpages: the contenders of the plot against vCPUs and the size it
# compares them at (selftest/plot-check.sh holds the same list).
# shellcheck disable=SC2016 # awk code, expanded by awk
AWK_LIB='
BEGIN {
	FS = "\t"
	nc = split("vmalloc nd_not_present nd_read_only nd_pool nd_ro_pool per_page memfd_secret", C, " ")
	nv = split("vmalloc nd_not_present nd_read_only nd_pool nd_ro_pool per_page", V, " ")
	for (i = 1; i <= nv; i++)
		inv[V[i]] = 1
	vpages = 64
	label["vmalloc"] = "vmalloc+vfree"
	label["nd_not_present"] = "nd_vmalloc+nd_vfree, not present"
	label["nd_read_only"] = "nd_vmalloc+nd_vfree, read-only"
	label["nd_pool"] = "nd_vmalloc+nd_vfree, not present, from the pool of hidden 2 MiB blocks (pool_max_mb=64)"
	label["nd_ro_pool"] = "nd_vmalloc+nd_vfree, read-only, from the pool of read-only 2 MiB blocks (pool_max_mb=64)"
	label["per_page"] = "per-page flush (secretmem policy)"
	label["memfd_secret"] = "memfd_secret(2) from user space"
	label["nd_kmalloc"] = "nd_kmalloc+nd_kfree of a small object (phase small: sizes in bytes)"
	label["kmalloc_sensitive"] = "kmalloc+kfree_sensitive of a small object (phase small: sizes in bytes)"
}
# µs with 3 significant digits or so.
function us(ns, u) {
	if (ns == "")
		return "–"
	u = ns / 1000
	if (u < 10)
		return sprintf("%.2f", u)
	if (u < 1000)
		return sprintf("%.1f", u)
	return sprintf("%.0f", u)
}
function ratio(a, b) {
	if (a == "" || b == "" || b == 0)
		return "–"
	return sprintf("%.2f×", a / b)
}
function cnt(x) {
	return x == "" || x == "-" ? "–" : x
}
# Whether the plot against vCPUs is drawn: some kernel has rows of its
# contenders at vpages pages, steady, from more than one vCPU count.
function cpus_plot(i) {
	for (i = 1; i <= nser; i++)
		if (nvc[sers[i]] > 1)
			return 1
	return 0
}
FILENAME ~ /results\.tsv$/ && $1 != "series" {
	key = $1 SUBSEP $3
	if (!(key in seen)) {
		seen[key] = 1
		boots[++nb] = key
		krel[key] = $2
	}
	if (!($1 in sseen)) {
		sseen[$1] = 1
		sers[++nser] = $1
		skrel[$1] = $2
	}
	present[$5] = 1
	if ($4 == "steady")
		hassteady[key, $5] = 1
	if ($4 == "steady" && $6 == vpages && ($5 in inv)) {
		vhas[$1, $5] = 1
		if (!(($1, $3) in vseen)) {
			vseen[$1, $3] = 1
			vcpu[$1, ++nvc[$1]] = $3
		}
	}
	r = key SUBSEP $4 SUBSEP $5 SUBSEP $6
	iters[r] = $7; med[r] = $8; p90[r] = $9; ipis[r] = $10; ia[r] = $11
	ifr[r] = $12; tlb[r] = $13; fa[r] = $14; ff[r] = $15; spl[r] = $16
	if (!(($4, $6) in seenpages)) {
		seenpages[$4, $6] = 1
		np[$4]++
		pg[$4, np[$4]] = $6
	}
}
FILENAME ~ /profile\.tsv$/ && $1 != "series" {
	r = $1 SUBSEP $3 SUBSEP $6
	if (!(r in pf_map))
		pfn[$1, $3]++
	pf_pages[$1, $3, pfn[$1, $3]] = $6
	pf_map[r] = $8; pf_hide[r] = $9; pf_flush[r] = $10; pf_wipe[r] = $11
	pf_restore[r] = $12; pf_vfree[r] = $13; pf_base[r] = $14
	pf_walk[r] = $15 != "" ? $15 : $9 - $10
}
'

# report_md KEY=VALUE...: the markdown on stdout.
report_md() {
	awk -v meta="$(printf '%s\n' "$@")" -v tsmp="$TARGET_SMP" -v tpages="$TARGET_PAGES" \
		-v tratio="$TARGET_RATIO" -v tpp="$TARGET_PER_PAGE" "$AWK_LIB"'
	function boot_title(key, s) {
		split(key, s, SUBSEP)
		return "Kernel " krel[key] " (" s[1] "), " s[2] " vCPU" (s[2] > 1 ? "s" : "")
	}
	function phase_table(key, phase, i, j, c, r, p) {
		print ""
		print "| contender | pages | median µs | p90 µs | µs per page | flushes alloc / free | IPIs alloc / free | IPIs per pair | splits per pair | pairs |"
		print "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
		for (j = 1; j <= np[phase]; j++) {
			p = pg[phase, j]
			for (i = 1; i <= nc; i++) {
				c = C[i]
				r = key SUBSEP phase SUBSEP c SUBSEP p
				if (!(r in med))
					continue
				printf "| %s | %d | %s | %s | %s | %s / %s | %s / %s | %s | %s | %s |\n", \
					c, p, us(med[r]), us(p90[r]), us(med[r] / p), cnt(fa[r]), cnt(ff[r]), \
					cnt(ia[r]), cnt(ifr[r]), cnt(ipis[r]), cnt(spl[r]), iters[r]
			}
		}
	}
	# Small objects (phase "small": its pages column holds bytes).
	function small_table(key, j, p, rn, rk, any) {
		for (j = 1; j <= np["small"]; j++)
			if ((key SUBSEP "small" SUBSEP "nd_kmalloc" SUBSEP pg["small", j]) in med)
				any = 1
		if (!any)
			return
		print ""
		print "### Small objects: nd_kmalloc+nd_kfree against kmalloc+kfree_sensitive"
		print ""
		print "| bytes | nd_kmalloc median ns | kmalloc+kfree_sensitive median ns | ratio | nd_kmalloc flushes / splits | pairs |"
		print "|--:|--:|--:|--:|--:|--:|"
		for (j = 1; j <= np["small"]; j++) {
			p = pg["small", j]
			rn = key SUBSEP "small" SUBSEP "nd_kmalloc" SUBSEP p
			rk = key SUBSEP "small" SUBSEP "kmalloc_sensitive" SUBSEP p
			if (!(rn in med) || !(rk in med) || med[rk] <= 0)
				continue
			printf "| %d | %d | %d | %.2f× | %s / %s | %s |\n", p, med[rn], med[rk], \
				med[rn] / med[rk], cnt(fa[rn]), cnt(spl[rn]), iters[rn]
		}
	}
	# One phase of one boot: its table, then the ratios.
	function phase_section(key, phase, title) {
		print "### " title
		phase_table(key, phase)
		print ""
		print "Ratios of the medians:"
		ratio_table(key, phase)
	}
	function ratio_table(key, phase, j, p, base, ours) {
		print ""
		print "| pages | not-present ÷ vmalloc | read-only ÷ vmalloc | pool ÷ vmalloc | read-only pool ÷ vmalloc | per-page ÷ not-present | memfd_secret ÷ not-present |"
		print "|--:|--:|--:|--:|--:|--:|--:|"
		for (j = 1; j <= np[phase]; j++) {
			p = pg[phase, j]
			base = key SUBSEP phase SUBSEP "vmalloc" SUBSEP p
			ours = key SUBSEP phase SUBSEP "nd_not_present" SUBSEP p
			printf "| %d | %s | %s | %s | %s | %s | %s |\n", p, ratio(med[ours], med[base]), \
				ratio(med[key SUBSEP phase SUBSEP "nd_read_only" SUBSEP p], med[base]), \
				ratio(med[key SUBSEP phase SUBSEP "nd_pool" SUBSEP p], med[base]), \
				ratio(med[key SUBSEP phase SUBSEP "nd_ro_pool" SUBSEP p], med[base]), \
				ratio(med[key SUBSEP phase SUBSEP "per_page" SUBSEP p], med[ours]), \
				ratio(med[key SUBSEP phase SUBSEP "memfd_secret" SUBSEP p], med[ours])
		}
	}
	# Where a not-present pair spends its time beyond a vmalloc pair.
	function profile_table(key, s, j, r, p, walk, ours, extra) {
		split(key, s, SUBSEP)
		if (!pfn[s[1], s[2]])
			return
		print ""
		print "Profile of a not-present pair, step by step (median µs of each step, so the sum is approximate; the walk is the median of hide less flush, per round); the floor is a vmalloc()+vfree() pair in the same round:"
		print ""
		print "| pages | map (pages + vmap) | walk + entry writes | flush | wipe | restore | vfree | sum | vmalloc+vfree | sum − floor |"
		print "|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
		for (j = 1; j <= pfn[s[1], s[2]]; j++) {
			p = pf_pages[s[1], s[2], j]
			r = s[1] SUBSEP s[2] SUBSEP p
			walk = pf_walk[r] < 0 ? 0 : pf_walk[r]
			ours = pf_map[r] + pf_hide[r] + pf_wipe[r] + pf_restore[r] + pf_vfree[r]
			extra = ours - pf_base[r]
			printf "| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", p, us(pf_map[r]), \
				us(walk), us(pf_flush[r]), us(pf_wipe[r]), us(pf_restore[r]), \
				us(pf_vfree[r]), us(ours), us(pf_base[r]), (extra < 0 ? "−" us(-extra) : us(extra))
		}
	}
	# One sentence: what the steps vmalloc has not add to a pair of @p pages.
	function where(series, smp, p, r, walk, extra) {
		r = series SUBSEP smp SUBSEP p
		if (!(r in pf_map))
			return
		walk = pf_walk[r] < 0 ? 0 : pf_walk[r]
		extra = walk + pf_flush[r] + pf_wipe[r] + pf_restore[r]
		if (extra <= 0)
			return
		print ""
		printf "Where the time goes (profile, %d pages): the steps a vmalloc pair does not have add %s µs to a pair: walk and entry writes %s (%d%%), flush %s (%d%%), wipe %s (%d%%), restore %s (%d%%). In the same rounds our pages and vmap area took %s µs to get and free, a vmalloc()+vfree() pair %s µs.\n", \
			p, us(extra), us(walk), 100 * walk / extra + 0.5, us(pf_flush[r]), 100 * pf_flush[r] / extra + 0.5, \
			us(pf_wipe[r]), 100 * pf_wipe[r] / extra + 0.5, us(pf_restore[r]), 100 * pf_restore[r] / extra + 0.5, \
			us(pf_map[r] + pf_vfree[r]), us(pf_base[r])
	}
	function met(ok) {
		return ok ? "**met**" : "**missed**"
	}
	function targets(key, s, n, tp, j, p, r, b, pp, worst, fmax, ffmax, imax, ifmax, vifmax, line) {
		split(key, s, SUBSEP)
		n = split(tpages, tp, " ")
		print ""
		print "### " boot_title(key) ", steady state, " tp[1] "–" tp[n] " pages"
		print ""
		print "| target | measured | |"
		print "|---|---|---|"
		fmax = 0; ffmax = 0; imax = 0; ifmax = 0; vifmax = 0; worst = 0; line = ""
		for (j = 1; j <= n; j++) {
			p = tp[j]
			r = key SUBSEP "steady" SUBSEP "nd_not_present" SUBSEP p
			pp = key SUBSEP "steady" SUBSEP "nd_read_only" SUBSEP p
			b = key SUBSEP "steady" SUBSEP "vmalloc" SUBSEP p
			if (fa[r] > fmax) fmax = fa[r]
			if (fa[pp] > fmax) fmax = fa[pp]
			if (ff[r] > ffmax) ffmax = ff[r]
			if (ff[pp] > ffmax) ffmax = ff[pp]
			if (ia[r] > imax) imax = ia[r]
			if (ifr[r] > ifmax) ifmax = ifr[r]
			if (ifr[b] > vifmax) vifmax = ifr[b]
			if (med[b] && med[r] / med[b] > worst) worst = med[r] / med[b]
			line = line (j > 1 ? ", " : "") p " pages " ratio(med[r], med[b]) " (read-only " ratio(med[pp], med[b]) ")"
		}
		printf "| flush broadcasts per nd_vmalloc ≤ 1 | %.2f (module counter); %.2f IPIs per call in /proc/interrupts CAL, one broadcast = %d | %s |\n", \
			fmax, imax, s[2] - 1, met(fmax <= 1)
		printf "| flushes per nd_vfree = 0 | %.2f (module counter); %.2f IPIs per nd_vfree, against %.2f per vfree of a vmalloc pair (vfree'"'"'s lazy vmap purge) | %s |\n", \
			ffmax, ifmax, vifmax, met(ffmax == 0)
		printf "| nd_vmalloc+nd_vfree ≤ %s× vmalloc+vfree | %s | %s |\n", tratio, line, met(worst <= tratio)
		r = key SUBSEP "steady" SUBSEP "nd_not_present" SUBSEP 256
		pp = key SUBSEP "steady" SUBSEP "per_page" SUBSEP 256
		printf "| ≥ %d× faster than per-page at 256 pages | %s | %s |\n", tpp, ratio(med[pp], med[r]), \
			met(med[r] && med[pp] / med[r] >= tpp)
		pool_targets(key, "nd_pool", "pool")
		pool_flushes(key, "nd_pool", "pool")
		pool_targets(key, "nd_ro_pool", "read-only pool")
		pool_flushes(key, "nd_ro_pool", "read-only pool")
		where(s[1], s[2], 256)
	}
	# A pool (contender c, called what in the lines): no flush and no split
	# per call in the steady state, and a pair no dearer than vmalloc+vfree
	# at 16 to 256 pages. Nothing if the boot lacks one of these rows.
	function pool_targets(key, c, what, n, tp, j, p, q, b, fmax, smax, worst, line) {
		n = split("16 64 256", tp, " ")
		fmax = 0; smax = 0; worst = 0; line = ""
		for (j = 1; j <= n; j++) {
			p = tp[j]
			q = key SUBSEP "steady" SUBSEP c SUBSEP p
			b = key SUBSEP "steady" SUBSEP "vmalloc" SUBSEP p
			if (!(q in med))
				return
			if (fa[q] > fmax) fmax = fa[q]
			if (spl[q] > smax) smax = spl[q]
			if (med[b] && med[q] / med[b] > worst) worst = med[q] / med[b]
			line = line (j > 1 ? ", " : "") p " pages " ratio(med[q], med[b])
		}
		printf "| %s: flush broadcasts per nd_vmalloc = 0 (16–256 pages) | %.2f | %s |\n", what, fmax, met(fmax == 0)
		printf "| %s: direct-map splits per pair = 0 (16–256 pages) | %.2f | %s |\n", what, smax, met(smax == 0)
		printf "| %s: nd_vmalloc+nd_vfree ≤ 1× vmalloc+vfree (16–256 pages) | %s | %s |\n", what, line, met(worst <= 1)
	}
	# What a pool'"'"'s flushes cost amortized, no target: the broadcasts of a
	# pair (alloc + free), and those per MiB freed, at the sizes measured.
	function pool_flushes(key, c, what, n, tp, j, p, q, f, line) {
		n = split("16 64 256 4096", tp, " ")
		line = ""
		for (j = 1; j <= n; j++) {
			p = tp[j]
			q = key SUBSEP "steady" SUBSEP c SUBSEP p
			if (!(q in med) || fa[q] == "-" || ff[q] == "-")
				continue
			f = fa[q] + ff[q]
			line = line (line != "" ? ", " : "") sprintf("%d pages %.2f (%.2f per MiB freed)", \
				p, f, f / (p * 4096 / 1048576))
		}
		if (line != "")
			printf "| %s: flush broadcasts per pair, amortized (alloc + free, steady) | %s | reported |\n", \
				what, line
	}
	END {
		nm = split(meta, m, "\n")
		for (i = 1; i <= nm; i++) {
			e = index(m[i], "=")
			info[substr(m[i], 1, e - 1)] = substr(m[i], e + 1)
		}
		print "# What hiding memory costs"
		print ""
		print "Measured by `make bench` (selftest/bench.sh) on " info["date"] ": one QEMU boot per kernel and vCPU count, `-m 1G`, Debian'"'"'s `init_on_free=0`. In each boot `memfd_secret_bench` runs first, then `insmod nodirect_alloc.ko bench=1` runs the other contenders interleaved, the order rotating every round."
		print ""
		print "**QEMU TCG numbers are for ratios, not absolute time.** TCG emulates every instruction and delivers an IPI by switching host threads; a flush that takes microseconds on hardware takes hundreds here. Compare contenders within one table, not with other machines."
		print ""
		print "Host: " info["host"] "; load average " info["load"] "; " info["qemus"] "; the run took " info["wall"] ". With other QEMU guests on the same two cores the vCPUs wait for host time, which inflates every IPI and the p90 columns most; the contenders of one boot share that noise alike, which is why they run interleaved."
		print ""
		print "Columns: a *pair* is one allocation and its free. Times are per pair (median, p90), and per page (median ÷ pages). *flushes* are the module'"'"'s own count of TLB flush broadcasts (each reaching every CPU), in the allocation and in the free. *IPIs* are call-function interrupts received by all CPUs (the CAL line of /proc/interrupts, read from the same per-CPU irq_stat counters), so one broadcast on N vCPUs is N−1 IPIs; memfd_secret reads /proc/interrupts around each batch and cannot split a pair. *splits* are direct-map leaves split (the module'"'"'s count, or /proc/vmstat direct_map_level2/3_splits for memfd_secret). *cold*: the first pairs after boot, each followed by a ballast allocation so the next pair gets pages never hidden before; *steady*: pages reused, as a long-lived user would."
		print ""
		print "Contenders: " 
		for (i = 1; i <= nc; i++)
			if (C[i] in present)
				print "- `" C[i] "`: " label[C[i]]
		if (cpus_plot()) {
			print ""
			print "[cost-vs-cpus.png](cost-vs-cpus.png), beside this file, plots the median of a " vpages "-page pair (steady) against the number of vCPUs, a panel per kernel ([cost-per-page.png](cost-per-page.png) the cost per page against size, a panel per boot). What grows with the vCPUs is the flush: a broadcast interrupts every other CPU and waits for each, so the paths that flush on every call (`nd_not_present`, `nd_read_only`, `per_page`) should climb with the count, while the pools (`nd_pool`, `nd_ro_pool`), which flush only when they take new blocks and once per 2 MiB freed, should stay flat."
		}
		print ""
		print "## Against the targets"
		for (b = 1; b <= nb; b++) {
			split(boots[b], s, SUBSEP)
			if (s[2] == tsmp)
				targets(boots[b])
		}
		print ""
		print "The wipe is memset() through the vmap alias. 6.1'"'"'s memset() runs `rep stosb` whenever the CPU has ERMS (QEMU'"'"'s `-cpu max` has), which TCG emulates a byte per iteration; 6.12'"'"'s wants FSRS for that and otherwise stores 8 bytes at a time. That, not the module, is why the same wipe costs several times more on 6.1 in these tables; on hardware with ERMS `rep stosb` is the fast way."
		for (b = 1; b <= nb; b++) {
			print ""
			print "## " boot_title(boots[b])
			print ""
			phase_section(boots[b], "steady", "Steady state")
			profile_table(boots[b])
			print ""
			phase_section(boots[b], "cold", "Cold direct map")
			small_table(boots[b])
		}
		print ""
		print "Raw data: results.tsv and profile.tsv beside this file (ns)."
	}' "$DIR/results.tsv" "$DIR/profile.tsv"
}

# plot_data: one gnuplot data block per boot (blocks apart by two blank
# lines): a "# title" line, a header line naming the columns (pages, then
# each contender with steady rows in that boot, by name), then µs per page
# of each contender ("?" if none). The plot picks its series by these names.
plot_data() {
	awk "$AWK_LIB"'
	END {
		for (b = 1; b <= nb; b++) {
			split(boots[b], s, SUBSEP)
			n = 0
			for (i = 1; i <= nc; i++)
				if ((boots[b], C[i]) in hassteady)
					col[++n] = C[i]
			if (!n)
				continue
			printf "# %s, %s vCPU%s\n", krel[boots[b]], s[2], (s[2] > 1 ? "s" : "")
			printf "pages"
			for (i = 1; i <= n; i++)
				printf " %s", col[i]
			printf "\n"
			for (j = 1; j <= np["steady"]; j++) {
				p = pg["steady", j]
				printf "%d", p
				for (i = 1; i <= n; i++) {
					r = boots[b] SUBSEP "steady" SUBSEP col[i] SUBSEP p
					printf " %s", (r in med) ? med[r] / p / 1000 : "?"
				}
				printf "\n"
			}
			printf "\n\n"
		}
	}' "$DIR/results.tsv" "$DIR/profile.tsv"
}

# cpus_data: the same for the plot against vCPUs, one block per kernel
# (series): "# krel, 64 pages", a header line (cpus, then each contender of
# V with a steady row at 64 pages in that kernel, by name), then a row per
# vCPU count, ascending, of µs per pair ("?" if none). Nothing when
# cpus_plot() says no.
cpus_data() {
	awk "$AWK_LIB"'
	END {
		if (!cpus_plot())
			exit
		for (k = 1; k <= nser; k++) {
			t = sers[k]
			if (!nvc[t])
				continue
			n = 0
			for (i = 1; i <= nv; i++)
				if ((t, V[i]) in vhas)
					col[++n] = V[i]
			# The vCPU counts, ascending (insertion sort).
			for (j = 1; j <= nvc[t]; j++) {
				x = vcpu[t, j]
				for (m = j - 1; m >= 1 && cp[m] + 0 > x + 0; m--)
					cp[m + 1] = cp[m]
				cp[m + 1] = x
			}
			printf "# %s, %d pages\n", skrel[t], vpages
			printf "cpus"
			for (i = 1; i <= n; i++)
				printf " %s", col[i]
			printf "\n"
			for (j = 1; j <= nvc[t]; j++) {
				printf "%d", cp[j]
				for (i = 1; i <= n; i++) {
					r = t SUBSEP cp[j] SUBSEP "steady" SUBSEP col[i] SUBSEP vpages
					printf " %s", (r in med) ? med[r] / 1000 : "?"
				}
				printf "\n"
			}
			printf "\n\n"
		}
	}' "$DIR/results.tsv" "$DIR/profile.tsv"
}

# Each contender keeps its colour and mark (gnuplot's linetype) in every
# panel of both plots, whichever others a panel lacks; those that came
# first keep the ones they had when they were the only contenders.
declare -A LT=([vmalloc]=1 [nd_not_present]=2 [nd_read_only]=3 [nd_pool]=4 [per_page]=5
	[memfd_secret]=6 [nd_ro_pool]=7)

# plot_panels DATA XCOL: the "set title" and "plot" lines of each panel of
# DIR/DATA: every column its header names after XCOL, taken by that name
# and titled with it (results.md says what each name is).
plot_panels() {
	local data=$1 x=$2 title line cols=() c i=0 sep
	while IFS=$'\t' read -r title line; do
		read -ra cols <<<"$line"
		printf 'set title "%s"\n' "$title"
		printf 'plot '
		sep=''
		for c in "${cols[@]}"; do
			printf '%s"%s" index %d using "%s":"%s" with linespoints lt %d title "%s"' \
				"$sep" "$data" "$i" "$x" "$c" "${LT[$c]:-8}" "$c"
			sep=', '
		done
		printf '\n'
		i=$((i + 1))
	done < <(awk -v x="$x" '
		/^# / { title = substr($0, 3); next }
		$1 == x { $1 = ""; print title "\t" substr($0, 2) }' "$DIR/$data")
}

# plot_multiplot NAME XCOL NCOLS NROWS TITLE SETTINGS: DIR/NAME.gp draws a
# panel (plot_panels) for each data block of DIR/NAME.dat, NCOLS by NROWS,
# under TITLE, with SETTINGS (gnuplot lines) before the panels; then
# gnuplot draws DIR/NAME.png.
plot_multiplot() {
	local name=$1 x=$2 ncols=$3 nrows=$4 title=$5 settings=$6
	{
		printf 'set terminal pngcairo noenhanced size %d,%d font ",10"\n' $((ncols * 520)) $((nrows * 420))
		printf 'set output "%s.png"\n' "$name"
		printf 'set datafile missing "?"\n'
		printf '%s' "$settings"
		printf 'set multiplot layout %d,%d title "%s (QEMU TCG: for ratios, not absolute time)"\n' "$nrows" "$ncols" "$title"
		printf 'set datafile columnheaders\n'
		plot_panels "$name.dat" "$x"
		printf 'unset multiplot\n'
	} >"$DIR/$name.gp"
	(cd "$DIR" && gnuplot "$name.gp")
}

# plot: cost per page against size, one panel per boot, a row per kernel;
# one series per contender.
plot() {
	local titles=() nk ns line
	while read -r line; do
		titles+=("$line")
	done < <(sed -n 's/^# //p' "$DIR/cost-per-page.dat")
	nk=$(printf '%s\n' "${titles[@]}" | cut -d' ' -f1 | sort -u | wc -l)
	ns=$(((${#titles[@]} + nk - 1) / nk))
	plot_multiplot cost-per-page pages "$ns" "$nk" "Cost per page against size" \
		"$(printf 'set logscale xy\nset grid\nset key top right font ",8"\n'
		printf 'set xlabel "pages per allocation"\nset ylabel "µs per page (median, steady)"\n'
		printf 'set xtics (1, 16, 64, 256, 4096)')
"
}

# plot_cpus: the cost of a 64-page pair against the vCPUs, one panel per
# kernel, up to three a row; x in powers of two, ticks at the counts
# measured.
plot_cpus() {
	local n cols rows tics lo hi
	n=$(grep -c '^# ' "$DIR/cost-vs-cpus.dat")
	cols=$((n < 3 ? n : 3))
	rows=$(((n + cols - 1) / cols))
	read -r tics lo hi < <(awk '$1 ~ /^[0-9]+$/ { print $1 }' "$DIR/cost-vs-cpus.dat" | sort -nu |
		awk '{ t = t (NR > 1 ? "," : "") $1; if (NR == 1) lo = $1; hi = $1 }
			END { printf "%s %.2f %.2f\n", t, lo / 1.5, hi * 1.5 }')
	plot_multiplot cost-vs-cpus cpus "$cols" "$rows" "Cost of a 64-page pair against vCPUs" \
		"$(printf 'set logscale x 2\nset logscale y\nset grid\nset key top left font ",8"\n'
		printf 'set xlabel "vCPUs"\nset ylabel "µs per 64-page pair (median, steady)"\n'
		printf 'set xtics (%s)\nset xrange [%s:%s]' "${tics//,/, }" "$lo" "$hi")
"
}

main() {
	local plot_only=0
	[[ ${1:-} == --plot-only ]] && { plot_only=1; shift; }
	(($# >= 1)) || nd_die "usage: bench-report.sh [--plot-only] DIR [KEY=VALUE...]"
	DIR=$1
	shift
	[[ -s $DIR/results.tsv ]] || nd_die "no $DIR/results.tsv"
	[[ -f $DIR/profile.tsv ]] || : >"$DIR/profile.tsv"
	if ((!plot_only)); then
		report_md "$@" >"$DIR/results.md.tmp"
		mv "$DIR/results.md.tmp" "$DIR/results.md"
	fi
	# The plots' data stays beside them, so that a test can hold the two
	# against the table (selftest/plot-check.sh).
	plot_data >"$DIR/cost-per-page.dat"
	plot
	# Against the vCPUs only with more than one count to compare; no stale
	# plot from an earlier run stays beside a table it does not show.
	cpus_data >"$DIR/cost-vs-cpus.dat"
	if [[ -s $DIR/cost-vs-cpus.dat ]]; then
		plot_cpus
	else
		rm -f "$DIR/cost-vs-cpus.dat" "$DIR/cost-vs-cpus.gp" "$DIR/cost-vs-cpus.png"
	fi
}

main "$@"
