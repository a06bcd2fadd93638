// SPDX-License-Identifier: GPL-2.0
/*
 * The counters every part of nodirect_alloc adds to, and the countdowns
 * through which a test makes one step fail.  Nothing here calls out, so
 * the other files depend on it and it on none of them.
 */

#include <linux/atomic.h>

#include "nd_internal.h"

struct nd_stats nd_stats;

/* Countdown per site: the call that brings it to zero fails. */
static atomic_t nd_fail_countdown[ND_FAIL_NR];

/* What the memory allocator would have been asked at each site. */
static gfp_t nd_fail_gfp_seen[ND_FAIL_NR];

/**
 * nd_fail_arm() - make the @nth next pass through @site fail
 * @site: where.
 * @nth: 1 for the next pass, 0 to disarm.
 */
void nd_fail_arm(enum nd_fail_site site, unsigned int nth)
{
	atomic_set(&nd_fail_countdown[site], nth);
}

/**
 * nd_fail() - whether this pass through @site is to fail
 * @site: where.
 *
 * Also records the allocation context of this pass, for nd_fail_gfp().
 *
 * Return: true once, when the countdown armed by nd_fail_arm() runs out.
 */
bool nd_fail(enum nd_fail_site site)
{
	return nd_fail_as(site, GFP_KERNEL);
}

/**
 * nd_fail_as() - nd_fail() at a site that allocates with @gfp
 * @site: where.
 * @gfp: the flags the allocation there is made with.
 *
 * Return: as nd_fail(); nd_fail_gfp() then tells @gfp in the caller's
 * memalloc scope.
 */
bool nd_fail_as(enum nd_fail_site site, gfp_t gfp)
{
	WRITE_ONCE(nd_fail_gfp_seen[site], current_gfp_context(gfp));
	return atomic_read(&nd_fail_countdown[site]) > 0 &&
	       atomic_dec_and_test(&nd_fail_countdown[site]);
}

/**
 * nd_fail_gfp() - the flags of the last pass through @site
 * @site: where.
 *
 * Return: what the site allocates with (GFP_KERNEL, or what it told
 * nd_fail_as()), as the caller's memalloc_no{fs,io} scope reduced it.
 */
gfp_t nd_fail_gfp(enum nd_fail_site site)
{
	return READ_ONCE(nd_fail_gfp_seen[site]);
}
