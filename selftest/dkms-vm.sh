#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# dkms-vm.sh [--alone] [bookworm|trixie]: a DKMS tier of make check, on a
# real Debian system: Debian 12 (bookworm, the default) with its 6.1
# kernel, or Debian 13 (trixie) with trixie-backports' newest kernel and
# headers (installed from backports, as a user would with -t).
#
# A debootstrap root of the release with that kernel, its headers and dkms
# installed (built once, then cached as a disk image in
# $ND_CACHE/dkms-vm-RELEASE/, keyed by the kernel version and this recipe)
# boots from that disk under QEMU TCG twice. A systemd unit in it runs
# dkms-guest.sh from a second, read-only disk that carries the package and
# the sample consumer:
#   boot 1: apt install of the .deb, DKMS build with the VM's own compiler,
#           modprobe selftest=1, then the consumer loaded by modprobe, used
#           and unloaded;
#   boot 2: the module is still installed after the reboot and passes its
#           selftest; apt purge unloads it and leaves no module behind.
# Each ND-CHECK line of the guest, each KTAP result and each boot verdict is
# one test, counted through lib.sh into ND_RESULTS.
set -euo pipefail
# shellcheck source=selftest/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# A boot that installs the package compiles every object in the guest
# under TCG when its ccache disk is new: 1032 s for bookworm's on a cold
# run at a8c67be, and over 1200 s (killed in depmod) on one with other
# VMs beside it. A hang costs this much of CI's 90 minutes, once.
ND_DKMS_TIMEOUT=${ND_DKMS_TIMEOUT:-1800}

# secureboot.sh sources this file for its Secure Boot tier and sets these
# first: the tier's kind (in its name and its build and cache directories),
# its boots, the packages its root needs besides these, and its directory
# in each hook below (boot_args, finish_image, RECIPE_EXTRA).
KIND=${KIND:-dkms}
[[ -v PHASES ]] || PHASES=(install reboot)
[[ -v EXTRA_PKGS ]] || EXTRA_PKGS=()
# The guest's kernel command line, but for its nd.phase.
CMDLINE='root=/dev/vda rw console=ttyS0 loglevel=4 panic=-1 oops=panic panic_on_warn=1 softlockup_panic=1 init_on_free=1'

# vm_setup RELEASE: everything that differs between the two VMs.
#   KERNEL     the matrix row (kernels.sh) whose kernel the VM runs: the
#              host builds the consumer against its headers
#   KSUITE     the suite the VM installs that kernel from
#   ROOT_PKGS  what the root needs besides debootstrap's minbase: an init,
#              the kernel and headers the test is about, and dkms (which
#              brings gcc and make); openssl lets trixie's dkms make its
#              signing key (/var/lib/dkms/mok.key) and sign the module;
#              ccache for the in-guest build (see ccache_disk)
vm_setup() {
	SUITE=$1
	case $SUITE in
	bookworm)
		KERNEL=6.1 KSUITE=bookworm
		ROOT_PKGS=(systemd-sysv udev kmod initramfs-tools dkms)
		;;
	trixie)
		KERNEL=trixie-bpo KSUITE=trixie-backports
		ROOT_PKGS=(systemd-sysv udev kmod initramfs-tools dkms openssl)
		;;
	*) nd_die "no DKMS VM for '$SUITE' (bookworm or trixie)" ;;
	esac
	ROOT_PKGS+=(ccache "${EXTRA_PKGS[@]}")
	nd_matrix_row "$KERNEL" || exit 1
	WORK=$ND_ROOT/build/$KIND-vm-$SUITE
	CACHE_DIR=$ND_CACHE/$KIND-vm-$SUITE
	CCACHE_IMG=$CACHE_DIR-ccache.img
}

# mirror SUITE: the URL this machine's apt uses for SUITE/main, so the root
# sees the package versions the host resolves; for a release it has no
# sources for, the mirror it uses for its own.
mirror() {
	local m
	m=$(nd_host_mirror "$1")
	if [[ -z $m ]]; then
		[[ $1 == *-security ]] && m=$(nd_mirror security) || m=$(nd_mirror)
	fi
	echo "$m"
}

# The unit that runs the test at boot, when the cmdline names a phase.
UNIT='[Unit]
Description=nodirect_alloc DKMS test
ConditionKernelCommandLine=nd.phase
Requires=dev-vdb.device
After=dev-vdb.device local-fs.target

[Service]
Type=oneshot
ExecStart=/bin/sh -c "mount -o ro /dev/vdb /mnt/nd && exec bash /mnt/nd/dkms-guest.sh"
StandardOutput=journal+console
StandardError=journal+console

[Install]
WantedBy=multi-user.target'

# in_root ROOT CMD...: run CMD in the chroot with /proc and /sys mounted
# (kernel and dkms maintainer scripts read them); never starts daemons.
in_root() {
	local root=$1 rc=0
	shift
	mount -t proc proc "$root/proc"
	mount -t sysfs sysfs "$root/sys"
	DEBIAN_FRONTEND=noninteractive LC_ALL=C chroot "$root" "$@" || rc=$?
	umount "$root/sys" "$root/proc"
	return "$rc"
}

# build_root ROOT: the release with the kernel from the suite of the
# matrix row: for bookworm its main suite or its security updates,
# whichever is newer (as on the host); for trixie its backports.
build_root() {
	local root=$1 main security unit mod mods=()
	main=$(mirror "$SUITE")
	security=$(mirror "$SUITE-security")
	[[ -n $main && -n $security ]] || nd_die "no $SUITE mirror in this machine's apt sources"
	nd_log "debootstrap $SUITE from $main"
	debootstrap --variant=minbase --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
		"$SUITE" "$root" "$main" >&2
	printf 'deb %s %s main\n' "$main" "$SUITE" "$main" "$SUITE-updates" \
		"$security" "$SUITE-security" >"$root/etc/apt/sources.list"
	[[ $KSUITE == *-backports ]] && printf 'deb %s %s main\n' "$main" "$KSUITE" >>"$root/etc/apt/sources.list"
	printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
	chmod 755 "$root/usr/sbin/policy-rc.d"
	nd_log "installing ${ROOT_PKGS[*]} and $KSUITE's linux-image-amd64 linux-headers-amd64 in the root"
	in_root "$root" apt-get update -qq >&2
	in_root "$root" apt-get install -y -q --no-install-recommends "${ROOT_PKGS[@]}" >&2
	# -t for backports: they are pinned at 100, and the kernel's own
	# packages depend on exact versions that only the backports suite has.
	local -a target=()
	[[ $KSUITE == *-backports ]] && target=(-t "$KSUITE")
	in_root "$root" apt-get install -y -q --no-install-recommends "${target[@]}" \
		linux-image-amd64 linux-headers-amd64 >&2
	in_root "$root" apt-get clean
	rm -f "$root/usr/sbin/policy-rc.d"
	echo nd-dkms-vm >"$root/etc/hostname"
	echo '/dev/vda / ext4 defaults 0 1' >"$root/etc/fstab"
	mkdir -p "$root/mnt/nd" "$root/etc/systemd/system/multi-user.target.wants"
	printf '%s\n' "$UNIT" >"$root/etc/systemd/system/nd-test.service"
	ln -sf ../nd-test.service "$root/etc/systemd/system/multi-user.target.wants/nd-test.service"
	# Timers that would take the dpkg lock or the disk in the middle of
	# the test.
	ln -sf /dev/null "$root/etc/systemd/system/apt-daily.timer"
	ln -sf /dev/null "$root/etc/systemd/system/apt-daily-upgrade.timer"
	ln -sf /dev/null "$root/etc/systemd/system/e2scrub_all.timer"
	# Under TCG every unit costs seconds: no logins (a serial getty would
	# also write its prompt into the console log), no ext4 or trim jobs.
	for unit in getty.target e2scrub_reap.service fstrim.timer dpkg-db-backup.timer \
		systemd-tmpfiles-clean.timer; do
		ln -sf /dev/null "$root/etc/systemd/system/$unit"
	done
	# A small initrd: the kernel unpacks it and udev loads its modules at
	# TCG speed, and the VM needs only its virtio disk and ext4 (those of
	# them the kernel has as modules: 7.x builds virtio_pci in and has no
	# crc32c_generic).
	for mod in virtio_pci virtio_blk ext4 crc32c_generic; do
		# shellcheck disable=SC2016 # expanded in the root
		in_root "$root" sh -c 'modinfo -k "$(ls /lib/modules)" "$1"' sh "$mod" >/dev/null 2>&1 &&
			mods+=("$mod")
	done
	printf '%s\n' "${mods[@]}" >>"$root/etc/initramfs-tools/modules"
	echo MODULES=list >"$root/etc/initramfs-tools/conf.d/nd-dkms-vm.conf"
	in_root "$root" update-initramfs -u >&2
}

# recipe_hash: changes whenever the way the root is made changes.
recipe_hash() {
	{
		declare -f mirror in_root build_root make_image
		printf '%s\n' "$SUITE" "$KSUITE" "${ROOT_PKGS[@]}" "$UNIT" "$(mirror "$SUITE")" \
			"$(mirror "$SUITE-security")"
		# (Nothing for the DKMS tiers: their hash stays as it was.)
		[[ -z ${RECIPE_EXTRA:-} ]] || printf '%s\n' "$RECIPE_EXTRA"
	} | sha256sum | cut -c1-12
}

# make_image ROOT DIR: the ext4 disk image, made without mounting it, and
# the kernel and initrd to boot it with (7.x keeps its vmlinuz in
# /usr/lib/modules/KREL/, older kernels in /boot).
make_image() {
	local root=$1 dir=$2 krel
	krel=$(basename "$(ls -d "$root"/lib/modules/*/)")
	if [[ -f $root/boot/vmlinuz-$krel ]]; then
		cp "$root/boot/vmlinuz-$krel" "$dir/vmlinuz"
	else
		cp "$root/lib/modules/$krel/vmlinuz" "$dir/vmlinuz"
	fi
	cp "$root/boot/initrd.img-$krel" "$dir/initrd.img"
	echo "$krel" >"$dir/krel"
	nd_log "making the disk image"
	mkfs.ext4 -q -F -L ndroot -d "$root" "$dir/root.img" 4G >&2
}

# cached_root: print the directory of the cached image of the current
# kernel, building it first if needed. The key is the version apt resolves for
# the kernel now, so a new kernel on the mirror builds a new root.
cached_root() {
	local image ver key tmp lock
	# A lock of its own: building the root takes minutes, and the kernel
	# and checkpatch caches (nd_cache_lock) need not wait for it.
	mkdir -p "$CACHE_DIR"
	exec {lock}>"$CACHE_DIR.lock"
	flock "$lock"
	nd_apt_private "$KSUITE"
	nd_apt_update_if_stale
	image=$(nd_apt_depends "$ND_K_META" '^linux-image-')
	ver=$(nd_apt_candidate "$image")
	[[ -n $image && -n $ver ]] || nd_die "cannot resolve the $KERNEL kernel"
	key=${image#linux-image-}_${ver}_$(recipe_hash)
	IMAGE_DIR=$CACHE_DIR/$key
	[[ -e $IMAGE_DIR/.complete ]] && { echo "$IMAGE_DIR"; return; }
	nd_log "building the Debian root for $key (once; several minutes)"
	tmp=$(mktemp -d "$CACHE_DIR/.build.XXXXXX")
	# shellcheck disable=SC2064 # expand now: tmp is local
	trap "umount -q '$tmp/root/sys' '$tmp/root/proc' 2>/dev/null; rm -rf '$tmp'" EXIT
	mkdir "$tmp/out"
	build_root "$tmp/root"
	make_image "$tmp/root" "$tmp/out"
	! declare -F finish_image >/dev/null || finish_image "$tmp/root" "$tmp/out"
	rm -rf "$IMAGE_DIR"
	mv "$tmp/out" "$IMAGE_DIR"
	touch "$IMAGE_DIR/.complete"
	rm -rf "$tmp"
	trap - EXIT
	# Only the current kernel's root is ever used again.
	find "$CACHE_DIR" -mindepth 1 -maxdepth 1 ! -path "$IMAGE_DIR" -exec rm -rf {} +
	echo "$IMAGE_DIR"
}

# --- the test --------------------------------------------------------------

# host_builds: the package, and the consumer built against the Module.symvers
# of a nodirect_alloc build for the VM's kernel. Sets DEB and KEYSTORE_KO
# (empty if the consumer does not build). Fails only without a package.
host_builds() {
	local log=$ND_LOGDIR/$KIND-$SUITE-deb.log diags lock ok=0
	# check.sh may run two tiers at once, and make deb starts by removing
	# build/deb: one at a time, each tier with its own copy.
	mkdir -p "$ND_ROOT/build" "$WORK"
	exec {lock}>"$ND_ROOT/build/.deb.lock"
	flock "$lock"
	if make -C "$ND_ROOT" --no-print-directory deb >"$log" 2>&1; then
		rm -f "$WORK"/nodirect-alloc-dkms_*_all.deb
		cp "$ND_ROOT"/build/deb/nodirect-alloc-dkms_*_all.deb "$WORK/" && ok=1
	fi
	exec {lock}>&-
	if ((ok)); then
		DEB=$(ls "$WORK"/nodirect-alloc-dkms_*_all.deb)
		nd_result PASS "$TIER: make deb builds $(basename "$DEB")"
	else
		nd_result FAIL "$TIER: make deb builds the package" "see ${log#"$ND_ROOT"/}"
		return 1
	fi
	log=$ND_LOGDIR/$KIND-$SUITE-consumer.log
	rm -rf "$WORK/consumer"
	mkdir -p "$WORK"
	cp -r "$ND_ROOT/selftest/consumer" "$WORK/consumer"
	if ! nd_build "$WORK/module" "$ND_LOGDIR/$KIND-$SUITE-module.log" "" ||
		! nd_kmake -C "$WORK/consumer" --no-print-directory KDIR="$ND_KDIR" \
			ND_SYMVERS="$WORK/module/Module.symvers" ND_INCLUDE="$ND_ROOT" \
			ND_KBUILD_FLAGS="W=1 C=1" >"$log" 2>&1; then
		# The package is still tested: the guest's consumer checks
		# fail for want of the module, and count.
		nd_result FAIL "$TIER: consumer builds W=1 and sparse clean" \
			"$(grep -m1 -E 'error|Error' "$log" || true); see ${log#"$ND_ROOT"/}"
		KEYSTORE_KO=''
		return 0
	fi
	KEYSTORE_KO=$WORK/consumer/nd_keystore.ko
	diags=$(nd_diagnostics "$log")
	if [[ -n $diags ]]; then
		nd_result FAIL "$TIER: consumer builds W=1 and sparse clean" "first: $(head -n1 <<<"$diags")"
	elif [[ $(modinfo -F depends "$KEYSTORE_KO") != nodirect_alloc ]]; then
		nd_result FAIL "$TIER: consumer builds W=1 and sparse clean" "does not depend on nodirect_alloc"
	else
		nd_result PASS "$TIER: consumer builds W=1 and sparse clean"
	fi
}

# data_disk: the second disk: package, consumer and the guest script, and
# what the cached image keeps for the guest in guest/ (secureboot.sh's keys).
data_disk() {
	rm -rf "$WORK/data" "$WORK/data.img"
	mkdir -p "$WORK/data"
	cp "$DEB" ${KEYSTORE_KO:+"$KEYSTORE_KO"} "$ND_ROOT/selftest/dkms-guest.sh" "$WORK/data/"
	[[ ! -d $IMAGE_DIR/guest ]] || cp "$IMAGE_DIR"/guest/* "$WORK/data/"
	truncate -s 32M "$WORK/data.img"
	mkfs.ext4 -q -F -L nddata -d "$WORK/data" "$WORK/data.img" 32M >&2
}

# ccache_disk: the third disk, the in-guest compiler's ccache (labelled
# ndccache; dkms-guest.sh builds through Debian's DEBIAN_KERNEL_USE_CCACHE
# when it finds it), kept in $ND_CACHE across runs and kernel updates:
# under TCG the DKMS build of every object was most of a tier's time, and
# ccache hands back the objects the same compiler made of the same input.
# Sets CCACHE_ARGS; held under a lock of its own until the tier ends.
# ND_DKMS_CCACHE=0: no such disk, every object compiled in the guest.
ccache_disk() {
	local lock rc=0
	CCACHE_ARGS=()
	[[ ${ND_DKMS_CCACHE:-1} != 0 ]] || return 0
	exec {lock}>"$CCACHE_IMG.lock"
	flock "$lock"
	# A guest stopped while it wrote leaves what e2fsck -p repairs (exit
	# 1 or 2); anything worse, and the cache starts empty again.
	[[ -s $CCACHE_IMG ]] && { e2fsck -p "$CCACHE_IMG" >/dev/null 2>&1 || rc=$?; }
	if ((rc >= 4)); then
		nd_log "  the in-guest ccache disk was damaged (e2fsck: $rc): a new one"
		rm -f "$CCACHE_IMG"
	fi
	if [[ ! -s $CCACHE_IMG ]]; then
		truncate -s 2G "$CCACHE_IMG.tmp"
		mkfs.ext4 -q -F -L ndccache "$CCACHE_IMG.tmp" >&2
		mv "$CCACHE_IMG.tmp" "$CCACHE_IMG"
	fi
	CCACHE_ARGS=(-drive "file=$CCACHE_IMG,format=raw,if=virtio")
}

# boot_args PHASE: how QEMU starts the guest (BOOT_ARGS, after its
# disks): here the kernel directly; secureboot.sh's firmware instead.
boot_args() {
	BOOT_ARGS=(-kernel "$IMAGE_DIR/vmlinuz" -initrd "$IMAGE_DIR/initrd.img"
		-append "$CMDLINE nd.phase=$1")
}

# dkms_boot PHASE: one boot of the VM disk. Sets the nd_boot_paths logs and
# ND_QEMU_RC, as lib.sh's judges expect.
dkms_boot() {
	local phase=$1 pid waited=0
	# shellcheck disable=SC2034 # read by lib.sh's nd_boot_reason
	ND_QEMU_RC=0
	rm -f "$ND_CONSOLE" "$ND_VERDICT"
	boot_args "$phase"
	timeout --kill-after=10 "$ND_BOOT_TIMEOUT" \
		qemu-system-x86_64 -accel tcg,thread=multi -cpu max -smp 2 -m 2G \
		-nodefaults -display none -no-reboot \
		-drive "file=$WORK/root.img,format=raw,if=virtio,cache=unsafe" \
		-drive "file=$WORK/data.img,format=raw,if=virtio,readonly=on" \
		"${CCACHE_ARGS[@]}" "${BOOT_ARGS[@]}" \
		-serial "file:$ND_CONSOLE" -serial "file:$ND_VERDICT" </dev/null &
	pid=$!
	# Once a 7.3 guest hung before its initramfs said a word, which would
	# hold the whole timeout (20 minutes): a kernel that has not reached
	# its initramfs after ND_DKMS_EARLY seconds (it takes 10 to 30) is
	# stopped, and boot_and_judge boots it again.
	while ((waited < ${ND_DKMS_EARLY:-240})) && kill -0 "$pid" 2>/dev/null; do
		grep -q -e 'Run /init as init process' -e 'Loading, please wait' "$ND_CONSOLE" 2>/dev/null &&
			break
		sleep 5
		waited=$((waited + 5))
	done
	if ((waited >= ${ND_DKMS_EARLY:-240})); then
		nd_log "  no initramfs after ${waited}s: stopping the guest"
		kill "$pid" 2>/dev/null || true
	else
		nd_log "  initramfs after about ${waited} s"
	fi
	wait "$pid" || ND_QEMU_RC=$?
}

# boot_and_judge PHASE: boot (again once if the kernel died before its
# initramfs ran: see nd_boot), then count the guest's checks, the module's
# KTAP results and the boot verdict.
boot_and_judge() {
	local phase=$1 name=$TIER/$1 start=$SECONDS status test
	nd_boot_paths "$name"
	nd_log "booting $name"
	dkms_boot "$phase"
	# loglevel=4 hides the kernel's "Run /init" until the guest dumps its
	# log at the end; the initramfs says it ran on the console at once.
	if ! grep -q -e 'Run /init as init process' -e 'Loading, please wait' "$ND_CONSOLE"; then
		mv "$ND_CONSOLE" "$ND_CONSOLE.before-init"
		nd_log "  kernel died before /init; booting again"
		dkms_boot "$phase"
	fi
	while read -r status test; do
		case $status in
		PASS) nd_result PASS "$name: $test" ;;
		FAIL) nd_result FAIL "$name: ${test%%: *}" "${test#*: }; see ${ND_CONSOLE#"$ND_ROOT"/}" ;;
		esac
	done < <(sed -n 's/\r$//; s/^ND-CHECK: //p' "$ND_VERDICT" 2>/dev/null)
	nd_judge "$name" selftest
	sed -n 's/\r$//; s/^ND-CCACHE: /  in-guest ccache: /p' "$ND_CONSOLE" >&2
	nd_log "  ($((SECONDS - start)) s)"
}

# not_run REASON: count the boots as failed, so a broken step never makes
# the total smaller.
not_run() {
	local phase
	for phase in "${PHASES[@]}"; do
		nd_result FAIL "$TIER/$phase: boot verdict" "not run: $1"
	done
}

main() {
	local start=$SECONDS alone=0 krel phase
	[[ ${1:-} == --alone ]] && { alone=1; shift; }
	vm_setup "${1:-bookworm}"
	ND_BOOT_TIMEOUT=${ND_DKMS_TIMEOUT}
	((alone)) && { bash "$ND_ROOT/selftest/deps.sh"; nd_results_reset; }
	mkdir -p "$ND_LOGDIR"
	nd_log "== $KIND: DKMS on a Debian $SUITE VM ($KERNEL)"
	# Before cached_root: fetch-kernel.sh takes the cache lock itself.
	if ! nd_use_kernel "$KERNEL"; then
		TIER=$KERNEL/$KIND-$SUITE
		not_run "cannot fetch the $KERNEL kernel"
	elif TIER=$ND_KREL/$KIND-$SUITE && ! host_builds; then
		not_run "host builds failed"
	elif ! IMAGE_DIR=$(cached_root 2>"$ND_LOGDIR/$KIND-$SUITE-root.log"); then
		not_run "cannot build the Debian root; see ${ND_LOGDIR#"$ND_ROOT"/}/$KIND-$SUITE-root.log"
	else
		krel=$(cat "$IMAGE_DIR/krel")
		if [[ $krel != "$ND_KREL" ]]; then
			not_run "the root has $krel, the headers are $ND_KREL"
		else
			data_disk
			ccache_disk
			# The boots use one copy of the cached disk: each after the
			# first is the one before's reboot.
			cp --sparse=always "$IMAGE_DIR/root.img" "$WORK/root.img"
			for phase in "${PHASES[@]}"; do
				boot_and_judge "$phase"
			done
			rm -f "$WORK/root.img"
		fi
	fi
	nd_log "$KIND tier took $((SECONDS - start)) s"
	if ((alone)); then
		nd_summary
	fi
}

# Sourced by secureboot.sh, it runs nothing.
[[ ${BASH_SOURCE[0]} != "$0" ]] || main "$@"
