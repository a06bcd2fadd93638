// SPDX-License-Identifier: GPL-2.0
/*
 * memfd_secret_bench [--smoke] [--ready FILE]
 *
 * The benchmark's user-space contender, run by the guest's /init next to
 * bench=1: what a user who picks memfd_secret(2) instead pays for one
 * create, size, mmap, touch every page, munmap, close.  secretmem takes each
 * page out of the direct map at its first touch, with one flush per page.
 *
 * Prints the same "bench: phase=... contender=..." lines as the module.
 * IPIs come from the CAL and TLB lines of /proc/interrupts, splits from
 * /proc/vmstat, each read around every batch of pairs.  With --ready, the
 * cold phase's ballast is kept after the run (FILE is created, then the
 * program waits for a signal), so the module's cold phase that follows gets
 * fresh pages too.  Static: the guest has no C library.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef __NR_memfd_secret
#define __NR_memfd_secret 447	/* x86_64 */
#endif

#define PAGE 4096UL
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_ITERS 200
#define COLD 3
#define SOAK_BYTES (32UL << 20)

static const struct {
	unsigned int pages, iters, smoke_iters;
} sizes[] = {
	{ 1, 200, 5 }, { 16, 200, 5 }, { 64, 100, 0 }, { 256, 40, 3 },
	{ 4096, 4, 0 },	/* seconds a pair on 4 TCG vCPUs */
};

static unsigned int ncpus;

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Sum of the per-CPU columns of one /proc/interrupts line, e.g. "CAL". */
static unsigned long long irq_line(const char *name)
{
	char line[4096], *p, *end;
	size_t len = strlen(name);
	unsigned long long sum = 0;
	FILE *f = fopen("/proc/interrupts", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		p = line + strspn(line, " ");
		if (strncmp(p, name, len) || p[len] != ':')
			continue;
		p += len + 1;
		for (;;) {
			unsigned long long v = strtoull(p, &end, 10);

			if (end == p)
				break;
			sum += v;
			p = end;
		}
		break;
	}
	fclose(f);
	return sum;
}

static unsigned long long vm_event(const char *name)
{
	char key[64];
	unsigned long long v, sum = 0;
	FILE *f = fopen("/proc/vmstat", "r");

	if (!f)
		return 0;
	while (fscanf(f, "%63s %llu", key, &v) == 2)
		if (!strcmp(key, name))
			sum += v;
	fclose(f);
	return sum;
}

struct snap {
	unsigned long long ipis, tlb, splits;
};

static void snap(struct snap *s)
{
	s->ipis = irq_line("CAL");
	s->tlb = irq_line("TLB");
	s->splits = vm_event("direct_map_level2_splits") +
		    vm_event("direct_map_level3_splits");
}

/* One create, size, mmap, touch, munmap, close; its time or 0 on error. */
static unsigned long long pair(unsigned int pages)
{
	size_t len = pages * PAGE;
	unsigned long long t0 = now_ns();
	char *p;
	unsigned int i;
	int fd;

	fd = syscall(__NR_memfd_secret, 0);
	if (fd < 0 || ftruncate(fd, len)) {
		fprintf(stderr, "memfd_secret: %s\n", strerror(errno));
		return 0;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		fprintf(stderr, "memfd_secret: mmap: %s\n", strerror(errno));
		close(fd);
		return 0;
	}
	for (i = 0; i < pages; i++)
		p[i * PAGE] = 1;
	munmap(p, len);
	close(fd);
	return now_ns() - t0;
}

/* Anonymous memory, touched page by page (no THP): takes freed pages. */
static void ballast(size_t len)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t off;

	if (p == MAP_FAILED)
		return;
	madvise(p, len, MADV_NOHUGEPAGE);
	for (off = 0; off < len; off += PAGE)
		p[off] = 1;
}

static int cmp(const void *a, const void *b)
{
	unsigned long long x = *(const unsigned long long *)a, y = *(const unsigned long long *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile, as the module computes it. */
static unsigned long long pct(const unsigned long long *s, unsigned int n, unsigned int p)
{
	return n ? s[(n * p + 99) / 100 - 1] : 0;
}

static int batch(const char *phase, unsigned int pages, unsigned int warmup,
		 unsigned int iters, int cold)
{
	static unsigned long long ns[MAX_ITERS];
	struct snap s0, s1;
	unsigned int i;

	for (i = 0; i < warmup; i++)
		if (!pair(pages))
			return -1;
	snap(&s0);
	for (i = 0; i < iters; i++) {
		ns[i] = pair(pages);
		if (!ns[i])
			return -1;
		if (cold)
			ballast(pages * PAGE);
	}
	snap(&s1);
	qsort(ns, iters, sizeof(ns[0]), cmp);
	/* One line, printed in three parts to keep the source narrow. */
	printf("memfd_secret: bench: phase=%s contender=memfd_secret cpus=%u ",
	       phase, ncpus);
	printf("pages=%u iters=%u median_ns=%llu p90_ns=%llu ", pages, iters,
	       pct(ns, iters, 50), pct(ns, iters, 90));
	/* Hiding happens at first touch, inside the pair: no alloc/free split. */
	printf("ipis=%.2f ipis_alloc=- ipis_free=- ", (double)(s1.ipis - s0.ipis) / iters);
	printf("tlb=%.2f flushes_alloc=- flushes_free=- splits=%.2f\n",
	       (double)(s1.tlb - s0.tlb) / iters,
	       (double)(s1.splits - s0.splits) / iters);
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
	const char *ready = NULL;
	unsigned int i, iters;
	int smoke = 0, fd;

	for (i = 1; i < (unsigned int)argc; i++) {
		if (!strcmp(argv[i], "--smoke")) {
			smoke = 1;
		} else if (!strcmp(argv[i], "--ready") &&
			   i + 1 < (unsigned int)argc) {
			ready = argv[++i];
		} else {
			fprintf(stderr, "usage: %s [--smoke] [--ready FILE]\n",
				argv[0]);
			return 2;
		}
	}
	ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	/* Secret memory counts as locked: 4096 pages pass the default 8M. */
	if (setrlimit(RLIMIT_MEMLOCK, &unlimited))
		fprintf(stderr, "RLIMIT_MEMLOCK: %s\n", strerror(errno));
	setvbuf(stdout, NULL, _IOLBF, 0);

	ballast(SOAK_BYTES);
	for (i = 0; i < ARRAY_SIZE(sizes); i++)
		if ((!smoke || sizes[i].smoke_iters) &&
		    batch("cold", sizes[i].pages, 0, smoke ? 1 : COLD, 1))
			return 1;
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		iters = smoke ? sizes[i].smoke_iters : sizes[i].iters;
		/* As the module: one warm-up round where a pair takes seconds. */
		if (iters && batch("steady", sizes[i].pages,
				   smoke || iters <= 4 ? 1 : 2, iters, 0))
			return 1;
	}
	printf("memfd_secret: bench: end\n");
	if (!ready)
		return 0;
	fd = open(ready, O_CREAT | O_WRONLY, 0644);
	if (fd >= 0)
		close(fd);
	for (;;)
		pause();
}
