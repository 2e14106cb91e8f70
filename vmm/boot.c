/*
 * boot.c: entry points of the kernel loader. Reads kernel and initrd
 * files, detects the kernel's kind (ELF with a PVH note, or a bzImage)
 * and hands over to boot-elf.c or boot-bzimage.c; also holds the parts
 * both protocols share: placing the initrd and the command line.
 */
#include "vmm/boot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/boot-internal.h"
#include "vmm/boot-layout.h"
#include "vmm/log.h"
#include "vmm/mem.h"
#include "vmm/util.h"

/*
 * Largest kernel file ferry reads: a vmlinux with symbols is ~60 MiB;
 * anything near this is not a kernel.
 */
#define BOOT_KERNEL_FILE_MAX (1ULL << 30)

/*
 * Read the whole regular file @path into a new buffer of at most @max
 * bytes. @what names it in messages ("kernel", "initrd").
 */
static int read_file(const char *path, const char *what, uint64_t max,
		     struct boot_image *img)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t done = 0;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		log_err("%s %s: cannot open: %s", what, path, strerror(-ret));
		return ret;
	}
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		log_err("%s %s: cannot stat: %s", what, path, strerror(-ret));
		goto err_close;
	}
	if (!S_ISREG(st.st_mode)) {
		log_err("%s %s: not a regular file", what, path);
		ret = -EINVAL;
		goto err_close;
	}
	if (st.st_size == 0) {
		log_err("%s %s: file is empty", what, path);
		ret = -EINVAL;
		goto err_close;
	}
	if ((uint64_t)st.st_size > max) {
		log_err("%s %s: %lld bytes is larger than %llu (%s)", what,
			path, (long long)st.st_size, (unsigned long long)max,
			!strcmp(what, "initrd") ? "guest RAM" : "any kernel");
		ret = -EFBIG;
		goto err_close;
	}
	buf = malloc((size_t)st.st_size);
	if (!buf) {
		ret = -ENOMEM;
		log_err("%s %s: out of memory", what, path);
		goto err_close;
	}
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			log_err("%s %s: read: %s", what, path, strerror(-ret));
			goto err_free;
		}
		if (n == 0) {
			log_err("%s %s: file shrank while reading", what, path);
			ret = -EIO;
			goto err_free;
		}
		done += (size_t)n;
	}
	close(fd);
	img->data = buf;
	img->size = done;
	img->name = path;
	return 0;

err_free:
	free(buf);
err_close:
	close(fd);
	return ret;
}

int boot__load(struct guest_mem *mem, const char *kernel_path,
	       const char *initrd_path, const char *cmdline,
	       struct boot_info *bi)
{
	struct boot_image kernel = { 0 }, initrd = { 0 };
	bool have_initrd = initrd_path && initrd_path[0];
	int ret;

	if (!mem || !kernel_path || !kernel_path[0] || !bi) {
		log_err("boot: no kernel given");
		return -EINVAL;
	}
	ret = read_file(kernel_path, "kernel", BOOT_KERNEL_FILE_MAX, &kernel);
	if (ret)
		return ret;
	if (have_initrd) {
		ret = read_file(initrd_path, "initrd", mem->size, &initrd);
		if (ret)
			goto out;
	}
	ret = boot__load_image(mem, &kernel, have_initrd ? &initrd : NULL,
			       cmdline, bi);
out:
	free((void *)initrd.data);
	free((void *)kernel.data);
	return ret;
}

int boot__load_image(struct guest_mem *mem, const struct boot_image *kernel,
		     const struct boot_image *initrd, const char *cmdline,
		     struct boot_info *bi)
{
	const char *name;
	size_t len;
	int ret;

	if (!mem || !kernel || !kernel->data || !bi) {
		log_err("boot: no kernel given");
		return -EINVAL;
	}
	name = kernel->name ? kernel->name : "kernel";
	if (initrd && (!initrd->data || !initrd->size)) {
		log_err("initrd %s: empty",
			initrd->name ? initrd->name : "(buffer)");
		return -EINVAL;
	}
	if (!cmdline)
		cmdline = "";
	len = strnlen(cmdline, BOOT_CMDLINE_MAX);
	if (len >= BOOT_CMDLINE_MAX) {
		log_err("%s: command line longer than %llu bytes", name,
			BOOT_CMDLINE_MAX - 1);
		return -E2BIG;
	}

	memset(bi, 0, sizeof(*bi));
	if (boot_elf__probe(kernel)) {
		ret = boot_elf__load(mem, kernel, initrd, cmdline, bi);
	} else if (boot_bzimage__probe(kernel)) {
		ret = boot_bzimage__load(mem, kernel, initrd, cmdline, bi);
	} else {
		log_err("%s: not an ELF or a Linux bzImage (no ELF magic, "
			"no \"HdrS\" at 0x202)", name);
		return -ENOEXEC;
	}
	if (ret)
		return ret;
	ret = boot__write_gdt(mem, bi);
	if (ret) {
		log_err("%s: cannot write the GDT: %s", name, strerror(-ret));
		return ret;
	}
	bi->stack_top = BOOT_STACK_TOP;
	return 0;
}

int boot__place_initrd(struct guest_mem *mem, const struct boot_image *initrd,
		       uint64_t kernel_end, uint64_t max_end,
		       struct boot_info *bi)
{
	const char *name;
	uint64_t top, lo, addr;
	int ret;

	if (!initrd)
		return 0;
	name = initrd->name ? initrd->name : "(buffer)";
	if (!initrd->size) {
		log_err("initrd %s: empty", name);
		return -EINVAL;
	}
	if (initrd->size > mem->size) {
		log_err("initrd %s: %zu bytes is larger than guest RAM "
			"(%llu bytes)", name, initrd->size,
			(unsigned long long)mem->size);
		return -ENOMEM;
	}
	/* Low RAM: region 0, which ends at the RAM size or the MMIO hole. */
	top = ALIGN_DOWN(MIN(mem->regions[0].gpa + mem->regions[0].size,
			     max_end), BOOT_INITRD_ALIGN);
	lo = ALIGN_UP(kernel_end, BOOT_INITRD_ALIGN);
	if (initrd->size > top || top - initrd->size < lo) {
		log_err("initrd %s: %zu bytes do not fit between the kernel's "
			"end 0x%llx and 0x%llx; give the guest more memory",
			name, initrd->size, (unsigned long long)lo,
			(unsigned long long)top);
		return -ENOMEM;
	}
	addr = ALIGN_DOWN(top - initrd->size, BOOT_INITRD_ALIGN);
	ret = mem__write(mem, addr, initrd->data, initrd->size);
	if (ret) {
		log_err("initrd %s: cannot write at 0x%llx", name,
			(unsigned long long)addr);
		return ret;
	}
	bi->initrd_addr = addr;
	bi->initrd_size = initrd->size;
	return 0;
}

int boot__write_cmdline(struct guest_mem *mem, const char *cmdline,
			struct boot_info *bi)
{
	size_t len = strlen(cmdline);
	int ret;

	ret = mem__write(mem, BOOT_CMDLINE_ADDR, cmdline, len + 1);
	if (ret)
		return ret;
	bi->cmdline_addr = BOOT_CMDLINE_ADDR;
	bi->cmdline_len = len;
	return 0;
}

int boot__set_acpi_rsdp(struct guest_mem *mem, const struct boot_info *bi,
			uint64_t rsdp)
{
	uint64_t off;

	switch (bi->kind) {
	case BOOT_KIND_PVH:
		off = BOOT_PVH_RSDP_OFF;
		break;
	case BOOT_KIND_LINUX64:
		off = BOOT_BP_ACPI_RSDP_OFF;
		break;
	default:
		return -EINVAL;
	}
	return mem__write(mem, bi->params_addr + off, &rsdp, sizeof(rsdp));
}
