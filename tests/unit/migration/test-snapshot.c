/*
 * test-snapshot.c: snapshot directories end to end with test handlers:
 * save -> open -> memory (copy and lazy) -> restore round trip; replace
 * and refuse-to-overwrite rules; a failed save leaves nothing; every
 * kind of damage (manifest, version, checksums, truncation, sizes,
 * oversize, corrupt state tree) rejected at open with a clear message;
 * handler mismatches and rejected state applying nothing; inspect; and
 * with /dev/kvm a real vCPU + irqchip snapshot restored into a new VM.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fake-handlers.h"
#include "kvm-helper.h"
#include "migration/crc32c.h"
#include "migration/registry.h"
#include "migration/snapshot-load.h"
#include "migration/snapshot.h"
#include "vmm/irqchip-state-x86_64.h"
#include "vmm/mem.h"
#include "vmm/vcpu-state-x86_64.h"

#define MEM_SIZE (32ULL << 20)
#define DEV_DATA (3u * 1024 * 1024 + 123)

struct side {
	struct migration *mig;
	struct fake_dev dev;
	struct fake_uart uart;
};

struct fx {
	char root[64];
	char snap[128];
	struct guest_mem *mem;
	struct side src;
};

static void side_init(struct side *s, uint32_t len, unsigned int seed,
		      const struct mig_handler_ops *dev_ops)
{
	fake_dev_init(&s->dev, len, seed);
	memset(&s->uart, 0, sizeof(s->uart));
	assert_int_equal(migration__create(&s->mig), 0);
	assert_int_equal(migration__register(s->mig, "dev0", dev_ops, &s->dev), 0);
	assert_int_equal(migration__register(s->mig, "serial0", &fake_uart_ops,
					     &s->uart), 0);
}

static void side_exit(struct side *s)
{
	migration__destroy(s->mig);
	free(s->dev.data);
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	strcpy(f->root, "/tmp/ferry-snap-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	snprintf(f->snap, sizeof(f->snap), "%s/snap", f->root);
	assert_int_equal(mem__create(MEM_SIZE, &f->mem), 0);
	memset(f->mem->base + 8192, 0x11, 3 * 4096);
	memset(f->mem->base + (5ULL << 20) + 100, 0x22, 10000);
	memcpy(f->mem->base + MEM_SIZE - 8, "lastpage", 8);
	side_init(&f->src, DEV_DATA, 3, &fake_dev_ops);
	f->src.uart.live = (struct serial_state){ .ier = 1, .lcr = 3, .mcr = 8,
						  .scr = 0x42, .rx_count = 3 };
	memcpy(f->src.uart.live.rx, "abc", 3);
	migration__set_memory(f->src.mig, f->mem);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	side_exit(&f->src);
	mem__destroy(f->mem);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void save_ok(struct fx *f, const char *dir, bool replace)
{
	struct snapshot_save_opts o = { .config_json = "{\"mem\": \"32M\"}\n",
					.replace = replace, .threads = 2 };
	char err[256] = "";

	if (snapshot__save(f->src.mig, dir, &o, err, sizeof(err)))
		fail_msg("save failed: %s", err);
}

/* Entries in @dir other than "." and "..". */
static int count_entries(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static uint64_t progress_done, progress_total;

static void on_progress(void *o, uint64_t done, uint64_t total)
{
	assert_true(done >= progress_done);
	progress_done = done;
	progress_total = total;
}

static void restore_side(struct fx *f, struct side *dst,
			 enum snapshot_restore_mode mode)
{
	struct guest_mem *mem = NULL;
	struct snapshot *s;
	char err[256] = "";

	if (snapshot__open(f->snap, &s, err, sizeof(err)))
		fail_msg("open: %s", err);
	assert_int_equal(snapshot__mem_size(s), MEM_SIZE);
	assert_string_equal(snapshot__config_json(s), "{\"mem\": \"32M\"}\n");
	if (snapshot__load_memory(s, MEM_SIZE, mode, &mem, err, sizeof(err)))
		fail_msg("memory: %s", err);
	assert_int_equal(mem->fd < 0, mode == SNAPSHOT_RESTORE_LAZY);
	assert_memory_equal(mem->base, f->mem->base, MEM_SIZE);
	if (snapshot__restore(s, dst->mig, err, sizeof(err)))
		fail_msg("restore: %s", err);
	snapshot__close(s);
	mem__destroy(mem);
}

static void test_snapshot__round_trip(void **state)
{
	struct snapshot_save_opts o = { .progress = on_progress, .threads = 1 };
	struct fx *f = *state;
	struct side dst;
	char err[256];
	int mode;

	progress_done = progress_total = 0;
	assert_int_equal(snapshot__save(f->src.mig, f->snap, &o, err,
					sizeof(err)), 0);
	assert_int_equal(progress_total, MEM_SIZE + DEV_DATA);
	assert_int_equal(progress_done, MEM_SIZE + DEV_DATA);
	assert_int_equal(f->src.dev.setups, 1);
	assert_int_equal(f->src.dev.completes, 1);
	assert_int_equal(f->src.dev.cleanups, 1);
	/* Only the snapshot: no temporary directory left behind. */
	assert_int_equal(count_entries(f->root), 1);
	assert_int_equal(snapshot__save(f->src.mig, f->snap, &o, err,
					sizeof(err)), -EEXIST);
	assert_int_equal(snapshot__inspect(f->snap, stdout, err, sizeof(err)), 0);

	save_ok(f, f->snap, true);
	for (mode = SNAPSHOT_RESTORE_LAZY; mode <= SNAPSHOT_RESTORE_COPY; mode++) {
		side_init(&dst, 0, 9, &fake_dev_ops);
		restore_side(f, &dst, (enum snapshot_restore_mode)mode);
		assert_int_equal(dst.dev.reg_a, f->src.dev.reg_a);
		assert_true(dst.dev.reg_b == f->src.dev.reg_b);
		assert_int_equal(dst.dev.data_len, DEV_DATA);
		assert_memory_equal(dst.dev.data, f->src.dev.data, DEV_DATA);
		assert_int_equal(dst.dev.load_setups, 1);
		assert_int_equal(dst.dev.applies, 1);
		assert_int_equal(dst.dev.load_cleanups, 1);
		assert_memory_equal(&dst.uart.live, &f->src.uart.live,
				    sizeof(dst.uart.live));
		side_exit(&dst);
	}
}

static void test_snapshot__replace_rules(void **state)
{
	struct snapshot_save_opts o = { .replace = true };
	struct fx *f = *state;
	struct snapshot *s;
	char err[256], path[192];
	int fd;

	save_ok(f, f->snap, false);
	/* Replace: the new content is there, the old directory is gone. */
	f->src.dev.reg_a = 0x12345678;
	save_ok(f, f->snap, true);
	assert_int_equal(count_entries(f->root), 1);
	assert_int_equal(snapshot__open(f->snap, &s, err, sizeof(err)), 0);
	snapshot__close(s);

	/* Never replace something that is not a snapshot. */
	snprintf(path, sizeof(path), "%s/notsnap", f->root);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/notsnap/precious", f->root);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	close(fd);
	snprintf(path, sizeof(path), "%s/notsnap", f->root);
	assert_int_equal(snapshot__save(f->src.mig, path, &o, err, sizeof(err)),
			 -EEXIST);
	assert_non_null(strstr(err, "not a ferry snapshot"));
	snprintf(path, sizeof(path), "%s/notsnap/precious", f->root);
	assert_int_equal(access(path, F_OK), 0);

	/* No memory registered / a missing parent. */
	assert_int_equal(snapshot__save(f->src.mig, "/nonexistent/x/snap", NULL,
					err, sizeof(err)), -ENOENT);
}

static void test_snapshot__failed_save_leaves_nothing(void **state)
{
	struct fx *f = *state;
	struct snapshot *s;
	char err[256];

	save_ok(f, f->snap, false);
	f->src.dev.fail_save_complete = -EIO;
	f->src.dev.cleanups = 0;
	assert_int_equal(snapshot__save(f->src.mig, f->snap,
					&(struct snapshot_save_opts){ .replace = true },
					err, sizeof(err)), -EIO);
	assert_non_null(strstr(err, "dev0: saving device data failed"));
	assert_int_equal(f->src.dev.cleanups, 1);
	/* The old snapshot is intact and nothing else is left. */
	assert_int_equal(count_entries(f->root), 1);
	assert_int_equal(snapshot__open(f->snap, &s, err, sizeof(err)), 0);
	assert_int_equal(snapshot__verify_memory(s, err, sizeof(err)), 0);
	snapshot__close(s);
}

/* ---- damage ---- */

static void path_of(struct fx *f, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", f->snap, name);
}

static void flip_byte(struct fx *f, const char *name, off_t off)
{
	char path[256];
	uint8_t b;
	int fd;

	path_of(f, name, path, sizeof(path));
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &b, 1, off), 1);
	b ^= 0x40;
	assert_int_equal(pwrite(fd, &b, 1, off), 1);
	close(fd);
}

static void truncate_by(struct fx *f, const char *name, off_t n)
{
	char path[256];
	struct stat st;

	path_of(f, name, path, sizeof(path));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(truncate(path, st.st_size - n), 0);
}

/* Replace @from by @to in the MANIFEST and re-seal its checksum. */
static void edit_manifest(struct fx *f, const char *from, const char *to)
{
	char path[256], text[4096], out[4096], *p, *end;
	size_t len;
	FILE *fp;

	path_of(f, "MANIFEST", path, sizeof(path));
	fp = fopen(path, "r");
	len = fread(text, 1, sizeof(text) - 1, fp);
	fclose(fp);
	text[len] = '\0';
	p = strstr(text, from);
	assert_non_null(p);
	snprintf(out, sizeof(out), "%.*s%s%s", (int)(p - text), text, to,
		 p + strlen(from));
	end = strstr(out, "end crc32c ");
	assert_non_null(end);
	snprintf(end, sizeof(out) - (size_t)(end - out), "end crc32c %08x\n",
		 crc32c__update(CRC32C_INIT, out, (size_t)(end - out)));
	fp = fopen(path, "w");
	fputs(out, fp);
	fclose(fp);
}

/* Open must fail with @ret and an error containing @msg. */
static void expect_open_error(struct fx *f, int ret, const char *msg)
{
	struct snapshot *s = NULL;
	char err[256] = "";

	assert_int_equal(snapshot__open(f->snap, &s, err, sizeof(err)), ret);
	assert_null(s);
	if (!strstr(err, msg))
		fail_msg("error '%s' does not mention '%s'", err, msg);
	print_message("  rejected: %s\n", err);
}

/* A new, undamaged snapshot (the damaged one may not even look like one). */
static void fresh(struct fx *f)
{
	char cmd[192];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->snap);
	assert_int_equal(system(cmd), 0);
	save_ok(f, f->snap, false);
}

static void test_snapshot__rejects_damage(void **state)
{
	struct fx *f = *state;
	struct guest_mem *mem;
	struct snapshot *s;
	char err[256], path[256], line[64];
	int fd;

	fresh(f);
	flip_byte(f, "MANIFEST", 30);
	expect_open_error(f, -EINVAL, "MANIFEST: checksum mismatch");

	fresh(f);
	truncate_by(f, "MANIFEST", 10);
	expect_open_error(f, -EINVAL, "MANIFEST");

	fresh(f);
	edit_manifest(f, "FERRYSNP 1", "FERRYSNP 2");
	expect_open_error(f, -EINVAL,
			  "unsupported snapshot format version 2 (this ferry reads version 1)");

	fresh(f);
	edit_manifest(f, "FERRYSNP 1", "QEMU");
	expect_open_error(f, -EINVAL, "not a ferry snapshot");

	fresh(f);
	edit_manifest(f, "arch x86_64\n", "arch x86_64\nflavour vanilla\n");
	expect_open_error(f, -EINVAL, "line 3: unknown or malformed entry 'flavour'");

	fresh(f);
	flip_byte(f, "state.dtb", 200);
	expect_open_error(f, -EINVAL, "state.dtb: checksum mismatch");

	fresh(f);
	truncate_by(f, "state.dtb", 1);
	expect_open_error(f, -EINVAL, "state.dtb: ");
	expect_open_error(f, -EINVAL, "MANIFEST says");

	fresh(f);
	flip_byte(f, "devices/dev0.bin", 1000000);
	expect_open_error(f, -EINVAL, "devices/dev0.bin: checksum mismatch");

	fresh(f);
	truncate_by(f, "memory.img", 4096);
	expect_open_error(f, -EINVAL, "memory.img: 33550336 bytes, MANIFEST says 33554432");

	/* Oversized parts are refused before reading them. */
	fresh(f);
	path_of(f, "MANIFEST", path, sizeof(path));
	fd = open(path, O_WRONLY | O_APPEND);
	assert_int_equal(ftruncate(fd, 70000), 0);
	close(fd);
	expect_open_error(f, -EFBIG, "MANIFEST is 70000 bytes, over the limit");

	fresh(f);
	{
		struct stat st;

		path_of(f, "state.dtb", path, sizeof(path));
		assert_int_equal(stat(path, &st), 0);
		snprintf(line, sizeof(line), "part state.dtb %lld ", (long long)st.st_size);
		edit_manifest(f, line, "part state.dtb 999999999 ");
	}
	expect_open_error(f, -EFBIG, "state.dtb: 999999999 bytes exceeds the limit");

	/* A structurally corrupt tree with a matching checksum. */
	fresh(f);
	{
		char crcline[64], newline[64], buf[65536];
		ssize_t n;

		path_of(f, "state.dtb", path, sizeof(path));
		fd = open(path, O_RDWR);
		n = read(fd, buf, sizeof(buf));
		assert_true(n > 100);
		snprintf(crcline, sizeof(crcline), "%lld crc32c %08x", (long long)n,
			 crc32c__update(CRC32C_INIT, buf, (size_t)n));
		buf[0x40 + 3] = 0x7; /* first structure token -> garbage */
		assert_int_equal(pwrite(fd, buf, (size_t)n, 0), n);
		close(fd);
		snprintf(newline, sizeof(newline), "%lld crc32c %08x", (long long)n,
			 crc32c__update(CRC32C_INIT, buf, (size_t)n));
		edit_manifest(f, crcline, newline);
	}
	expect_open_error(f, -EINVAL, "state.dtb: state: corrupt blob");

	/* A memory image whose data changed: found by copy and verify. */
	fresh(f);
	flip_byte(f, "memory.img", 8192 + 5);
	assert_int_equal(snapshot__open(f->snap, &s, err, sizeof(err)), 0);
	assert_int_equal(snapshot__load_memory(s, MEM_SIZE, SNAPSHOT_RESTORE_COPY,
					       &mem, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "checksum mismatch in chunk 0"));
	assert_int_equal(snapshot__verify_memory(s, err, sizeof(err)), -EINVAL);
	/* Wrong size against the configuration. */
	assert_int_equal(snapshot__load_memory(s, 2 * MEM_SIZE, SNAPSHOT_RESTORE_LAZY,
					       &mem, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "snapshot has 32 MiB of RAM, the configuration 64 MiB"));
	snapshot__close(s);
	assert_int_equal(snapshot__inspect(f->snap, stdout, err, sizeof(err)), -EINVAL);

	/* No MANIFEST: an interrupted save or not a snapshot. */
	fresh(f);
	path_of(f, "MANIFEST", path, sizeof(path));
	unlink(path);
	expect_open_error(f, -ENOENT, "no MANIFEST");
}

static void expect_restore_error(struct fx *f, struct side *dst, const char *msg)
{
	struct snapshot *s;
	char err[256] = "";

	assert_int_equal(snapshot__open(f->snap, &s, err, sizeof(err)), 0);
	assert_int_equal(snapshot__restore(s, dst->mig, err, sizeof(err)), -EINVAL);
	if (!strstr(err, msg))
		fail_msg("error '%s' does not mention '%s'", err, msg);
	print_message("  rejected: %s\n", err);
	/* Phase 1 failed: nothing was set up or applied. */
	assert_int_equal(dst->dev.load_setups, 0);
	assert_int_equal(dst->dev.applies, 0);
	assert_int_equal(dst->uart.applies, 0);
	snapshot__close(s);
}

static void test_snapshot__restore_checks_before_applying(void **state)
{
	struct fx *f = *state;
	struct side dst;

	save_ok(f, f->snap, true);

	/* The destination lacks a component the snapshot has. */
	fake_dev_init(&dst.dev, 0, 1);
	memset(&dst.uart, 0, sizeof(dst.uart));
	assert_int_equal(migration__create(&dst.mig), 0);
	assert_int_equal(migration__register(dst.mig, "serial0", &fake_uart_ops,
					     &dst.uart), 0);
	expect_restore_error(f, &dst, "has state for 'dev0', which this VM does not have");
	/* ... or has one more. */
	assert_int_equal(migration__register(dst.mig, "dev0", &fake_dev_ops,
					     &dst.dev), 0);
	assert_int_equal(migration__register(dst.mig, "serial1", &fake_uart_ops,
					     &dst.uart), 0);
	expect_restore_error(f, &dst, "has no state for 'serial1'");
	side_exit(&dst);

	/* A handler older than the saved state's version. */
	side_init(&dst, 0, 1, &fake_dev_ops_v1);
	expect_restore_error(f, &dst,
			     "dev0: state version 2 is not supported (this ferry reads up to 1)");
	side_exit(&dst);

	/* A component rejects its state: the others are not applied either. */
	f->src.uart.live.ier = 0x80;
	save_ok(f, f->snap, true);
	side_init(&dst, 0, 1, &fake_dev_ops);
	expect_restore_error(f, &dst, "/serial0: ier 0x80 has reserved bits set");
	side_exit(&dst);
}

/* ---- with KVM: real vCPU and irqchip state through a snapshot ---- */

static void test_snapshot__kvm_vcpu_and_irqchip(void **state)
{
	struct vcpu_state_caps *caps = calloc(1, sizeof(*caps));
	struct vcpu_state *a = calloc(1, sizeof(*a));
	struct vcpu_state *b = calloc(1, sizeof(*b));
	struct kvm_helper k1, k2;
	struct migration *src, *dst;
	struct fx *f = *state;
	struct kvm_regs regs;
	struct guest_mem *mem;
	struct snapshot *s;
	char err[256] = "";
	int c1[2], c2[2], i;

	if (kvm_helper_open(&k1) == -1)
		skip();
	assert_int_equal(kvm_helper_open(&k2), 0);
	for (i = 0; i < 2; i++) {
		c1[i] = kvm_helper_vcpu(&k1, (unsigned int)i);
		c2[i] = kvm_helper_vcpu(&k2, (unsigned int)i);
		assert_true(c1[i] >= 0 && c2[i] >= 0);
	}
	assert_int_equal(vcpu_state__probe(k1.kvm_fd, k1.vm_fd, c1[0], caps), 0);
	assert_int_equal(ioctl(c1[1], KVM_GET_REGS, &regs), 0);
	regs.rax = 0xfeedface;
	regs.rip = 0x4321;
	assert_int_equal(ioctl(c1[1], KVM_SET_REGS, &regs), 0);

	assert_int_equal(migration__create(&src), 0);
	assert_int_equal(migration__create(&dst), 0);
	assert_int_equal(irqchip_state__register(src, k1.vm_fd), 0);
	assert_int_equal(irqchip_state__register(dst, k2.vm_fd), 0);
	for (i = 0; i < 2; i++) {
		assert_int_equal(vcpu_state__register(src, (unsigned int)i, c1[i], caps), 0);
		assert_int_equal(vcpu_state__register(dst, (unsigned int)i, c2[i], caps), 0);
	}
	migration__set_memory(src, f->mem);
	if (snapshot__save(src, f->snap, &(struct snapshot_save_opts){ .replace = true },
			   err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(snapshot__open(f->snap, &s, err, sizeof(err)), 0);
	assert_int_equal(snapshot__load_memory(s, MEM_SIZE, SNAPSHOT_RESTORE_LAZY,
					       &mem, err, sizeof(err)), 0);
	if (snapshot__restore(s, dst, err, sizeof(err)))
		fail_msg("%s", err);
	snapshot__close(s);
	for (i = 0; i < 2; i++) {
		assert_int_equal(vcpu_state__get(c1[i], (unsigned int)i, caps, a), 0);
		assert_int_equal(vcpu_state__get(c2[i], (unsigned int)i, caps, b), 0);
		assert_memory_equal(&a->regs, &b->regs, sizeof(a->regs));
		assert_memory_equal(&a->sregs, &b->sregs, sizeof(a->sregs));
		assert_int_equal(a->mp_state.mp_state, b->mp_state.mp_state);
	}
	assert_true(b->regs.rax == 0xfeedface);
	/* state.dtb is a device tree dtc can read. */
	{
		char cmd[256];

		snprintf(cmd, sizeof(cmd),
			 "command -v dtc >/dev/null || exit 0; dtc -q -I dtb -O dts %s/state.dtb | grep -q 'vcpu1 {'",
			 f->snap);
		assert_int_equal(system(cmd), 0);
	}
	mem__destroy(mem);
	migration__destroy(src);
	migration__destroy(dst);
	for (i = 0; i < 2; i++) {
		close(c1[i]);
		close(c2[i]);
	}
	kvm_helper_close(&k1);
	kvm_helper_close(&k2);
	free(caps);
	free(a);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_snapshot__round_trip,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_snapshot__replace_rules,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_snapshot__failed_save_leaves_nothing,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_snapshot__rejects_damage,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_snapshot__restore_checks_before_applying,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_snapshot__kvm_vcpu_and_irqchip,
						fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
