/*
 * test-snapshot-enospc.c: a snapshot that does not fit. A small tmpfs
 * (mounted here; skipped when mount is not permitted) holds one valid
 * snapshot; saving a bigger one next to it, and replacing it with a
 * bigger one, fail with -ENOSPC and a clear message, leave no partial
 * directory, and the older snapshot still opens, verifies and restores.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <sys/mount.h>
#include <unistd.h>

#include "fake-handlers.h"
#include "migration/registry.h"
#include "migration/snapshot-load.h"
#include "migration/snapshot.h"
#include "vmm/mem.h"

#define MEM_SIZE (32ULL << 20)
/* tmpfs size: room for the small snapshot, not for the big one. */
#define FS_SIZE "8m"

static int entries(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	while (d && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	if (d)
		closedir(d);
	return n;
}

static void test_snapshot__enospc(void **state)
{
	char root[] = "/tmp/ferry-enospc-XXXXXX";
	char old[64], big[64], err[256] = "";
	struct fake_uart uart = { .live = { .lcr = 3 } };
	struct guest_mem *mem, *back;
	struct migration *mig;
	struct snapshot *s;
	int ret;

	assert_non_null(mkdtemp(root));
	if (mount("tmpfs", root, "tmpfs", 0, "size=" FS_SIZE) < 0) {
		rmdir(root);
		skip();
	}
	snprintf(old, sizeof(old), "%s/old", root);
	snprintf(big, sizeof(big), "%s/big", root);
	assert_int_equal(mem__create(MEM_SIZE, &mem), 0);
	memset(mem->base, 0x5a, 1 << 20);
	assert_int_equal(migration__create(&mig), 0);
	assert_int_equal(migration__register(mig, "serial0", &fake_uart_ops,
					     &uart), 0);
	migration__set_memory(mig, mem);
	if (snapshot__save(mig, old, NULL, err, sizeof(err)))
		fail_msg("small snapshot: %s", err);

	/* 16 MiB of data: cannot fit in 8 MiB. */
	memset(mem->base, 0xa5, 16 << 20);
	ret = snapshot__save(mig, big, NULL, err, sizeof(err));
	print_message("  %s\n", err);
	assert_int_equal(ret, -ENOSPC);
	assert_non_null(strstr(err, "No space left on device"));
	assert_int_equal(entries(root), 1); /* only "old" */

	ret = snapshot__save(mig, old, &(struct snapshot_save_opts){ .replace = true },
			     err, sizeof(err));
	assert_int_equal(ret, -ENOSPC);
	assert_int_equal(entries(root), 1);

	/* The older snapshot is untouched and restores. */
	assert_int_equal(snapshot__open(old, &s, err, sizeof(err)), 0);
	assert_int_equal(snapshot__verify_memory(s, err, sizeof(err)), 0);
	assert_int_equal(snapshot__load_memory(s, MEM_SIZE, SNAPSHOT_RESTORE_COPY,
					       &back, err, sizeof(err)), 0);
	assert_int_equal(back->base[0], 0x5a);
	assert_int_equal(back->base[(1 << 20) - 1], 0x5a);
	assert_int_equal(back->base[1 << 20], 0);
	assert_int_equal(snapshot__restore(s, mig, err, sizeof(err)), 0);
	assert_int_equal(uart.applies, 1);
	snapshot__close(s);
	mem__destroy(back);

	migration__destroy(mig);
	mem__destroy(mem);
	assert_int_equal(umount(root), 0);
	assert_int_equal(rmdir(root), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_snapshot__enospc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
