// SPDX-License-Identifier: GPL-2.0
/*
 * Selftest cases for races with nd_vseal() and bounded work in hard
 * interrupts: a second seal while the first one's flush is pending, a free
 * that races a seal, a stale consumer call on a page nd_kmalloc() is
 * setting up, and the inline work of freeing a large sealed area in hard
 * interrupt context.  A kprobe holds one CPU at the point that matters
 * while another CPU makes the racing call.
 */

#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/irq_work.h>
#include <linux/kprobes.h>
#include <linux/kthread.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/vmalloc.h>

#include "nd_internal.h"
#include "probe.h"
#include "selftest.h"

/*
 * How long one side spins for the other, at most.  Under TCG on a busy
 * host a vCPU can go unscheduled for seconds: a race is only judged when
 * both sides met, so the wait is long.  The second sealer of
 * nd_test_vseal_twice() waits for the first one's flush, which comes only
 * when the hold gives up: that hold is short.
 */
#define ND_RACE_WAIT_US		(10000ULL * USEC_PER_MSEC)
#define ND_RACE_SEAL_HOLD_US	(1000ULL * USEC_PER_MSEC)
/* Pages of a sealed area too large to unseal in hard interrupt context. */
#define ND_RACE_BIG_PAGES	(4 * ND_ATOMIC_WIPE_PAGES)
#define ND_RACE_SMALL_PAGES	4

/*
 * A kprobe that holds @task, the first time it enters the probed function,
 * until @released is set or @hold_us has passed (then @expired is set).
 * The handler spins with preemption off: whatever the racing side needs
 * from this CPU waits.
 */
struct nd_race_hold {
	struct kprobe kp;
	struct task_struct *task;
	u64 hold_us;
	atomic_t held;
	atomic_t released;
	bool expired;
};

/*
 * Spin until @flag is set or @us have passed (NMI-safe clock); false if
 * the time ran out.
 */
static bool nd_race_spin(atomic_t *flag, u64 us)
{
	u64 end = ktime_get_mono_fast_ns() + us * NSEC_PER_USEC;

	while (!atomic_read(flag)) {
		if (ktime_get_mono_fast_ns() >= end)
			return false;
		cpu_relax();
	}
	return true;
}

static int nd_race_hold_pre(struct kprobe *kp, struct pt_regs *regs)
{
	struct nd_race_hold *h = container_of(kp, struct nd_race_hold, kp);

	if (current != h->task || atomic_cmpxchg(&h->held, 0, 1))
		return 0;
	h->expired = !nd_race_spin(&h->released, h->hold_us);
	return 0;
}

static int nd_race_hold_arm(struct nd_race_hold *h, void *fn, u64 hold_us)
{
	memset(h, 0, sizeof(*h));
	h->kp.addr = fn;
	h->kp.pre_handler = nd_race_hold_pre;
	h->task = current;
	h->hold_us = hold_us;
	return register_kprobe(&h->kp);
}

/**
 * nd_race_prepare() - let the kernel set up its kprobes before the baseline
 *
 * The first kprobe makes ftrace build a trampoline for kprobes, which it
 * keeps, read-only in the direct map too: made before the selftest's
 * first sweep of the direct map, it is not taken for something we left.
 */
void nd_race_prepare(void)
{
	struct kprobe kp = { .addr = (kprobe_opcode_t *)nd_tlb_flush_all };

	if (!register_kprobe(&kp))
		unregister_kprobe(&kp);
}

/* Wait, with preemption off, until @h holds its task (or time runs out). */
static void nd_race_wait_held(struct nd_race_hold *h)
{
	preempt_disable();
	nd_race_spin(&h->held, ND_RACE_WAIT_US);
	preempt_enable();
}

/* The racing side: a thread on another CPU than the caller's. */
struct nd_race {
	struct nd_race_hold hold;
	struct completion ready;
	struct completion done;
	struct irq_work work;
	u8 *p;
	int pre_write, seal_ret, write_ret;
	long frees, pending;		/* while the sealer was held */
};

/* Run @fn(@arg) in a thread bound to a CPU other than this one. */
static int nd_race_start(int (*fn)(void *), void *arg)
{
	struct task_struct *t;
	int cpu;

	cpu = cpumask_any_but(cpu_online_mask, smp_processor_id());
	if (cpu >= nr_cpu_ids)
		return -ENODEV;
	t = kthread_create(fn, arg, "nd_race/%d", cpu);
	if (IS_ERR(t))
		return PTR_ERR(t);
	kthread_bind(t, cpu);
	wake_up_process(t);
	return 0;
}

static int nd_race_second_sealer(void *arg)
{
	struct nd_race *r = arg;

	/* This CPU's TLB now holds the writable entry the seal makes stale. */
	r->pre_write = nd_probe_write(r->p, 0x11);
	complete(&r->ready);
	nd_race_wait_held(&r->hold);
	r->seal_ret = nd_vseal(r->p);
	r->write_ret = nd_probe_write(r->p, 0x22);
	atomic_set(&r->hold.released, 1);
	complete(&r->done);
	return 0;
}

/*
 * Sealing twice: the first sealer is held after its entries are written,
 * before its flush; a second nd_vseal() on another CPU, whose TLB holds
 * the writable entry, must not return before that flush: once it has
 * returned, a write through the area must fault there.
 */
int nd_test_vseal_twice(void)
{
	struct nd_race *r;
	bool failed = false;
	int ret, ret_a;

	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (nd_test(r, "no memory"))
		return ND_FAIL;
	r->p = nd_vzalloc(PAGE_SIZE);
	if (nd_test(r->p, "no memory")) {
		kfree(r);
		return ND_FAIL;
	}
	init_completion(&r->ready);
	init_completion(&r->done);
	migrate_disable();
	ret = nd_race_hold_arm(&r->hold, nd_tlb_flush_all,
			       ND_RACE_SEAL_HOLD_US);
	if (nd_test(!ret, "register_kprobe(nd_tlb_flush_all): %d", ret)) {
		failed = true;
		goto out;
	}
	ret = nd_race_start(nd_race_second_sealer, r);
	if (ret) {
		unregister_kprobe(&r->hold.kp);
		nd_skip_reason = "needs a second CPU";
		goto out;
	}
	wait_for_completion(&r->ready);
	ret_a = nd_vseal(r->p);
	wait_for_completion(&r->done);
	unregister_kprobe(&r->hold.kp);

	failed |= nd_test(r->pre_write == 0,
			  "control: the write before the seal gave %d",
			  r->pre_write);
	failed |= nd_test(atomic_read(&r->hold.held),
			  "the first seal never reached its flush");
	failed |= nd_test(ret_a == 0 && r->seal_ret == 0,
			  "nd_vseal: first %d, second %d", ret_a, r->seal_ret);
	failed |= nd_test(r->write_ret == -EFAULT,
			  "a write after the second nd_vseal() returned gave %d, want -EFAULT",
			  r->write_ret);
	failed |= nd_test(r->p[0] == 0x11, "sealed byte is %#x, want 0x11",
			  r->p[0]);
out:
	migrate_enable();
	nd_vfree(r->p);
	kfree(r);
	if (failed)
		return ND_FAIL;
	return nd_skip_reason ? ND_SKIP : ND_PASS;
}

static void nd_race_irq_free_fn(struct irq_work *work)
{
	nd_vfree(container_of(work, struct nd_race, work)->p);
}

static int nd_race_freer(void *arg)
{
	struct nd_race *r = arg;
	long frees = atomic_long_read(&nd_stats.frees);
	long pending = atomic_long_read(&nd_stats.pending_frees);

	nd_race_wait_held(&r->hold);
	r->work = IRQ_WORK_INIT_HARD(nd_race_irq_free_fn);
	irq_work_queue(&r->work);
	irq_work_sync(&r->work);
	/* Whatever the free left to the worker, done too. */
	nd_deferred_flush();
	r->frees = atomic_long_read(&nd_stats.frees) - frees;
	r->pending = atomic_long_read(&nd_stats.pending_frees) - pending;
	atomic_set(&r->hold.released, 1);
	complete(&r->done);
	return 0;
}

/*
 * A free that races a seal of the same area (the contract in the header):
 * the sealer is held inside nd_vseal(), the area is freed from hard
 * interrupt context on another CPU.  The area must not go away under the
 * seal: the free takes it out of the registry at once (a second free or a
 * seal is refused), and the wipe, restore and free follow when the seal
 * is done, with nothing leaked and the direct map whole.
 */
int nd_test_vseal_free_race(void)
{
	struct nd_probe probe = { .nr_pages = 2, .want_read = 0,
				  .want_write = ND_PROBE_NO_WRITE };
	struct nd_counts c0, c1;
	unsigned long *va = NULL;
	bool failed = false;
	struct nd_race *r;
	int ret, ret_a;

	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (nd_test(r, "no memory"))
		return ND_FAIL;
	/* __GFP_ACCOUNT: the per-page path, so the restore can be seen. */
	r->p = nd_vmalloc_prot(2 * PAGE_SIZE, GFP_KERNEL | __GFP_ACCOUNT,
			       ND_NOT_PRESENT);
	va = r->p ? nd_probe_area_vas(r->p, 2) : NULL;
	if (nd_test(r->p && va, "no memory")) {
		failed = true;
		goto out;
	}
	memset(r->p, 0x5e, 2 * PAGE_SIZE);
	init_completion(&r->done);
	nd_counts_read(&c0);
	migrate_disable();
	ret = nd_race_hold_arm(&r->hold, nd_tlb_flush_all, ND_RACE_WAIT_US);
	if (nd_test(!ret, "register_kprobe(nd_tlb_flush_all): %d", ret)) {
		migrate_enable();
		failed = true;
		goto out;
	}
	ret = nd_race_start(nd_race_freer, r);
	if (ret) {
		unregister_kprobe(&r->hold.kp);
		migrate_enable();
		nd_skip_reason = "needs a second CPU";
		goto out;
	}
	ret_a = nd_vseal(r->p);
	wait_for_completion(&r->done);
	unregister_kprobe(&r->hold.kp);
	migrate_enable();
	nd_deferred_flush();
	nd_counts_read(&c1);

	failed |= nd_test(atomic_read(&r->hold.held),
			  "the seal was never held");
	failed |= nd_test(!r->hold.expired,
			  "the freeing CPU did not run within %llu ms of the held seal",
			  ND_RACE_WAIT_US / USEC_PER_MSEC);
	failed |= nd_test(r->frees == 0 && r->pending == 0,
			  "the area was released under the seal: %ld frees, %ld deferred",
			  r->frees, r->pending);
	failed |= nd_test(ret_a == 0, "nd_vseal gave %d", ret_a);
	failed |= nd_test(c1.frees - c0.frees == 1 &&
			  c1.live_allocs == c0.live_allocs - 1 &&
			  c1.leaked_pages == c0.leaked_pages,
			  "after the seal: %ld frees, %ld live, %ld leaked",
			  c1.frees - c0.frees, c1.live_allocs - c0.live_allocs,
			  c1.leaked_pages - c0.leaked_pages);
	probe.va = va;
	failed |= nd_test(nd_probe_all_cpus(&probe, "freed under a seal"),
			  "direct map not whole after a free that raced a seal");

	/* Freed: a second free and a seal are refused. */
	nd_counts_read(&c0);
	nd_vfree(r->p);
	failed |= nd_test(nd_vseal(r->p) == -EINVAL, "sealed a freed area");
	nd_counts_read(&c1);
	failed |= nd_test(c1.bad_calls - c0.bad_calls == 2 &&
			  c1.frees == c0.frees,
			  "after the free: %ld bad calls, %ld frees",
			  c1.bad_calls - c0.bad_calls, c1.frees - c0.frees);
	r->p = NULL;
out:
	nd_vfree(r->p);
	kvfree(va);
	kfree(r);
	if (failed)
		return ND_FAIL;
	return nd_skip_reason ? ND_SKIP : ND_PASS;
}

/* Direct-map walks (lookup_address()) made in hard irq on one CPU. */
struct nd_race_walks {
	struct kprobe kp;
	struct irq_work work;
	void *p;
	int cpu;
	bool on;
	atomic_t n;
};

static int nd_race_walk_pre(struct kprobe *kp, struct pt_regs *regs)
{
	struct nd_race_walks *w = container_of(kp, struct nd_race_walks, kp);

	if (READ_ONCE(w->on) && in_hardirq() &&
	    smp_processor_id() == READ_ONCE(w->cpu))
		atomic_inc(&w->n);
	return 0;
}

static void nd_race_walk_free_fn(struct irq_work *work)
{
	struct nd_race_walks *w = container_of(work, struct nd_race_walks,
					       work);

	WRITE_ONCE(w->cpu, smp_processor_id());
	WRITE_ONCE(w->on, true);
	nd_vfree(w->p);
	WRITE_ONCE(w->on, false);
}

/* Seal @nr_pages, free them in hard irq; the walks made inline, or -1. */
static int nd_race_sealed_irq_free(struct nd_race_walks *w,
				   unsigned int nr_pages, unsigned long **va)
{
	*va = NULL;
	w->p = nd_vmalloc_prot(nr_pages * PAGE_SIZE,
			       GFP_KERNEL | __GFP_ACCOUNT, ND_NOT_PRESENT);
	if (!w->p)
		return -1;
	*va = nd_probe_area_vas(w->p, nr_pages);
	if (!*va || nd_vseal(w->p)) {
		nd_vfree(w->p);
		return -1;
	}
	atomic_set(&w->n, 0);
	w->work = IRQ_WORK_INIT_HARD(nd_race_walk_free_fn);
	irq_work_queue(&w->work);
	irq_work_sync(&w->work);
	return atomic_read(&w->n);
}

/*
 * Freeing a sealed area in hard interrupt context: a small one is unsealed
 * and wiped at once (the positive control: its walks are counted), a large
 * one costs at most ND_ATOMIC_WIPE_PAGES walks inline, the rest is the
 * worker's; afterwards both are back in the direct map.
 */
int nd_test_vfree_sealed_atomic(void)
{
	struct nd_probe probe = { .want_read = 0,
				  .want_write = ND_PROBE_NO_WRITE };
	unsigned long *small_va, *big_va;
	struct nd_race_walks *w;
	struct nd_counts c0, c1;
	bool failed = false;
	int small, big, ret;

	w = kzalloc(sizeof(*w), GFP_KERNEL);
	if (nd_test(w, "no memory"))
		return ND_FAIL;
	w->kp.symbol_name = "lookup_address";
	w->kp.pre_handler = nd_race_walk_pre;
	ret = register_kprobe(&w->kp);
	if (nd_test(!ret, "register_kprobe(lookup_address): %d", ret)) {
		kfree(w);
		return ND_FAIL;
	}
	nd_counts_read(&c0);
	small = nd_race_sealed_irq_free(w, ND_RACE_SMALL_PAGES, &small_va);
	big = nd_race_sealed_irq_free(w, ND_RACE_BIG_PAGES, &big_va);
	unregister_kprobe(&w->kp);
	nd_deferred_flush();
	nd_counts_read(&c1);

	failed |= nd_test(small == ND_RACE_SMALL_PAGES,
			  "control: %d walks in hard irq for %u sealed pages, want %u",
			  small, ND_RACE_SMALL_PAGES, ND_RACE_SMALL_PAGES);
	failed |= nd_test(big >= 0 && big <= ND_ATOMIC_WIPE_PAGES,
			  "%d walks in hard irq for %u sealed pages, want at most %u",
			  big, ND_RACE_BIG_PAGES, ND_ATOMIC_WIPE_PAGES);
	failed |= nd_test(c1.deferred_frees - c0.deferred_frees == 2 &&
			  c1.live_allocs == c0.live_allocs &&
			  c1.leaked_pages == c0.leaked_pages,
			  "%ld deferred frees, %ld live, %ld leaked",
			  c1.deferred_frees - c0.deferred_frees,
			  c1.live_allocs - c0.live_allocs,
			  c1.leaked_pages - c0.leaked_pages);
	if (small_va) {
		probe.va = small_va;
		probe.nr_pages = ND_RACE_SMALL_PAGES;
		failed |= nd_test(nd_probe_all_cpus(&probe, "small sealed"),
				  "small sealed area not restored");
	}
	if (big_va) {
		probe.va = big_va;
		probe.nr_pages = ND_RACE_BIG_PAGES;
		failed |= nd_test(nd_probe_all_cpus(&probe, "large sealed"),
				  "large sealed area not restored");
	}
	kvfree(small_va);
	kvfree(big_va);
	kfree(w);
	return failed ? ND_FAIL : ND_PASS;
}

/* The address vmap() returned to the task of @hold, and a stale call. */
struct nd_race_slab {
	struct nd_race_hold hold;
	struct kretprobe vmap_rp;
	struct completion done;
	void *addr;
	int seal_ret;
};

static int nd_race_vmap_ret(struct kretprobe_instance *ri,
			    struct pt_regs *regs)
{
	struct nd_race_slab *s = container_of(get_kretprobe(ri),
					      struct nd_race_slab, vmap_rp);

	if (current == s->hold.task)
		WRITE_ONCE(s->addr, (void *)regs_return_value(regs));
	return 0;
}

static int nd_race_stale_sealer(void *arg)
{
	struct nd_race_slab *s = arg;

	nd_race_wait_held(&s->hold);
	s->seal_ret = READ_ONCE(s->addr) ? nd_vseal(READ_ONCE(s->addr)) : 1;
	atomic_set(&s->hold.released, 1);
	complete(&s->done);
	return 0;
}

/*
 * A page nd_kmalloc() takes is refused to consumers' nd_vfree() and
 * nd_vseal() from the moment it is registered: a stale call on a reused
 * address must never free or seal it.  The grow is held right after the
 * registration (at nd_gate_leave()) while another CPU seals the page's
 * address: that must be refused, and the object must stay writable.
 */
int nd_test_kmalloc_page_internal(void)
{
	const size_t size = PAGE_SIZE / 2;
	struct nd_race_slab *s;
	bool failed = false;
	int ret, wret = 0;
	u8 *obj = NULL;

	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (nd_test(s, "no memory"))
		return ND_FAIL;
	init_completion(&s->done);
	/* No partial page of this class: the call below takes a new one. */
	nd_kmalloc_release_now();
	migrate_disable();
	ret = nd_race_hold_arm(&s->hold, nd_gate_leave, ND_RACE_WAIT_US);
	if (nd_test(!ret, "register_kprobe(nd_gate_leave): %d", ret)) {
		failed = true;
		goto out;
	}
	s->vmap_rp.kp.symbol_name = "vmap";
	s->vmap_rp.handler = nd_race_vmap_ret;
	ret = register_kretprobe(&s->vmap_rp);
	if (nd_test(!ret, "register_kretprobe(vmap): %d", ret)) {
		unregister_kprobe(&s->hold.kp);
		failed = true;
		goto out;
	}
	ret = nd_race_start(nd_race_stale_sealer, s);
	if (ret) {
		nd_skip_reason = "needs a second CPU";
	} else {
		obj = nd_kmalloc(size, GFP_KERNEL);
		wait_for_completion(&s->done);
	}
	unregister_kretprobe(&s->vmap_rp);
	unregister_kprobe(&s->hold.kp);
	if (ret)
		goto out;

	failed |= nd_test(obj && s->addr &&
			  (unsigned long)obj >> PAGE_SHIFT ==
			  (unsigned long)s->addr >> PAGE_SHIFT &&
			  atomic_read(&s->hold.held) && !s->hold.expired,
			  "control: object %p, new page %p, held %d, expired %d",
			  obj, s->addr, atomic_read(&s->hold.held),
			  s->hold.expired);
	failed |= nd_test(s->seal_ret == -EINVAL,
			  "a stale nd_vseal() of the new page gave %d, want -EINVAL",
			  s->seal_ret);
	if (obj) {
		wret = nd_probe_write(obj, 0);
		failed |= nd_test(wret == 0,
				  "the new object is not writable: %d", wret);
	}
out:
	migrate_enable();
	/* A sealed page's wipe would fault: module exit unseals it first. */
	if (!wret)
		nd_kfree(obj);
	nd_kmalloc_release_now();
	kfree(s);
	if (failed)
		return ND_FAIL;
	return nd_skip_reason ? ND_SKIP : ND_PASS;
}
