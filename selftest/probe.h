/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Probing the direct map from every CPU, and what its entries should be;
 * shared by the selftest and the demo.
 */
#ifndef _ND_SELFTEST_PROBE_H
#define _ND_SELFTEST_PROBE_H

#include <linux/atomic.h>
#include <linux/types.h>
#include <asm/pgtable_types.h>
#include <asm/pgtable.h>

/* A write through the direct map that is not tried. */
#define ND_PROBE_NO_WRITE	1

/* One sweep over a set of pages' direct-map addresses, on every CPU. */
struct nd_probe {
	const unsigned long *va;	/* direct-map address of each page */
	const u8 *alias;		/* same pages through vmalloc, or NULL */
	unsigned int nr_pages;
	int want_read;			/* 0 or -EFAULT */
	int want_write;			/* 0, -EFAULT or ND_PROBE_NO_WRITE */
	/* results */
	atomic_t bad;
	int bad_cpu;
	unsigned int bad_page;
	int bad_read, bad_write;
	bool bad_data;
};

/* Direct-map entries that look hidden, by level (PG_LEVEL_4K .. _1G). */
struct nd_sweep {
	unsigned long not_present[PG_LEVEL_1G + 1];	/* yet not empty */
	unsigned long read_only[PG_LEVEL_1G + 1];	/* present, not writable */
};

int nd_probe_read(const void *va, u64 *val);
int nd_probe_write(void *va, u8 val);
bool nd_probe_all_cpus(struct nd_probe *probe, const char *what);
unsigned long *nd_probe_area_vas(const void *addr, unsigned int nr_pages);
pte_t nd_probe_expected_pte(unsigned long va);
bool nd_probe_pte_is(unsigned long va, pte_t want, const char *what);
void nd_probe_sweep(struct nd_sweep *sweep);
bool nd_probe_sweep_same(const struct nd_sweep *before, const char *what);

#endif /* _ND_SELFTEST_PROBE_H */
