// SPDX-License-Identifier: GPL-2.0
/*
 * snapshot_probe MODULE: user-space hibernation that meets the module only
 * after PM_HIBERNATION_PREPARE.  Opening /dev/snapshot for reading sends
 * PREPARE; then the tasks are frozen, and only then is MODULE loaded here
 * with selftest=hold (a live allocation holding a marker, which the module
 * logs as "hold: marker <seed>").  Creating the image must then be refused,
 * or the image read back must not hold the marker.
 *
 * Exit: 0 refused, 1 the image holds no marker (made, but clean), 3 the
 * marker is in the image, 2 the probe itself failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/suspend_ioctls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MARKER_WORDS	16
#define CHUNK		(1024 * 1024)

/*
 * The pattern selftest/demo.c's hold writes after the secret, stored here
 * inverted: this process's memory is in the image too.
 */
static void marker_of(unsigned int seed, unsigned int *inv)
{
	int i;

	for (i = 0; i < MARKER_WORDS; i++)
		inv[i] = ~((seed + (unsigned int)i) * 2654435761u ^ 0x5a5aa5a5u);
}

static int find_seed(unsigned int *seed)
{
	static char log[1 << 20];
	const char *key = "hold: marker ";
	char *p;
	int n;

	n = klogctl(3, log, sizeof(log) - 1);	/* SYSLOG_ACTION_READ_ALL */
	if (n < 0)
		return -1;
	log[n] = 0;
	p = strstr(log, key);
	if (!p)
		return -1;
	*seed = strtoul(p + strlen(key), NULL, 16);
	return 0;
}

static int is_marker(const unsigned char *b, const unsigned char *inv, size_t len)
{
	size_t j;

	for (j = 0; j < len; j++)
		if ((b[j] ^ inv[j]) != 0xff)
			return 0;
	return 1;
}

/* Occurrences of the marker in what the snapshot device reads out. */
static long scan_image(int fd, const unsigned int *inv, long *bytes)
{
	static unsigned char buf[CHUNK + sizeof(unsigned int) * MARKER_WORDS];
	size_t mlen = sizeof(unsigned int) * MARKER_WORDS, keep = 0, total, i;
	long hits = 0;
	ssize_t n;

	*bytes = 0;
	while ((n = read(fd, buf + keep, CHUNK)) > 0) {
		*bytes += n;
		total = keep + n;
		for (i = 0; i + mlen <= total; i++)
			if (is_marker(buf + i, (const unsigned char *)inv, mlen))
				hits++;
		/* A marker across two reads: keep the tail. */
		keep = total < mlen - 1 ? total : mlen - 1;
		memmove(buf, buf + total - keep, keep);
	}
	return n < 0 ? -1 : hits;
}

int main(int argc, char **argv)
{
	unsigned int seed, inv[MARKER_WORDS];
	int snap, mod, in_suspend = 0;
	long hits, bytes;

	if (argc != 2) {
		fprintf(stderr, "usage: snapshot_probe MODULE.ko\n");
		return 2;
	}
	snap = open("/dev/snapshot", O_RDONLY);
	if (snap < 0) {
		perror("open /dev/snapshot");
		return 2;
	}
	if (ioctl(snap, SNAPSHOT_FREEZE, 0)) {
		perror("SNAPSHOT_FREEZE");
		return 2;
	}
	mod = open(argv[1], O_RDONLY);
	if (mod < 0 || syscall(SYS_finit_module, mod, "selftest=hold", 0)) {
		perror("finit_module selftest=hold");
		return 2;
	}
	if (find_seed(&seed)) {
		fprintf(stderr, "no 'hold: marker' in the kernel log\n");
		return 2;
	}
	marker_of(seed, inv);
	if (ioctl(snap, SNAPSHOT_CREATE_IMAGE, &in_suspend)) {
		printf("snapshot_probe: creating the image refused: %s\n", strerror(errno));
		ioctl(snap, SNAPSHOT_UNFREEZE, 0);
		return errno == EBUSY ? 0 : 2;
	}
	hits = scan_image(snap, inv, &bytes);
	printf("snapshot_probe: image of %ld bytes, marker %08x found %ld times\n",
	       bytes, seed, hits);
	ioctl(snap, SNAPSHOT_UNFREEZE, 0);
	close(snap);
	return hits < 0 ? 2 : hits ? 3 : 1;
}
