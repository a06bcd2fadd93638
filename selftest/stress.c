// SPDX-License-Identifier: GPL-2.0
/*
 * The stress run at load by stress=SECONDS: one worker per online CPU
 * allocates and frees at random through the public API, in both modes,
 * keeping several allocations live, and checks each one's data and that
 * its pages fault through the direct map.  Meanwhile another thread makes
 * the kernel's own CPA change the direct map (set_pages_array_uc/wb split
 * large leaves and rewrite 4K entries), so our splits race with the
 * kernel's.  At the end nothing may be live and no entry hidden.
 *
 * Prints KTAP v1; module init fails if any case fails.
 */

#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/prandom.h>
#include <linux/set_memory.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "nd_internal.h"
#include "probe.h"
#include "selftest.h"

/* Live allocations per worker, and their largest size in pages. */
#define ND_STRESS_SLOTS		8
#define ND_STRESS_MAX_PAGES	64
/* One allocation in this many is large, to cross many leaves. */
#define ND_STRESS_LARGE_ONE_IN	32
#define ND_STRESS_LARGE_PAGES	512
/* Pages the CPA churn thread flips between UC and WB at a time. */
#define ND_STRESS_CHURN_PAGES	16

/*
 * The faults boot (selftest/init.sh) points the kernel's own fault
 * injection at our text, which exists only once insmod has begun: with
 * stress_hold=1 the workers wait until user space clears it, and when they
 * have stopped it is set again and the final checks wait until user space
 * has switched the injection off and cleared it once more.
 */
static bool stress_hold;
module_param(stress_hold, bool, 0644);
MODULE_PARM_DESC(stress_hold,
		 "stress waits for this to be cleared, before and after its workers run");

/* How long a hold may last before the run goes on alone. */
#define ND_STRESS_HOLD_MAX_S	120

/* Wait, a tenth of a second at a time, until user space clears the hold. */
static void nd_stress_hold_wait(const char *what)
{
	unsigned int i;

	if (!READ_ONCE(stress_hold))
		return;
	pr_info("# stress: holding %s\n", what);
	for (i = 0; i < ND_STRESS_HOLD_MAX_S * 10 && READ_ONCE(stress_hold); i++)
		msleep(100);
	pr_info("# stress: hold %s %s\n", what,
		READ_ONCE(stress_hold) ? "timed out" : "released");
	WRITE_ONCE(stress_hold, false);
}

struct nd_stress_slot {
	u8 *p;
	unsigned int nr_pages;
	enum nd_prot prot;
	u8 fill;
};

/* A small object of nd_kmalloc(). */
struct nd_stress_obj {
	u8 *p;
	size_t size;
	u8 fill;
};

#define ND_STRESS_OBJS		16

struct nd_stress_worker {
	struct task_struct *task;
	struct rnd_state rnd;
	struct nd_stress_slot slot[ND_STRESS_SLOTS];
	struct nd_stress_obj obj[ND_STRESS_OBJS];
	unsigned long ops, checks, errors, alloc_failures;
};

struct nd_stress_churn {
	struct task_struct *task;
	unsigned long ops, errors;
};

/* Counts an error, and says what it was for the first few only. */
static bool nd_stress_check(struct nd_stress_worker *w, bool ok,
			    const char *what, const void *addr)
{
	w->checks++;
	if (ok)
		return true;
	if (++w->errors <= 5)
		pr_err("    # stress: %s at %px\n", what, addr);
	return false;
}

/*
 * Check a live allocation: its data through the alias, and one random page
 * through the direct map, which must fault (on read, or for read-only on
 * write while a read sees the data).
 */
static void nd_stress_verify(struct nd_stress_worker *w,
			     struct nd_stress_slot *s)
{
	unsigned int i = prandom_u32_state(&w->rnd) % s->nr_pages;
	u8 *page = s->p + i * PAGE_SIZE;
	void *va = page_address(vmalloc_to_page(page));
	int r, wr = 0;
	u64 val = 0;

	nd_stress_check(w, !memchr_inv(page, s->fill, PAGE_SIZE),
			"alias lost its data", page);
	nd_stress_check(w, s->p[0] == s->fill &&
			s->p[s->nr_pages * PAGE_SIZE - 1] == s->fill,
			"alias ends lost their data", s->p);

	r = nd_probe_read(va, &val);
	if (s->prot == ND_READ_ONLY)
		wr = nd_probe_write(va, s->fill);
	if (s->prot == ND_NOT_PRESENT)
		nd_stress_check(w, r == -EFAULT, "__va read did not fault", va);
	else
		nd_stress_check(w, !r && val == 0x0101010101010101ULL * s->fill &&
				wr == -EFAULT,
				"__va of a read-only page misbehaved", va);
}

static void nd_stress_alloc(struct nd_stress_worker *w,
			    struct nd_stress_slot *s)
{
	u32 rnd = prandom_u32_state(&w->rnd);
	unsigned long size;
	u8 *p;

	if (rnd % ND_STRESS_LARGE_ONE_IN == 0)
		s->nr_pages = ND_STRESS_LARGE_PAGES;
	else
		s->nr_pages = 1 + (rnd >> 8) % ND_STRESS_MAX_PAGES;
	/* Not always whole pages: the tail of the last page is ours too. */
	size = s->nr_pages * PAGE_SIZE - (rnd >> 20) % PAGE_SIZE;

	switch (rnd >> 28 & 3) {
	case 0:
		s->prot = ND_NOT_PRESENT;
		p = nd_vmalloc(size);
		break;
	case 1:
		s->prot = ND_NOT_PRESENT;
		p = nd_vzalloc(size);
		if (p)
			nd_stress_check(w, !memchr_inv(p, 0, size),
					"nd_vzalloc memory not zeroed", p);
		break;
	case 2:
		/* Charged memory never comes from the pool: the page path. */
		s->prot = ND_NOT_PRESENT;
		p = nd_vmalloc_prot(size, GFP_KERNEL | __GFP_NOWARN |
				    __GFP_ACCOUNT, ND_NOT_PRESENT);
		break;
	default:
		s->prot = ND_READ_ONLY;
		p = nd_vmalloc_prot(size, GFP_KERNEL | __GFP_NOWARN,
				    ND_READ_ONLY);
		break;
	}
	w->ops++;
	if (!p) {
		/* Memory may run short with every CPU allocating. */
		w->alloc_failures++;
		return;
	}
	s->fill = 1 + rnd % 255;
	memset(p, s->fill, s->nr_pages * PAGE_SIZE);
	s->p = p;
}

/* Free @p, now and then with interrupts off (which defers the vfree()). */
static void nd_stress_release(struct nd_stress_worker *w,
			      void (*free)(const void *), const void *p)
{
	if (prandom_u32_state(&w->rnd) % 8 == 0) {
		local_irq_disable();
		free(p);
		local_irq_enable();
	} else {
		free(p);
	}
}

static void nd_stress_free(struct nd_stress_worker *w,
			   struct nd_stress_slot *s)
{
	nd_stress_verify(w, s);
	nd_stress_release(w, nd_vfree, s->p);
	s->p = NULL;
	w->ops++;
}

/*
 * A small object: allocate one of a random size, or check one (its bytes
 * through its address, a read of its page through __va must fault) and
 * free it, now and then with interrupts off.
 */
static void nd_stress_small(struct nd_stress_worker *w,
			    struct nd_stress_obj *o)
{
	u32 rnd = prandom_u32_state(&w->rnd);
	u64 val;

	w->ops++;
	if (!o->p) {
		o->size = 1 + rnd % (PAGE_SIZE / 2);
		o->p = nd_kmalloc(o->size, GFP_KERNEL | __GFP_NOWARN);
		if (!o->p) {
			w->alloc_failures++;
			return;
		}
		nd_stress_check(w, !memchr_inv(o->p, 0, o->size),
				"nd_kmalloc object not zeroed", o->p);
		o->fill = 1 + (rnd >> 16) % 255;
		memset(o->p, o->fill, o->size);
		return;
	}
	nd_stress_check(w, !memchr_inv(o->p, o->fill, o->size),
			"small object lost its data (overlap?)", o->p);
	nd_stress_check(w, nd_probe_read(page_address(vmalloc_to_page(o->p)) +
					 offset_in_page(o->p), &val) == -EFAULT,
			"__va read of a small object did not fault", o->p);
	nd_stress_release(w, nd_kfree, o->p);
	o->p = NULL;
}

static int nd_stress_worker_fn(void *arg)
{
	struct nd_stress_worker *w = arg;
	struct nd_stress_slot *s;
	unsigned int i;

	while (READ_ONCE(stress_hold) && !kthread_should_stop())
		msleep(100);
	while (!kthread_should_stop()) {
		if (prandom_u32_state(&w->rnd) & 1) {
			nd_stress_small(w, &w->obj[prandom_u32_state(&w->rnd) %
						    ND_STRESS_OBJS]);
			cond_resched();
			continue;
		}
		s = &w->slot[prandom_u32_state(&w->rnd) % ND_STRESS_SLOTS];
		if (!s->p)
			nd_stress_alloc(w, s);
		else if (prandom_u32_state(&w->rnd) & 1)
			nd_stress_free(w, s);
		else
			nd_stress_verify(w, s);
		cond_resched();
	}
	for (i = 0; i < ND_STRESS_SLOTS; i++)
		if (w->slot[i].p)
			nd_stress_free(w, &w->slot[i]);
	for (i = 0; i < ND_STRESS_OBJS; i++)
		if (w->obj[i].p)
			nd_stress_small(w, &w->obj[i]);
	return 0;
}

/*
 * The kernel's own direct-map changes: set_pages_array_uc() splits the
 * leaves of fresh pages under pgd_lock and rewrites their entries under
 * cpa_lock, as module loading does for module text.
 */
static int nd_stress_churn_fn(void *arg)
{
	struct page *pages[ND_STRESS_CHURN_PAGES];
	struct nd_stress_churn *c = arg;
	unsigned int i, n;

	while (READ_ONCE(stress_hold) && !kthread_should_stop())
		msleep(100);
	while (!kthread_should_stop()) {
		for (n = 0; n < ND_STRESS_CHURN_PAGES; n++) {
			pages[n] = alloc_page(GFP_KERNEL | __GFP_NOWARN);
			if (!pages[n])
				break;
		}
		if (n && !set_pages_array_uc(pages, n)) {
			if (set_pages_array_wb(pages, n))
				c->errors++;
			c->ops++;
		}
		for (i = 0; i < n; i++)
			__free_page(pages[i]);
		cond_resched();
	}
	return 0;
}

/* One KTAP result line, counted. */
static void nd_stress_result(unsigned int nr, const char *name, bool ok,
			     unsigned int *pass, unsigned int *fail)
{
	if (ok)
		(*pass)++;
	else
		(*fail)++;
	pr_info("%sok %u %s\n", ok ? "" : "not ", nr, name);
}

/**
 * nd_stress_run() - run the stress test for @seconds
 * @seconds: how long the workers run.
 *
 * Context: Process context (module init); sleeps for @seconds.
 * Return: 0 if every case passed, -errno otherwise.
 */
int nd_stress_run(unsigned int seconds)
{
	unsigned long ops = 0, checks = 0, errors = 0, alloc_failures = 0;
	unsigned int cpu, i, n = 0, pass = 0, fail = 0;
	struct nd_stress_churn churn = { };
	bool hold = READ_ONCE(stress_hold);
	struct nd_stress_worker *workers;
	long live_allocs, live_pages;
	struct nd_sweep sweep;

	workers = kcalloc(nr_cpu_ids, sizeof(*workers), GFP_KERNEL);
	if (!workers)
		return -ENOMEM;

	pr_info("KTAP version 1\n");
	pr_info("1..3\n");
	live_allocs = atomic_long_read(&nd_stats.live_allocs);
	live_pages = atomic_long_read(&nd_stats.live_pages);
	nd_probe_sweep(&sweep);

	for_each_online_cpu(cpu) {
		struct nd_stress_worker *w = &workers[cpu];

		prandom_seed_state(&w->rnd, get_random_u64());
		w->task = kthread_create(nd_stress_worker_fn, w, "nd_stress/%u",
					 cpu);
		if (IS_ERR(w->task)) {
			w->task = NULL;
			continue;
		}
		kthread_bind(w->task, cpu);
		wake_up_process(w->task);
		n++;
	}
	churn.task = kthread_run(nd_stress_churn_fn, &churn, "nd_stress_cpa");
	if (IS_ERR(churn.task))
		churn.task = NULL;

	nd_stress_hold_wait("before the workers start");
	/* A second at a time: one long sleep would look like a hung task. */
	for (i = 0; i < seconds; i++)
		msleep(MSEC_PER_SEC);

	if (churn.task)
		kthread_stop(churn.task);
	for_each_possible_cpu(cpu) {
		struct nd_stress_worker *w = &workers[cpu];

		if (!w->task)
			continue;
		kthread_stop(w->task);
		ops += w->ops;
		checks += w->checks;
		errors += w->errors;
		alloc_failures += w->alloc_failures;
	}
	kfree(workers);
	if (hold) {
		WRITE_ONCE(stress_hold, true);
		nd_stress_hold_wait("after the workers stopped");
	}
	/* Empty pages of small objects go back to the pool now. */
	nd_kmalloc_release_now();
	/* Frees from atomic context finish their vfree() in a worker. */
	nd_deferred_flush();
	/* Free pool blocks are hidden by design: give them back first. */
	nd_pool_drain();

	pr_info("# %u workers for %u s: %lu operations, %lu checks, %lu errors, %lu allocations refused for memory\n",
		n, seconds, ops, checks, errors, alloc_failures);
	nd_stress_result(1, "stress_workers", n == num_online_cpus() &&
			 !errors && ops && checks, &pass, &fail);

	pr_info("# kernel CPA churn: %lu UC/WB rounds of %u pages, %lu errors\n",
		churn.ops, ND_STRESS_CHURN_PAGES, churn.errors);
	nd_stress_result(2, "stress_kernel_cpa_churn",
			 churn.task && churn.ops && !churn.errors, &pass, &fail);

	nd_stress_result(3, "stress_nothing_left_hidden",
			 atomic_long_read(&nd_stats.live_allocs) == live_allocs &&
			 atomic_long_read(&nd_stats.live_pages) == live_pages &&
			 nd_probe_sweep_same(&sweep, "after stress"),
			 &pass, &fail);

	pr_info("# Totals: pass:%u fail:%u xfail:0 xpass:0 skip:0 error:0\n",
		pass, fail);
	return fail ? -ENOTRECOVERABLE : 0;
}
