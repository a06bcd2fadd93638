// SPDX-License-Identifier: GPL-2.0
/*
 * Selftest cases for small objects (nd_kmalloc/nd_kfree) and sealing
 * (nd_vseal): hidden bytes, no overlap under concurrency, wipe on free,
 * pages back to the pool, bad frees, the 1000-key footprint, and a sealed
 * area that refuses writes through its own address.
 */

#include <linux/completion.h>
#include <linux/kthread.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

#include "nd_internal.h"
#include "probe.h"
#include "selftest.h"

#define ND_KT_POOL_MB	16

/* The object's bytes cannot be read through __va on any CPU. */
static bool nd_kt_hidden(const void *obj, const char *what)
{
	unsigned long va = (unsigned long)page_address(vmalloc_to_page(obj)) +
			   offset_in_page(obj);
	struct nd_probe probe = { .nr_pages = 1, .va = &va,
				  .want_read = -EFAULT,
				  .want_write = ND_PROBE_NO_WRITE };

	return nd_probe_all_cpus(&probe, what);
}

/* Every class: hidden, usable, aligned to its size, zeroed. */
int nd_test_kmalloc_hidden(void)
{
	unsigned int old_max = nd_pool_set_max(ND_KT_POOL_MB);
	bool failed = false;
	size_t size;
	u8 *obj;

	for (size = 1; size <= PAGE_SIZE / 2; size = size * 2 + 1) {
		obj = nd_kmalloc(size, GFP_KERNEL);
		if (nd_test(obj, "nd_kmalloc(%zu) failed", size)) {
			failed = true;
			continue;
		}
		failed |= nd_test(!memchr_inv(obj, 0, size),
				  "%zu bytes not zeroed", size);
		failed |= nd_test(IS_ALIGNED((unsigned long)obj,
					     roundup_pow_of_two(max_t(size_t, size, 16))),
				  "%zu bytes at %p not aligned to their class",
				  size, obj);
		memset(obj, 0xa7, size);
		failed |= nd_test(!memchr_inv(obj, 0xa7, size),
				  "%zu bytes: alias lost its data", size);
		failed |= nd_test(nd_kt_hidden(obj, "nd_kmalloc object"),
				  "%zu bytes readable through __va", size);
		nd_kfree(obj);
	}
	nd_kmalloc_release_now();
	nd_pool_drain();
	nd_pool_set_max(old_max);
	return failed ? ND_FAIL : ND_PASS;
}

#define ND_KT_OBJS	256

struct nd_kt_worker {
	struct task_struct *task;
	struct completion done;
	unsigned int id;
	void *obj[ND_KT_OBJS];
	size_t size[ND_KT_OBJS];
	bool failed;
};

/* A byte that names the object: worker and index. */
static u8 nd_kt_tag(unsigned int id, unsigned int i)
{
	return (u8)(id * 131 + i * 7 + 1);
}

static int nd_kt_worker_fn(void *arg)
{
	struct nd_kt_worker *w = arg;
	unsigned int i, round;

	for (round = 0; round < 4; round++) {
		for (i = 0; i < ND_KT_OBJS; i++) {
			if (w->obj[i])
				continue;
			w->size[i] = 1 + get_random_u32_below(PAGE_SIZE / 2);
			w->obj[i] = nd_kmalloc(w->size[i], GFP_KERNEL);
			if (!w->obj[i]) {
				w->failed = true;
				continue;
			}
			memset(w->obj[i], nd_kt_tag(w->id, i), w->size[i]);
		}
		/* Every object still holds only its own tag. */
		for (i = 0; i < ND_KT_OBJS; i++)
			if (w->obj[i] && memchr_inv(w->obj[i],
						    nd_kt_tag(w->id, i),
						    w->size[i]))
				w->failed = true;
		if (round == 3)
			break;
		/* Free every other one, so the next round mixes in. */
		for (i = 0; i < ND_KT_OBJS; i += 2) {
			nd_kfree(w->obj[i]);
			w->obj[i] = NULL;
		}
	}
	complete(&w->done);
	return 0;
}

struct nd_kt_range {
	unsigned long start, end;
};

static int nd_kt_range_cmp(const void *a, const void *b)
{
	const struct nd_kt_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/*
 * A worker per CPU allocates objects of random sizes, all classes at once,
 * tags each and checks the tags; then no two live objects overlap.
 */
int nd_test_kmalloc_no_overlap(void)
{
	unsigned int old_max = nd_pool_set_max(ND_KT_POOL_MB);
	unsigned int nr_workers = num_online_cpus(), n = 0, i, j, cpu;
	struct nd_kt_worker *w;
	struct nd_kt_range *r;
	bool failed = false;

	w = kcalloc(nr_workers, sizeof(*w), GFP_KERNEL);
	r = kvmalloc_array(nr_workers * ND_KT_OBJS, sizeof(*r), GFP_KERNEL);
	if (nd_test(w && r, "no memory")) {
		failed = true;
		goto out;
	}
	i = 0;
	for_each_online_cpu(cpu) {
		if (i == nr_workers)
			break;
		w[i].id = i;
		init_completion(&w[i].done);
		w[i].task = kthread_create(nd_kt_worker_fn, &w[i], "nd_kt/%u",
					   cpu);
		if (IS_ERR(w[i].task)) {
			failed = true;
			break;
		}
		kthread_bind(w[i].task, cpu);
		wake_up_process(w[i].task);
		i++;
	}
	nr_workers = i;
	for (i = 0; i < nr_workers; i++)
		wait_for_completion(&w[i].done);

	for (i = 0; i < nr_workers; i++) {
		failed |= nd_test(!w[i].failed,
				  "worker %u: an object failed or lost its tag", i);
		for (j = 0; j < ND_KT_OBJS; j++) {
			if (!w[i].obj[j])
				continue;
			r[n].start = (unsigned long)w[i].obj[j];
			r[n++].end = (unsigned long)w[i].obj[j] + w[i].size[j];
		}
	}
	sort(r, n, sizeof(*r), nd_kt_range_cmp, NULL);
	for (i = 1; i < n; i++)
		if (r[i].start < r[i - 1].end) {
			failed |= nd_test(false, "objects %lx..%lx and %lx..%lx overlap",
					  r[i - 1].start, r[i - 1].end,
					  r[i].start, r[i].end);
			break;
		}
	pr_info("    # %u workers, %u objects live at the end\n", nr_workers, n);
	for (i = 0; i < nr_workers; i++)
		for (j = 0; j < ND_KT_OBJS; j++)
			nd_kfree(w[i].obj[j]);
out:
	kvfree(r);
	kfree(w);
	nd_kmalloc_release_now();
	nd_pool_drain();
	nd_pool_set_max(old_max);
	return failed ? ND_FAIL : ND_PASS;
}

/*
 * Wiped on free (read through the page's alias, which the other objects
 * keep mapped); a page goes back to the pool when its last object is freed.
 */
int nd_test_kmalloc_wipe_and_return(void)
{
	unsigned int old_max = nd_pool_set_max(ND_KT_POOL_MB), i;
	unsigned long objects, pages, objects0, pages0;
	bool failed = false;
	u8 *obj[8] = { };	/* 8 objects of 512 bytes: one page */
	long live0;

	nd_kmalloc_release_now();
	nd_kmalloc_stats(PAGE_SIZE / 8, &objects0, &pages0);
	live0 = atomic_long_read(&nd_stats.live_allocs);
	for (i = 0; i < ARRAY_SIZE(obj); i++) {
		obj[i] = nd_kmalloc(PAGE_SIZE / 8, GFP_KERNEL);
		failed |= nd_test(obj[i], "no object");
	}
	if (failed)
		goto out;
	nd_kmalloc_stats(PAGE_SIZE / 8, &objects, &pages);
	failed |= nd_test(objects - objects0 == 8 && pages - pages0 == 1 &&
			  atomic_long_read(&nd_stats.live_allocs) == live0 + 1,
			  "8 objects of %lu bytes: %lu objects, %lu pages more",
			  PAGE_SIZE / 8, objects - objects0, pages - pages0);
	memset(obj[3], 0xee, PAGE_SIZE / 8);
	nd_kfree(obj[3]);
	failed |= nd_test(!memchr_inv(obj[3], 0, PAGE_SIZE / 8),
			  "freed object not wiped");
	obj[3] = NULL;
	for (i = 0; i < ARRAY_SIZE(obj); i++) {
		nd_kfree(obj[i]);
		obj[i] = NULL;
	}
	nd_kmalloc_release_now();
	nd_kmalloc_stats(PAGE_SIZE / 8, &objects, &pages);
	failed |= nd_test(objects == objects0 && pages == pages0 &&
			  atomic_long_read(&nd_stats.live_allocs) == live0,
			  "after the last free: %lu objects, %lu pages, %ld allocations live",
			  objects - objects0, pages - pages0,
			  atomic_long_read(&nd_stats.live_allocs) - live0);
out:
	for (i = 0; i < ARRAY_SIZE(obj); i++)
		nd_kfree(obj[i]);
	nd_kmalloc_release_now();
	nd_pool_drain();
	nd_pool_set_max(old_max);
	return failed ? ND_FAIL : ND_PASS;
}

/* Each mistake refused, counted, and nothing freed. */
int nd_test_kmalloc_bad_calls(void)
{
	unsigned long objects0, objects1, pages;
	struct nd_counts c0, c1;
	bool failed = false;
	u8 *obj, *big, *k;

	obj = nd_kmalloc(64, GFP_KERNEL);
	big = nd_vmalloc(PAGE_SIZE);
	k = kmalloc(64, GFP_KERNEL);
	if (nd_test(obj && big && k, "no memory")) {
		failed = true;
		goto out;
	}
	memset(obj, 0x42, 64);
	nd_kmalloc_stats(0, &objects0, &pages);
	nd_counts_read(&c0);
	nd_kfree(obj + 8);			/* interior */
	nd_kfree(k);				/* kmalloc */
	nd_kfree(big);				/* nd_vmalloc */
	nd_vfree(obj);				/* an object to nd_vfree */
	failed |= nd_test(nd_vseal(obj) == -EINVAL, "nd_vseal of an object");
	failed |= nd_test(!nd_kmalloc(0, GFP_KERNEL), "size 0 accepted");
	failed |= nd_test(!nd_kmalloc(PAGE_SIZE / 2 + 1, GFP_KERNEL),
			  "more than half a page accepted");
	failed |= nd_test(!nd_kmalloc(32, GFP_ATOMIC), "GFP_ATOMIC accepted");
	nd_counts_read(&c1);
	nd_kmalloc_stats(0, &objects1, &pages);
	failed |= nd_test(c1.bad_calls - c0.bad_calls == 8,
			  "%ld bad calls counted, want 8",
			  c1.bad_calls - c0.bad_calls);
	failed |= nd_test(objects1 == objects0 && !memchr_inv(obj, 0x42, 64),
			  "a refused free changed something");
	nd_kfree(obj);
	nd_counts_read(&c0);
	nd_kfree(obj);				/* double */
	nd_counts_read(&c1);
	failed |= nd_test(c1.bad_calls - c0.bad_calls == 1, "double free accepted");
	obj = NULL;
out:
	nd_kfree(obj);
	nd_vfree(big);
	kfree(k);
	nd_kmalloc_release_now();
	return failed ? ND_FAIL : ND_PASS;
}

/*
 * A failed nd_kmalloc() is one failure, counted once, whether its page or
 * the page's structure could not be had; a call without an injected
 * failure is the positive control.
 */
int nd_test_kmalloc_failure_once(void)
{
	static const enum nd_fail_site sites[] = { ND_FAIL_SLAB, ND_FAIL_PAGE };
	unsigned int old_max = nd_pool_set_max(0), i;
	struct nd_counts c0, c1;
	bool failed = false;
	void *obj;

	for (i = 0; i < ARRAY_SIZE(sites); i++) {
		nd_kmalloc_release_now();
		nd_counts_read(&c0);
		nd_fail_arm(sites[i], 1);
		obj = nd_kmalloc(PAGE_SIZE / 2, GFP_KERNEL | __GFP_NOWARN);
		nd_fail_arm(sites[i], 0);
		nd_counts_read(&c1);
		failed |= nd_test(!obj && c1.failures - c0.failures == 1 &&
				  c1.live_allocs == c0.live_allocs,
				  "site %u failed: %p, %ld failures, %ld live",
				  sites[i], obj, c1.failures - c0.failures,
				  c1.live_allocs - c0.live_allocs);
		nd_kfree(obj);
	}
	nd_counts_read(&c0);
	obj = nd_kmalloc(PAGE_SIZE / 2, GFP_KERNEL);
	nd_counts_read(&c1);
	failed |= nd_test(obj && c1.failures == c0.failures,
			  "control: %p, %ld failures", obj,
			  c1.failures - c0.failures);
	nd_kfree(obj);
	nd_kmalloc_release_now();
	nd_pool_set_max(old_max);
	return failed ? ND_FAIL : ND_PASS;
}

#define ND_KT_KEYS	1000
#define ND_KT_KEY_LEN	32

/* 1000 keys of 32 bytes in at most 10 pages, bookkeeping included. */
int nd_test_kmalloc_footprint(void)
{
	unsigned int old_max = nd_pool_set_max(ND_KT_POOL_MB), i;
	unsigned long objects, pages, meta, objects0, pages0, meta0;
	bool failed = false;
	void **keys;

	keys = kvcalloc(ND_KT_KEYS, sizeof(*keys), GFP_KERNEL);
	if (nd_test(keys, "no memory")) {
		nd_pool_set_max(old_max);
		return ND_FAIL;
	}
	nd_kmalloc_release_now();
	nd_kmalloc_stats(ND_KT_KEY_LEN, &objects0, &pages0);
	meta0 = nd_kmalloc_meta_bytes(ND_KT_KEY_LEN);
	for (i = 0; i < ND_KT_KEYS; i++) {
		keys[i] = nd_kzalloc(ND_KT_KEY_LEN, GFP_KERNEL);
		failed |= nd_test(keys[i], "key %u failed", i);
	}
	nd_kmalloc_stats(ND_KT_KEY_LEN, &objects, &pages);
	objects -= objects0;
	pages -= pages0;
	/* The slab table too, though it serves every class at once. */
	meta = nd_kmalloc_meta_bytes(ND_KT_KEY_LEN) - meta0 +
	       nd_kmalloc_index_bytes();
	pr_info("    # %u keys of %u bytes: %lu pages, %lu bytes of bookkeeping\n",
		ND_KT_KEYS, ND_KT_KEY_LEN, pages, meta);
	failed |= nd_test(objects == ND_KT_KEYS &&
			  pages + DIV_ROUND_UP(meta, PAGE_SIZE) <= 10,
			  "%lu objects in %lu pages and %lu bytes of bookkeeping",
			  objects, pages, meta);
	for (i = 0; i < ND_KT_KEYS; i++)
		nd_kfree(keys[i]);
	kvfree(keys);
	nd_kmalloc_release_now();
	nd_pool_drain();
	nd_pool_set_max(old_max);
	return failed ? ND_FAIL : ND_PASS;
}

/*
 * nd_vseal(): one flush; reads through the address work, writes fault on
 * every CPU; sealing again is harmless; bad pointers are refused; and
 * nd_vfree() still wipes, restores and frees the area.
 */
int nd_test_vseal(void)
{
	struct nd_probe probe = { .nr_pages = 2, .want_read = 0,
				  .want_write = -EFAULT };
	unsigned long *va = NULL, alias[2];
	struct nd_counts c0, c1;
	bool failed = false;
	u8 *p;

	/* __GFP_ACCOUNT: the per-page path, so the restore can be seen. */
	p = nd_vmalloc_prot(2 * PAGE_SIZE, GFP_KERNEL | __GFP_ACCOUNT,
			    ND_NOT_PRESENT);
	va = p ? nd_probe_area_vas(p, 2) : NULL;
	if (nd_test(p && va, "no memory")) {
		failed = true;
		goto out;
	}
	memset(p, 0x5e, 2 * PAGE_SIZE);
	nd_counts_read(&c0);
	failed |= nd_test(nd_vseal(p) == 0, "nd_vseal failed");
	nd_counts_read(&c1);
	failed |= nd_test(c1.flushes - c0.flushes == 1,
			  "sealing made %ld flushes", c1.flushes - c0.flushes);

	/* The area's own address: reads work, writes fault, on every CPU. */
	alias[0] = (unsigned long)p;
	alias[1] = (unsigned long)p + PAGE_SIZE;
	probe.va = alias;
	probe.alias = p;
	failed |= nd_test(nd_probe_all_cpus(&probe, "sealed alias"),
			  "sealed area writable or unreadable through its address");
	failed |= nd_test(!memchr_inv(p, 0x5e, 2 * PAGE_SIZE),
			  "sealed area lost its data");

	nd_counts_read(&c0);
	failed |= nd_test(nd_vseal(p) == 0, "sealing again failed");
	failed |= nd_test(nd_vseal(p + 1) == -EINVAL, "interior pointer sealed");
	failed |= nd_test(nd_vseal(va) == -EINVAL, "foreign pointer sealed");
	nd_counts_read(&c1);
	failed |= nd_test(c1.flushes == c0.flushes &&
			  c1.bad_calls - c0.bad_calls == 2,
			  "again: %ld flushes, %ld bad calls",
			  c1.flushes - c0.flushes, c1.bad_calls - c0.bad_calls);

	nd_vfree(p);
	probe.va = va;
	probe.alias = NULL;
	probe.want_read = 0;
	probe.want_write = ND_PROBE_NO_WRITE;
	failed |= nd_test(nd_probe_all_cpus(&probe, "after freeing a sealed area"),
			  "direct map not whole after nd_vfree of a sealed area");
out:
	kvfree(va);
	return failed ? ND_FAIL : ND_PASS;
}

/**
 * nd_crash_seal_run() - write through a sealed area's own address
 *
 * The write must oops (a permissions fault at exactly that address); the
 * boot passes only if it does.
 *
 * Return: -EIO if the write survived.
 */
int nd_crash_seal_run(void)
{
	u8 *p = nd_vzalloc(PAGE_SIZE);

	if (!p || nd_vseal(p)) {
		pr_err("crash-seal: no sealed area\n");
		nd_vfree(p);
		return -ENOMEM;
	}
	pr_info("crash: writing sealed area at %px\n", p);
	WRITE_ONCE(*p, 1);
	pr_err("crash: the write survived\n");
	nd_vfree(p);
	return -EIO;
}
