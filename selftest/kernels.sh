# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# The kernel matrix: every kernel the project is proven on, in one table.
# Sourced by lib.sh. Versions are never written here: each row names the
# Debian metapackage that depends on the current image, and apt resolves it
# at run time (old .debs vanish from the mirrors after each update).
#
#   name       what ND_KERNELS, ND_KERNEL and ND_BENCH_KERNELS take
#   suite      bookworm: the host's own apt and toolchain (gcc-12);
#              trixie, trixie-backports: the private apt configuration
#              (nd_apt_private) and the trixie build root (gcc-14)
#   meta       the metapackage whose linux-image-* dependency is the kernel
#   boots      which of check.sh's boots it gets: "all", or a list of tags
#   append     kernel command line of its every boot (commas for spaces),
#              "-" for none
#
# A row whose meta is "linux-source" is not taken from a .deb: the newest
# linux-source-X.Y of its suite is built with the checkers of
# debug.config (debug-kernel.sh), and booted with them switched on.
#
# Every kernel gets the builds (W=1, sparse) and the "core" boots
# (selftest, hazards, stress: check.sh's BOOTS). The other boots are
# spread so that each runs on the oldest kernel (6.1) and on the newest
# code (trixie-backports' kernel, or the debug kernel built from the same
# source), within the time make check may take (see the README). A row
# whose source another row boots in full gets fewer: Debian 12's 6.12 is
# the 6.12 of trixie, built with gcc-12 (its builds are what it adds);
# cloud is trixie-backports' source, and leaves the kernel-image boots
# ("kimage": snapshot and kexec) to it and to the debug kernel.
# The debug row's checkers that are off unless the command line asks:
# DEBUG_PAGEALLOC, KASAN's panic on a report (panic_on_warn does not cover
# it), KFENCE guarding an object every 10 ms instead of every 100, poison
# on free. And no5lvl: 7.3's identify_cpu() clears the boot CPU's feature
# bits and fills them again, LA57 among them, so an interrupt in between
# makes KASAN misjudge a direct-map address ("wild-memory-access in
# do_raw_spin_lock", before /init, in 4 of 14 boots under TCG). The
# stock kernels keep 5-level paging.
ND_DEBUG_APPEND=debug_pagealloc=on,kasan.fault=panic,kfence.sample_interval=10,page_poison=1,no5lvl

ND_MATRIX=(
	"6.1               bookworm          linux-image-amd64       all        -"
	"6.12              bookworm          linux-image-6.12-amd64  core       -"
	"trixie            trixie            linux-image-amd64       base,kimage,numa2 -"
	"trixie-bpo        trixie-backports  linux-image-amd64       base,kimage,numa2,pti5g,nopti,crash,trace -"
	"trixie-bpo-rt     trixie-backports  linux-image-rt-amd64    base,kimage,nopool -"
	"trixie-bpo-cloud  trixie-backports  linux-image-cloud-amd64 base       -"
	"debug             trixie-backports  linux-source            base,kimage,numa2,pti5g,nopool,pool,bench,consumer,faults $ND_DEBUG_APPEND"
)

# nd_matrix_names: every name, in the table's order.
nd_matrix_names() {
	local row name
	for row in "${ND_MATRIX[@]}"; do
		read -r name _ <<<"$row"
		printf '%s\n' "$name"
	done
}

# nd_matrix_row NAME: set ND_K_NAME, ND_K_SUITE, ND_K_META, ND_K_BOOTS and
# ND_K_APPEND (spaces, empty for none) from NAME's row; fails for a name
# that is not in the table.
nd_matrix_row() {
	local row name suite meta boots append
	for row in "${ND_MATRIX[@]}"; do
		read -r name suite meta boots append <<<"$row"
		[[ $name == "$1" ]] || continue
		[[ $append == - ]] && append=
		# shellcheck disable=SC2034 # read by the callers
		ND_K_NAME=$name ND_K_SUITE=$suite ND_K_META=$meta ND_K_BOOTS=$boots
		# shellcheck disable=SC2034 # read by the callers
		ND_K_APPEND=${append//,/ }
		return 0
	done
	nd_log "unknown kernel '$1' (the matrix has: $(nd_matrix_names | tr '\n' ' '))"
	return 1
}

# nd_matrix_distro SUITE: the Debian release a suite belongs to, which
# decides the apt configuration and the toolchain.
nd_matrix_distro() {
	case $1 in
	bookworm*) echo bookworm ;;
	trixie*) echo trixie ;;
	sid) echo sid ;;
	*) nd_die "no distro for suite '$1'" ;;
	esac
}
