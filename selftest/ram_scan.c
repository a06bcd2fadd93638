// SPDX-License-Identifier: GPL-2.0
/*
 * ram_scan: the two halves of the kexec boot (selftest/init.sh).
 *
 *   ram_scan hold SEED    keep the marker of SEED in 4096 pages of this
 *                         process's memory until killed (the control:
 *                         nobody wipes it)
 *   ram_scan scan SEED... count each SEED's marker in all of RAM, read
 *                         through /proc/kcore's segments that have a
 *                         physical address; prints "SEED HITS" per seed
 *   ram_scan kexec KERNEL INITRD CMDLINE
 *                         kexec_file_load() and reboot into it, as
 *                         "kexec -s -l" and "kexec -e" would (kexec-tools
 *                         needs libraries the guest does not have)
 *
 * A marker is 16 words derived from its seed, as selftest/demo.c's hold
 * writes into its live allocation. The scanner keeps them inverted: its
 * own memory is RAM too. Exit: 0 scanned, 2 the scan itself failed.
 */
#include <fcntl.h>
#include <linux/elf.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/reboot.h>
#include <sys/mman.h>
#include <sys/reboot.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MARKER_WORDS	16
#define MAX_SEEDS	4
#define CHUNK		(4 * 1024 * 1024)

static void marker_of(unsigned int seed, unsigned int *m, unsigned int flip)
{
	unsigned int i;

	for (i = 0; i < MARKER_WORDS; i++)
		m[i] = ((seed + i) * 2654435761u ^ 0x5a5aa5a5u) ^ flip;
}

/*
 * The next kernel's boot overwrites some of the old RAM (where its own
 * image, initramfs and first allocations land): one page of control could
 * be among it. Many pages cannot all be, unless they lie together: the
 * allocator may hand out a 4 MiB mapping as one physical run (in huge
 * pages, or from one free block), and a randomly placed kernel (KASLR,
 * which init.sh turns off for the scan) once covered all 1024 of them on
 * the cloud kernel. So 16 MiB, in base pages.
 */
#define HOLD_PAGES	4096

static int hold(unsigned int seed)
{
	size_t len = HOLD_PAGES * 4096UL, i;
	unsigned int *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED)
		return 2;
	madvise(m, len, MADV_NOHUGEPAGE);
	for (i = 0; i < HOLD_PAGES; i++)
		marker_of(seed, m + i * 1024 + 512, 0);
	mlock(m, len);
	printf("ram_scan: holding the marker of %08x\n", seed);
	fflush(stdout);
	for (;;)
		pause();
}

/* Whether the 16 words at @w are the marker kept inverted in @inv. */
static int is_marker(const unsigned int *w, const unsigned int *inv)
{
	unsigned int i;

	for (i = 0; i < MARKER_WORDS; i++)
		if ((w[i] ^ inv[i]) != ~0u)
			return 0;
	return 1;
}

static int scan(int nr, unsigned int *seeds)
{
	static unsigned int inv[MAX_SEEDS][MARKER_WORDS];
	unsigned long long done, len, segs = 0, bytes = 0;
	static unsigned int buf[CHUNK / 4 + MARKER_WORDS];
	long hits[MAX_SEEDS] = { 0 };
	struct elf64_hdr eh;
	struct elf64_phdr ph;
	int fd, i, s;
	size_t w, n;

	for (s = 0; s < nr; s++)
		marker_of(seeds[s], inv[s], ~0u);
	fd = open("/proc/kcore", O_RDONLY);
	if (fd < 0 || pread(fd, &eh, sizeof(eh), 0) != sizeof(eh)) {
		perror("/proc/kcore");
		return 2;
	}
	for (i = 0; i < eh.e_phnum; i++) {
		if (pread(fd, &ph, sizeof(ph), eh.e_phoff + i * sizeof(ph)) != sizeof(ph))
			return 2;
		if (ph.p_type != PT_LOAD || ph.p_paddr == ~0ULL)
			continue;
		segs++;
		/* Words are read in chunks; a marker across two is missed. */
		for (done = 0; done < ph.p_filesz; done += len) {
			len = ph.p_filesz - done < CHUNK ? ph.p_filesz - done : CHUNK;
			if (pread(fd, buf, len, ph.p_offset + done) != (ssize_t)len)
				break;
			bytes += len;
			n = len / 4;
			for (w = 0; w + MARKER_WORDS <= n; w++)
				for (s = 0; s < nr; s++)
					if (buf[w] == ~inv[s][0] &&
					    is_marker(buf + w, inv[s]))
						hits[s]++;
		}
	}
	printf("ram_scan: %llu segments, %llu MiB\n", segs, bytes >> 20);
	for (s = 0; s < nr; s++)
		printf("%08x %ld\n", seeds[s], hits[s]);
	return segs ? 0 : 2;
}

static int kexec(const char *kernel, const char *initrd, const char *cmdline)
{
	int kfd = open(kernel, O_RDONLY), ifd = open(initrd, O_RDONLY);

	if (kfd < 0 || ifd < 0) {
		perror("open");
		return 2;
	}
	if (syscall(SYS_kexec_file_load, kfd, ifd, strlen(cmdline) + 1, cmdline, 0UL)) {
		perror("kexec_file_load");
		return 2;
	}
	sync();
	reboot(LINUX_REBOOT_CMD_KEXEC);
	perror("reboot(LINUX_REBOOT_CMD_KEXEC)");
	return 2;
}

int main(int argc, char **argv)
{
	unsigned int seeds[MAX_SEEDS];
	int i;

	if (argc == 5 && !strcmp(argv[1], "kexec"))
		return kexec(argv[2], argv[3], argv[4]);
	if (argc == 3 && !strcmp(argv[1], "hold"))
		return hold(strtoul(argv[2], NULL, 16));
	if (argc < 3 || argc > 2 + MAX_SEEDS || strcmp(argv[1], "scan")) {
		fprintf(stderr,
			"usage: ram_scan hold SEED | scan SEED... | kexec KERNEL INITRD CMDLINE\n");
		return 2;
	}
	for (i = 2; i < argc; i++)
		seeds[i - 2] = strtoul(argv[i], NULL, 16);
	return scan(argc - 2, seeds);
}
