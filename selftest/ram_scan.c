// SPDX-License-Identifier: GPL-2.0
/*
 * ram_scan: the two halves of the kexec boot (selftest/init.sh).
 *
 *   ram_scan hold SEED    keep the marker of SEED in 4096 pages of this
 *                         process's memory until killed (the control:
 *                         nobody wipes it); prints the frames they lie in
 *   ram_scan hog MB       hold MB of unmovable pages (pipe buffers) until
 *                         killed: the free blocks the pool would get next
 *   ram_scan scan SEED... count each SEED's marker in all of RAM, read
 *                         through /proc/kcore's segments that have a
 *                         physical address; prints "SEED HITS" per seed
 *   ram_scan load KERNEL INITRD CMDLINE
 *   ram_scan exec         kexec_file_load(), then reboot into it, as
 *                         "kexec -s -l" and "kexec -e" would (kexec-tools
 *                         needs libraries the guest does not have)
 *
 * A marker is 16 words derived from its seed, as selftest/demo.c's hold
 * writes into its live allocation. The scanner keeps them inverted: its
 * own memory is RAM too. Exit: 0 scanned, 2 the scan itself failed.
 */
#define _GNU_SOURCE
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
 * the cloud kernel; the whole root as the next initrd, placed by kexec just
 * below the next kernel, top down like this process's pages, once covered
 * all 4096 (init.sh now packs only what the scan needs). So 16 MiB, in
 * base pages; the frames they lie in are printed for such a post-mortem.
 */
#define HOLD_PAGES	4096

/*
 * print_frames: where the @n pages at @m lie in RAM (/proc/self/pagemap),
 * to compare with the segments the next kernel is loaded into.
 */
static void print_frames(void *m, size_t n)
{
	unsigned long long e, lo = ~0ULL, hi = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);
	size_t i;

	if (fd < 0)
		return;
	for (i = 0; i < n; i++) {
		if (pread(fd, &e, 8, ((unsigned long)m / 4096 + i) * 8) != 8)
			break;
		e &= (1ULL << 55) - 1;
		lo = e < lo ? e : lo;
		hi = e > hi ? e : hi;
	}
	close(fd);
	if (i == n)
		printf("ram_scan: held in frames %llx-%llx\n", lo, hi);
}

/*
 * hog: take @mb MiB the way the pool takes its blocks. Pipe buffers are
 * unmovable pages, as the pool's are, so they come from the same free
 * blocks the pool would be handed next (mlocked anonymous memory is
 * movable and comes from elsewhere: on 6.1 the pool still got the top).
 */
static int hog(unsigned long mb)
{
	static char page[4096];
	unsigned long i, j;
	int fds[2];

	memset(page, 0x6d, sizeof(page));
	for (i = 0; i < mb; i++) {
		if (pipe(fds) || fcntl(fds[1], F_SETPIPE_SZ, 1 << 20) < (1 << 20)) {
			perror("ram_scan: pipe");
			return 2;
		}
		for (j = 0; j < 256; j++)
			if (write(fds[1], page, sizeof(page)) != sizeof(page))
				return 2;
	}
	printf("ram_scan: holding %lu MiB in pipes\n", mb);
	fflush(stdout);
	for (;;)
		pause();
}

static int hold(unsigned int seed, size_t pages)
{
	size_t len = pages * 4096UL, i;
	unsigned int *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED)
		return 2;
	madvise(m, len, MADV_NOHUGEPAGE);
	for (i = 0; i < pages; i++)
		marker_of(seed, m + i * 1024 + 512, 0);
	mlock(m, len);
	print_frames(m, pages);
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

static unsigned long long run_start[MAX_SEEDS], run_end[MAX_SEEDS];

static void run_print(int s)
{
	if (run_end[s])
		printf("ram_scan: seed %d found in frames %llx-%llx\n",
		       s, run_start[s], run_end[s] - 1);
}

static void run_add(int s, unsigned long long pfn)
{
	if (run_end[s] == pfn) {
		run_end[s]++;
		return;
	}
	run_print(s);
	run_start[s] = pfn;
	run_end[s] = pfn + 1;
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
					    is_marker(buf + w, inv[s])) {
						hits[s]++;
						run_add(s, (ph.p_paddr + done + w * 4) >> 12);
					}
		}
	}
	for (s = 0; s < nr; s++)
		run_print(s);
	printf("ram_scan: %llu segments, %llu MiB\n", segs, bytes >> 20);
	for (s = 0; s < nr; s++)
		printf("%08x %ld\n", seeds[s], hits[s]);
	return segs ? 0 : 2;
}

static int load(const char *kernel, const char *initrd, const char *cmdline)
{
	int kfd = open(kernel, O_RDONLY), ifd = open(initrd, O_RDONLY);

	if (kfd < 0 || ifd < 0) {
		perror("open");
		return 2;
	}
	/* KEXEC_FILE_DEBUG (6.8+) logs where the segments go. */
	if (syscall(SYS_kexec_file_load, kfd, ifd, strlen(cmdline) + 1, cmdline, 8UL) &&
	    syscall(SYS_kexec_file_load, kfd, ifd, strlen(cmdline) + 1, cmdline, 0UL)) {
		perror("kexec_file_load");
		return 2;
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned int seeds[MAX_SEEDS];
	int i;

	if (argc == 5 && !strcmp(argv[1], "load"))
		return load(argv[2], argv[3], argv[4]);
	if (argc == 2 && !strcmp(argv[1], "exec")) {
		sync();
		reboot(LINUX_REBOOT_CMD_KEXEC);
		perror("reboot(LINUX_REBOOT_CMD_KEXEC)");
		return 2;
	}
	if (argc == 3 && !strcmp(argv[1], "hold"))
		return hold(strtoul(argv[2], NULL, 16), HOLD_PAGES);
	if (argc == 3 && !strcmp(argv[1], "hog"))
		return hog(strtoul(argv[2], NULL, 0));
	if (argc < 3 || argc > 2 + MAX_SEEDS || strcmp(argv[1], "scan")) {
		fprintf(stderr,
			"usage: ram_scan hold SEED | hog MB | scan SEED... | load KERNEL INITRD CMDLINE | exec\n");
		return 2;
	}
	for (i = 2; i < argc; i++)
		seeds[i - 2] = strtoul(argv[i], NULL, 16);
	return scan(argc - 2, seeds);
}
