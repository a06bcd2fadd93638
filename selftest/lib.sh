# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Shared helpers of the VM test harness: apt cache, module build, QEMU boot,
# and the judge that turns a boot's logs into counted test results.
# Source it from the other selftest/*.sh scripts; it does nothing on its own.

ND_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Downloads live outside the repo so that a fresh clone reuses them.
ND_CACHE=${ND_CACHE:-/var/cache/nodirect_alloc}
ND_LOGDIR=${ND_LOGDIR:-$ND_ROOT/build/logs}
ND_BOOT_TIMEOUT=${ND_BOOT_TIMEOUT:-300}
# One line per counted test: "PASS|FAIL|SKIP<TAB>name<TAB>detail".
ND_RESULTS=${ND_RESULTS:-$ND_LOGDIR/results.tsv}

# Console lines that mean the kernel is unhealthy, whatever the mode. The
# module's own "nodirect_alloc: " lines are not scanned: they may name these
# things, and the kernel prints its reports without that prefix.
ND_BAD_ALWAYS='WARNING:|general protection fault|soft lockup|hung_task|blocked for more than|self-detected stall|detected stalls|RCU stall|kernel BUG|UBSAN:|KFENCE:|KASAN:|page allocation failure|ODEBUG:|list_add corruption|list_del corruption'
# Lines that the crash mode provokes on purpose; fatal in every other mode
# (KFENCE and KASAN reports start with "BUG:" too).
ND_BAD_UNLESS_CRASH='BUG:|Oops|Kernel panic|Call Trace'

nd_log() { printf '%s\n' "$*" >&2; }
# shellcheck source=selftest/kernels.sh
. "$ND_ROOT/selftest/kernels.sh"
nd_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# --- apt -------------------------------------------------------------------

# Package lists older than this are refreshed before resolving a kernel:
# Debian drops superseded kernel .debs from its mirrors.
ND_APT_MAX_AGE_MIN=${ND_APT_MAX_AGE_MIN:-360}

# The Debian release of this machine: kernels of that release are fetched
# with its own apt and built with its own compiler; those of other releases
# through a private apt configuration and in a build root of their release
# (buildroot.sh).
ND_HOST_RELEASE=${ND_HOST_RELEASE:-$(. /etc/os-release && echo "${VERSION_CODENAME:-}")}

# Which apt the nd_apt_* helpers and nd_fetch_deb ask. Empty: the host's own.
# nd_apt_private fills it with the -o options of a private configuration for
# another release; the host's /etc/apt is never touched.
ND_APT_OPTS=()
ND_APT_NAME=host
ND_APT_STAMP=$ND_CACHE/apt-updated

# nd_host_mirror SUITE: the URL this machine's apt uses for SUITE/main.
nd_host_mirror() {
	apt-cache policy | awk -v s="$1/main" '$3 == s && $4 == "amd64" { print $2; exit }'
}

# nd_mirror [security]: the Debian mirror (or security mirror) this machine
# uses for its own release, to fetch the others from; deb.debian.org if it
# uses none.
nd_mirror() {
	local m
	if [[ ${1:-} == security ]]; then
		m=$(nd_host_mirror "$ND_HOST_RELEASE-security")
		echo "${m:-http://deb.debian.org/debian-security}"
	else
		m=$(nd_host_mirror "$ND_HOST_RELEASE")
		echo "${m:-http://deb.debian.org/debian}"
	fi
}

# nd_apt_host: back to the host's own apt.
nd_apt_host() {
	ND_APT_OPTS=()
	ND_APT_NAME=host
	ND_APT_STAMP=$ND_CACHE/apt-updated
}

# nd_apt_private SUITE: make the nd_apt_* helpers ask the apt that serves
# SUITE: the host's own for the host's release; otherwise a private
# configuration for SUITE's release (its main suite, updates, security
# updates and backports), kept in $ND_CACHE/apt-<release>/ with its own
# sources, lists, .deb cache and an empty dpkg status, packages signed by
# the keys of debian-archive-keyring. Backports are pinned at 100 by their
# Release file: for SUITE=*-backports they are made the default release, so
# the candidate of every package is the newest backport.
nd_apt_private() {
	local suite=$1 release dir main security
	release=$(nd_matrix_distro "$suite")
	if [[ $suite == "$ND_HOST_RELEASE" ]]; then
		nd_apt_host
		return
	fi
	dir=$ND_CACHE/apt-$release
	main=$(nd_mirror)
	security=$(nd_mirror security)
	mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial" "$dir/parts" "$dir/prefs"
	[[ -e $dir/status ]] || : >"$dir/status"
	local key=/usr/share/keyrings/debian-archive-keyring.gpg
	if [[ $release == sid ]]; then
		# Unstable, for the one tool trixie lacks (buildroot.sh).
		printf 'deb [signed-by=%s] %s %s main\n' "$key" "$main" sid >"$dir/sources.list.new"
	else
		printf 'deb [signed-by=%s] %s %s main\n' \
			"$key" "$main" "$release" "$key" "$main" "$release-updates" \
			"$key" "$main" "$release-backports" "$key" "$security" "$release-security" \
			>"$dir/sources.list.new"
	fi
	# A changed list (another mirror) makes the old lists stale.
	if ! cmp -s "$dir/sources.list.new" "$dir/sources.list"; then
		mv "$dir/sources.list.new" "$dir/sources.list"
		rm -f "$dir/apt-updated"
	else
		rm -f "$dir/sources.list.new"
	fi
	ND_APT_OPTS=(-o "Dir::Etc::sourcelist=$dir/sources.list" -o "Dir::Etc::sourceparts=$dir/parts"
		-o "Dir::Etc::preferences=$dir/prefs/none" -o "Dir::Etc::preferencesparts=$dir/prefs"
		-o "Dir::State::lists=$dir/lists" -o "Dir::State::status=$dir/status"
		-o "Dir::Cache=$dir/cache" -o "APT::Architectures::=amd64")
	[[ $suite == *-backports ]] && ND_APT_OPTS+=(-o "APT::Default-Release=$suite")
	ND_APT_NAME=$release
	ND_APT_STAMP=$dir/apt-updated
}

nd_apt_update() {
	[[ " ${ND_APT_UPDATED:-} " == *" $ND_APT_NAME "* ]] && return 0
	nd_log "apt-get update ($ND_APT_NAME)"
	apt-get "${ND_APT_OPTS[@]}" update -qq >&2 || { nd_log "apt-get update failed"; return 1; }
	mkdir -p "$ND_CACHE"
	touch "$ND_APT_STAMP"
	export ND_APT_UPDATED="${ND_APT_UPDATED:-} $ND_APT_NAME"
}

# Refresh the lists only when they are stale, so a warm run stays offline.
# If the refresh fails the old lists still name a kernel that may be cached.
nd_apt_update_if_stale() {
	if [[ -z $(find "$ND_APT_STAMP" -mmin "-$ND_APT_MAX_AGE_MIN" 2>/dev/null) ]]; then
		nd_apt_update || nd_log "going on with the package lists as they are"
	fi
}

nd_pkg_installed() {
	[[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == "install ok installed" ]]
}

# nd_apt_candidate PKG: the version apt would fetch now (empty if unknown).
nd_apt_candidate() {
	apt-cache "${ND_APT_OPTS[@]}" policy "$1" 2>/dev/null |
		awk '$1 == "Candidate:" && $2 != "(none)" { print $2 }'
}

# nd_apt_depends PKG REGEX: the first dependency of PKG's candidate whose
# name matches.
nd_apt_depends() {
	apt-cache "${ND_APT_OPTS[@]}" depends "$1" 2>/dev/null |
		awk -v re="$2" '$1 ~ /Depends:$/ && $2 ~ re { print $2; exit }'
}

# nd_fetch_deb PKG: print the path of the cached .deb of PKG's candidate
# version, downloading it only if that exact version is not cached yet.
nd_fetch_deb() {
	local pkg=$1 ver arch file tmp
	ver=$(nd_apt_candidate "$pkg")
	[[ -n $ver ]] || { nd_log "no candidate for $pkg"; return 1; }
	arch=$(apt-cache "${ND_APT_OPTS[@]}" show "$pkg=$ver" | sed -n 's/^Architecture: //p' | head -n1)
	file=$ND_CACHE/deb/${pkg}_${ver//:/%3a}_${arch}.deb
	if [[ ! -s $file ]]; then
		nd_log "downloading $pkg $ver"
		mkdir -p "$ND_CACHE/deb"
		tmp=$(mktemp -d "$ND_CACHE/deb/.dl.XXXXXX")
		# Sandbox user root: the cache is not readable by _apt.
		if ! (cd "$tmp" && apt-get "${ND_APT_OPTS[@]}" download -qq \
			-o APT::Sandbox::User=root "$pkg=$ver" >&2); then
			rm -rf "$tmp"
			return 1
		fi
		mv "$tmp"/*.deb "$file"
		rm -rf "$tmp"
	fi
	printf '%s\n' "$file"
}

# Serialize cache writers (two checks at once must not extract over each
# other). The lock is held until the calling process exits.
nd_cache_lock() {
	mkdir -p "$ND_CACHE"
	exec {ND_LOCK_FD}>"$ND_CACHE/lock"
	flock "$ND_LOCK_FD"
}

# --- results ---------------------------------------------------------------

nd_results_reset() {
	mkdir -p "$(dirname "$ND_RESULTS")"
	: >"$ND_RESULTS"
}

# nd_result PASS|FAIL|SKIP NAME [DETAIL]
nd_result() {
	local status=$1 name=$2 detail=${3:-}
	printf '%s\t%s\t%s\n' "$status" "$name" "$detail" >>"$ND_RESULTS"
	case $status in
	PASS) printf 'ok      %s\n' "$name" ;;
	SKIP) printf 'skip    %s%s\n' "$name" "${detail:+ # $detail}" ;;
	*) printf 'FAIL    %s%s\n' "$name" "${detail:+: $detail}" ;;
	esac
}

nd_count() { awk -F'\t' -v s="$1" '$1 == s { n++ } END { print n + 0 }' "$ND_RESULTS"; }

# Print the failures again, then the one closing line the CI reads.
nd_summary() {
	local pass fail skip
	pass=$(nd_count PASS)
	fail=$(nd_count FAIL)
	skip=$(nd_count SKIP)
	if ((fail)); then
		echo
		echo "Failures:"
		awk -F'\t' '$1 == "FAIL" { printf "  %s: %s\n", $2, $3 }' "$ND_RESULTS"
	fi
	echo
	echo "skipped: $skip (results: ${ND_RESULTS#"$ND_ROOT"/})"
	echo "$pass passed, $fail failed"
	((fail == 0))
}

# --- kernels and the module ------------------------------------------------

# nd_use_kernel NAME: fetch a kernel of the matrix (kernels.sh) and set
# ND_KNAME, ND_KREL, ND_KDIR, ND_VMLINUZ, ND_KCC (the compiler its headers
# were made with) from fetch-kernel.sh's KEY=VALUE output, and ND_BUILDROOT:
# empty for a kernel of the host's own release (the host's toolchain is
# the kernel's), else the Debian root of the kernel's release, made by
# buildroot.sh, that builds it.
nd_use_kernel() {
	local out key val distro=''
	# shellcheck disable=SC2034 # ND_KNAME: for the callers
	ND_KNAME='' ND_KREL='' ND_KDIR='' ND_VMLINUZ='' ND_KCC='' ND_BUILDROOT=''
	out=$(bash "$ND_ROOT/selftest/fetch-kernel.sh" "$1") || return 1
	while IFS='=' read -r key val; do
		case $key in
		ND_KNAME | ND_KREL | ND_KDIR | ND_VMLINUZ | ND_KCC) printf -v "$key" '%s' "$val" ;;
		ND_DISTRO) distro=$val ;;
		esac
	done <<<"$out"
	[[ -n $ND_KREL && -n $ND_KCC && -d $ND_KDIR && -f $ND_VMLINUZ ]] || return 1
	if [[ $distro != "$ND_HOST_RELEASE" ]]; then
		ND_BUILDROOT=$(bash "$ND_ROOT/selftest/buildroot.sh" "$distro") || return 1
	fi
}

# nd_chroot ROOT CMD...: run CMD inside the build root ROOT with /proc, /dev,
# the source tree and the kernel cache bind-mounted at their own paths, so
# every absolute path means the same inside and out. The mounts live in a
# mount namespace of their own: they vanish with CMD, whatever happens.
nd_chroot() {
	local root=$1
	shift
	# shellcheck disable=SC2016 # the inner bash expands them
	unshare --mount --propagation private -- bash -c '
		set -e
		r=$1 src=$2 cache=$3
		shift 3
		mount -t proc proc "$r/proc"
		mount --rbind /dev "$r/dev"
		for d in "$src" "$cache"; do
			mkdir -p "$r$d"
			mount --bind "$d" "$r$d"
		done
		exec chroot "$r" env LC_ALL=C PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
	' nd-chroot "$root" "$ND_ROOT" "$ND_CACHE/kernels" "$@"
}

# nd_kmake ARGS...: make for the kernel of nd_use_kernel, with the compiler
# its headers name (CC on the command line reaches kbuild's make too), in
# its build root if it has one: the host's gcc-12 never builds for a kernel
# made with another compiler.
nd_kmake() {
	local -a run=()
	[[ -n $ND_BUILDROOT ]] && run=(nd_chroot "$ND_BUILDROOT")
	if ! "${run[@]}" sh -c 'command -v "$1" >/dev/null' sh "$ND_KCC"; then
		echo "error: $ND_KCC, the compiler of $ND_KREL, is not installed${ND_BUILDROOT:+ in $ND_BUILDROOT}"
		return 1
	fi
	"${run[@]}" make -j"$(nproc)" CC="$ND_KCC" "$@"
}

# nd_build DIR LOG FLAGS: build nodirect_alloc.ko into DIR through the
# project's Makefile; all compiler output goes to LOG.
nd_build() {
	local dir=$1 log=$2 flags=$3
	mkdir -p "$(dirname "$log")"
	nd_kmake -C "$ND_ROOT" --no-print-directory module KDIR="$ND_KDIR" \
		BUILD="$dir" ND_KBUILD_FLAGS="$flags" >"$log" 2>&1
}

# Diagnostics in a build log: compiler/sparse "file:line:col: warning:" lines
# and modpost's "WARNING:" lines.
nd_diagnostics() {
	grep -Ei '(^|: )(warning|error):' "$1" || true
}

# nd_initramfs OUT MODULE [EXTRA...]: the guest image with /init, the module
# and the guest's own probes (static, so the busybox image needs no libc).
nd_initramfs() {
	local out=$1 ko=$2 tools=$ND_ROOT/build/guest
	shift 2
	mkdir -p "$tools"
	local tool
	for tool in kcore_read memhog snapshot_probe ram_scan; do
		gcc -static -O2 -Wall -Wextra -Werror -o "$tools/$tool" \
			"$ND_ROOT/selftest/$tool.c" || return
	done
	bash "$ND_ROOT/selftest/initramfs.sh" "$out" "$ND_ROOT/selftest/init.sh" \
		"$ko=/nodirect_alloc.ko" "$tools/kcore_read=/bin/kcore_read" \
		"$tools/memhog=/bin/memhog" "$tools/snapshot_probe=/bin/snapshot_probe" \
		"$tools/ram_scan=/bin/ram_scan" $(nd_dynamic_binary /usr/bin/stress-ng) "$@"
}

# nd_dynamic_binary PATH [GUEST_PATH]: PATH (at GUEST_PATH, or at the same
# path) and every shared library it loads (the loader included), as
# initramfs.sh specs at the same paths in the guest.
nd_dynamic_binary() {
	local lib
	printf '%s=%s\n' "$1" "${2:-$1}"
	for lib in $(ldd "$1" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
		printf '%s\n' "$(readlink -f "$lib")=$lib"
	done
}

# --- boots -----------------------------------------------------------------

# nd_boot_paths NAME: set ND_CONSOLE and ND_VERDICT, the boot's two logs.
nd_boot_paths() {
	local base=$ND_LOGDIR/${1//\//_}
	ND_CONSOLE=$base.console.log
	ND_VERDICT=$base.verdict.log
}

# nd_boot_run NAME MODE SMP MEM APPEND ND_ARGS: boot ND_VMLINUZ with
# ND_INITRD, logging to nd_boot_paths' files. Sets ND_QEMU_RC and returns it.
nd_boot_run() {
	local name=$1 mode=$2 smp=$3 mem=$4 append=$5 args=$6
	nd_boot_paths "$name"
	mkdir -p "$ND_LOGDIR"
	ND_QEMU_RC=0
	bash "$ND_ROOT/selftest/run-vm.sh" --kernel "$ND_VMLINUZ" --initrd "$ND_INITRD" \
		--mode "$mode" --smp "$smp" --mem "$mem" --append "$append" --args "$args" \
		--console "$ND_CONSOLE" --verdict "$ND_VERDICT" \
		--timeout "$ND_BOOT_TIMEOUT" || ND_QEMU_RC=$?
	return "$ND_QEMU_RC"
}

# Console text without carriage returns and printk timestamps.
nd_console_text() {
	sed -e 's/\r$//' -e 's/^\[ *[0-9]*\.[0-9]*\] //' "$1" 2>/dev/null || true
}

# nd_ktap CONSOLE: the top-level results of the module's first KTAP plan as
# "PASS|FAIL|SKIP<TAB>number name<TAB>detail". A failing selftest runs twice
# (busybox insmod retries init_module), so only the first plan is read.
# Ends with "PLAN<TAB>N<TAB>M": planned and seen result counts.
nd_ktap() {
	nd_console_text "$1" | awk '
	{
		i = index($0, "nodirect_alloc: ")
		if (!i)
			next
		s = substr($0, i + 16)
		if (s ~ /^KTAP version /) {
			if (++plans > 1)
				exit
			next
		}
		if (plans != 1)
			next
		if (s ~ /^1\.\.[0-9]+/) {
			planned = substr(s, 4) + 0
			next
		}
		if (s !~ /^(not )?ok [0-9]+/)
			next
		status = (s ~ /^not /) ? "FAIL" : "PASS"
		sub(/^(not )?ok /, "", s)
		detail = ""
		if (match(s, / *# */)) {
			detail = substr(s, RSTART + RLENGTH)
			s = substr(s, 1, RSTART - 1)
			# TODO marks an expected failure: neither pass nor fail.
			if (toupper(detail) ~ /^(SKIP|TODO)/)
				status = "SKIP"
		}
		seen++
		printf "%s\t%s\t%s\n", status, s, detail
	}
	END { printf "PLAN\t%d\t%d\n", planned, seen }'
}

# nd_hex64 ADDR: lower-case, no 0x, zero-padded to 16 digits.
nd_hex64() {
	local h=${1#0x}
	h=${h#0X}
	printf '%016s' "${h,,}" | tr ' ' 0
}

# nd_crash_reason CONSOLE MODE: empty if the console shows the module
# reading the hidden page through __va (crash), or writing through a sealed
# area's own address (crash-seal), and faulting on exactly that address,
# with the fault of that kind.
nd_crash_reason() {
	local text addr fault what kind
	text=$(nd_console_text "$1")
	what='reading hidden page through __va' kind='not-present page'
	[[ ${2:-crash} == crash-seal ]] && what='writing sealed area' kind='permissions violation'
	addr=$(sed -n "s/.*nodirect_alloc: crash: $what at \\(0[xX]\\)\\{0,1\\}\\([0-9a-fA-F]\\{1,16\\}\\).*/\\2/p" <<<"$text" | head -n1)
	[[ -n $addr ]] || { echo "no 'crash: $what' line"; return; }
	fault=$(sed -n 's/.*BUG: unable to handle page fault for address: \([0-9a-fA-F]*\).*/\1/p' <<<"$text" | head -n1)
	[[ -n $fault ]] || { echo "no page fault at $addr"; return; }
	[[ $(nd_hex64 "$addr") == "$(nd_hex64 "$fault")" ]] ||
		{ echo "faulted at $fault, expected $addr"; return; }
	grep -q "$kind" <<<"$text" || echo "fault at $fault is not a $kind fault"
}

# nd_drop_alloc_reports: stdin without the allocator's failure reports
# (from "page allocation failure" or "vmalloc error" to the end of the
# stack dump).
nd_drop_alloc_reports() {
	awk '/page allocation failure: order:|vmalloc error: size / { skip = 1 }
		!skip { print }
		skip && /<\/TASK>/ { skip = 0 }'
}

# nd_boot_reason NAME MODE: why the boot just run failed (empty: it passed).
nd_boot_reason() {
	local mode=$2 text bad verdict plan planned seen
	text=$(nd_console_text "$ND_CONSOLE")
	if ((ND_QEMU_RC == 124 || ND_QEMU_RC == 137)); then
		echo "hang (no exit within ${ND_BOOT_TIMEOUT}s)"
		return
	fi
	[[ -s $ND_CONSOLE ]] || { echo "empty console (qemu exit $ND_QEMU_RC)"; return; }
	bad=$ND_BAD_ALWAYS
	[[ $mode == crash* ]] || bad="$bad|$ND_BAD_UNLESS_CRASH"
	text=$(grep -v '^nodirect_alloc: ' <<<"$text" || true)
	# Injected faults make the allocator report failures, with a stack
	# dump (warn_alloc: no WARN, no taint): expected there, and only there.
	[[ $mode == faults ]] && text=$(nd_drop_alloc_reports <<<"$text")
	bad=$(grep -E -m1 "$bad" <<<"$text" || true)
	if [[ $mode == crash* && -z $bad ]]; then
		# Only the one fault we asked for may appear.
		bad=$(grep -E 'BUG:' <<<"$text" | grep -v -m1 'BUG: unable to handle page fault for address' || true)
	fi
	[[ -z $bad ]] || { echo "console: $bad"; return; }
	verdict=$(sed -n 's/\r$//; s/.*ND-VERDICT: //p' "$ND_VERDICT" 2>/dev/null | head -n1)
	if [[ $mode == crash* ]]; then
		[[ -z $verdict ]] || { echo "verdict: $verdict"; return; }
		nd_crash_reason "$ND_CONSOLE" "$mode"
		return
	fi
	[[ -n $verdict ]] || { echo "no verdict (qemu exit $ND_QEMU_RC)"; return; }
	[[ $verdict == PASS ]] || { echo "verdict: $verdict"; return; }
	plan=$(nd_ktap "$ND_CONSOLE" | awk -F'\t' '$1 == "PLAN" { print $2, $3 }')
	read -r planned seen <<<"$plan"
	if [[ $mode =~ ^(selftest|stress|faults|bench-smoke|hibernate)$ ]] && ((planned == 0)); then
		echo "no KTAP plan from the module"
	elif ((seen < planned)); then
		echo "KTAP plan 1..$planned but $seen results"
	fi
}

# nd_judge NAME MODE: record the module's KTAP results and the boot verdict.
nd_judge() {
	local name=$1 mode=$2 status test detail reason log
	log=${ND_CONSOLE#"$ND_ROOT"/}
	while IFS=$'\t' read -r status test detail; do
		[[ $status == PLAN ]] && continue
		[[ $status == FAIL ]] && detail="${detail:+$detail; }see $log"
		nd_result "$status" "$name: $test" "$detail"
	done < <(nd_ktap "$ND_CONSOLE")
	reason=$(nd_boot_reason "$name" "$mode")
	if [[ -z $reason ]]; then
		nd_result PASS "$name: boot verdict"
	else
		nd_result FAIL "$name: boot verdict" "$reason; see $log"
	fi
}

# nd_boot NAME MODE SMP MEM APPEND ND_ARGS: boot, then judge and count.
# A kernel that dies before it runs /init never met the module: under
# multi-threaded TCG a boot-time text_poke() now and then trips an int3 on
# another vCPU ("Oops: int3" in sched_clock_cpu).  Such a boot is run once
# more, and the first console is kept beside the second.
nd_boot() {
	local name=$1 mode=$2 start
	start=$SECONDS
	nd_log "booting $name"
	nd_boot_run "$@" || true
	if ! grep -q 'Run /init as init process' "$ND_CONSOLE"; then
		mv "$ND_CONSOLE" "$ND_CONSOLE.before-init"
		# (The cmdline says "panic=" too: not a reason.)
		nd_log "  kernel died before /init ($(nd_console_text "$ND_CONSOLE.before-init" |
			grep -v -i 'command line:' | grep -m1 -E 'Oops|BUG|panic' || echo 'no message')); booting again"
		nd_boot_run "$@" || true
	fi
	nd_judge "$name" "$mode"
	nd_log "  ($((SECONDS - start)) s)"
}
