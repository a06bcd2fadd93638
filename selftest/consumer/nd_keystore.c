// SPDX-License-Identifier: GPL-2.0
/*
 * nd_keystore: a sample user of nodirect_alloc, built only against its
 * header and its Module.symvers. It keeps one SipHash key in nd_kzalloc()
 * memory (16 bytes of a shared hidden page) and offers it through sysfs, in
 * /sys/kernel/nd_keystore/:
 *
 *   key     write 32 hex digits to set the key, or "wipe" to zero it
 *   digest  write a message, then read its SipHash-2-4 under the key
 *           (16 hex digits)
 *   hidden  "1" while reading the key through the direct map faults
 *   sealed  "1" while a second key, set once at load in nd_vmalloc()
 *           memory and sealed with nd_vseal(), reads back intact through
 *           its own address and a write there faults
 *
 * It proves at load, and after every new key, that the key cannot be read
 * through the direct map, and refuses to go on if it can.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#ifdef NK_HAVE_HEX_H
#include <linux/hex.h>
#endif
#include <linux/kobject.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/random.h>
#include <linux/siphash.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include <nodirect_alloc.h>

static siphash_key_t *nk_key;	/* nd_kzalloc() memory: no direct-map alias */
static siphash_key_t *nk_sealed;	/* nd_vmalloc(), then nd_vseal() */
static u64 nk_sealed_check;		/* its first word, as set at load */
static u64 nk_digest;
static DEFINE_MUTEX(nk_lock);	/* guards the key and the digest */
static struct kobject *nk_kobj;

/*
 * Read the key through the direct-map address of its page. Only -EFAULT
 * proves a fault (-ERANGE means nothing was tried). Returns 0 when hidden.
 */
static int nk_check_hidden(void)
{
	struct page *page = vmalloc_to_page(nk_key);
	siphash_key_t copy;
	long ret;

	if (!page)
		return -ENXIO;
	ret = copy_from_kernel_nofault(&copy, page_address(page) + offset_in_page(nk_key),
				       sizeof(copy));
	memzero_explicit(&copy, sizeof(copy));
	if (ret == -EFAULT)
		return 0;
	pr_err("the key is readable through the direct map (%ld)\n", ret);
	return ret ? (int)ret : -EIO;
}

/*
 * The sealed key reads back as it was set, and a write through its own
 * address faults (the byte written is the one already there).
 */
static int nk_check_sealed(void)
{
	u8 byte = READ_ONCE(*(u8 *)nk_sealed);

	if (nk_sealed->key[0] != nk_sealed_check)
		return -EIO;
	pagefault_disable();
	__put_kernel_nofault((u8 *)nk_sealed, &byte, u8, fault);
	pagefault_enable();
	pr_err("the sealed key is writable\n");
	return -EIO;
fault:
	pagefault_enable();
	return 0;
}

static ssize_t sealed_show(struct kobject *kobj, struct kobj_attribute *attr,
			   char *buf)
{
	return sysfs_emit(buf, "%d\n", !nk_check_sealed());
}

static ssize_t key_store(struct kobject *kobj, struct kobj_attribute *attr,
			 const char *buf, size_t count)
{
	size_t len = count;
	int err = 0;

	if (len && buf[len - 1] == '\n')
		len--;
	mutex_lock(&nk_lock);
	if (sysfs_streq(buf, "wipe")) {
		memzero_explicit(nk_key, sizeof(*nk_key));
	} else if (len != 2 * sizeof(*nk_key) ||
		   hex2bin((u8 *)nk_key, buf, sizeof(*nk_key))) {
		memzero_explicit(nk_key, sizeof(*nk_key));
		err = -EINVAL;
	} else {
		err = nk_check_hidden();
	}
	mutex_unlock(&nk_lock);
	return err ? err : count;
}

static ssize_t digest_show(struct kobject *kobj, struct kobj_attribute *attr,
			   char *buf)
{
	u64 digest;

	mutex_lock(&nk_lock);
	digest = nk_digest;
	mutex_unlock(&nk_lock);
	return sysfs_emit(buf, "%016llx\n", digest);
}

static ssize_t digest_store(struct kobject *kobj, struct kobj_attribute *attr,
			    const char *buf, size_t count)
{
	mutex_lock(&nk_lock);
	nk_digest = siphash(buf, count, nk_key);
	mutex_unlock(&nk_lock);
	return count;
}

static ssize_t hidden_show(struct kobject *kobj, struct kobj_attribute *attr,
			   char *buf)
{
	int err;

	mutex_lock(&nk_lock);
	err = nk_check_hidden();
	mutex_unlock(&nk_lock);
	return sysfs_emit(buf, "%d\n", !err);
}

static struct kobj_attribute key_attr = __ATTR_WO(key);
static struct kobj_attribute digest_attr = __ATTR(digest, 0600, digest_show, digest_store);
static struct kobj_attribute hidden_attr = __ATTR_RO(hidden);
static struct kobj_attribute sealed_attr = __ATTR_RO(sealed);

static struct attribute *nk_attrs[] = {
	&key_attr.attr,
	&digest_attr.attr,
	&hidden_attr.attr,
	&sealed_attr.attr,
	NULL,
};

static const struct attribute_group nk_group = {
	.attrs = nk_attrs,
};

static int __init nk_init(void)
{
	int err;

	nk_key = nd_kzalloc(sizeof(*nk_key), GFP_KERNEL);
	if (!nk_key)
		return -ENOMEM;
	err = nk_check_hidden();
	if (err)
		goto free_key;
	nk_sealed = nd_vmalloc(sizeof(*nk_sealed));
	if (!nk_sealed) {
		err = -ENOMEM;
		goto free_key;
	}
	get_random_bytes(nk_sealed, sizeof(*nk_sealed));
	nk_sealed_check = nk_sealed->key[0];
	err = nd_vseal(nk_sealed);
	if (!err)
		err = nk_check_sealed();
	if (err)
		goto free_sealed;
	nk_kobj = kobject_create_and_add("nd_keystore", kernel_kobj);
	if (!nk_kobj) {
		err = -ENOMEM;
		goto free_key;
	}
	err = sysfs_create_group(nk_kobj, &nk_group);
	if (err)
		goto put_kobj;
	pr_info("key held outside the direct map; a second one sealed\n");
	return 0;

put_kobj:
	kobject_put(nk_kobj);
free_sealed:
	nd_vfree(nk_sealed);
free_key:
	nd_kfree(nk_key);
	return err;
}

static void __exit nk_exit(void)
{
	kobject_put(nk_kobj);
	/* nd_kfree() wipes too; the key must not depend on it. */
	memzero_explicit(nk_key, sizeof(*nk_key));
	nd_kfree(nk_key);
	/* Sealed: only nd_vfree() can wipe it, and does. */
	nd_vfree(nk_sealed);
	pr_info("keys wiped and freed\n");
}

module_init(nk_init);
module_exit(nk_exit);

MODULE_DESCRIPTION("Sample nodirect_alloc user: a SipHash key outside the direct map");
MODULE_LICENSE("GPL");
