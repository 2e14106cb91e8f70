/*
 * cli.c: getopt_long parsing of ferry's flags into struct cli_options.
 * Device arguments use the "key=value,key=value" form
 * (--vfio-user id=dev0,socket=/run/dev0.sock). Every error names the
 * flag and the value that is wrong.
 */
#include "vmm/cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/config-json.h"
#include "vmm/util.h"

enum {
	OPT_KERNEL = 256,
	OPT_INITRD,
	OPT_CMDLINE,
	OPT_MEMORY,
	OPT_VCPUS,
	OPT_SERIAL,
	OPT_API_SOCK,
	OPT_CONFIG,
	OPT_SECCOMP,
	OPT_CHROOT,
	OPT_USER,
	OPT_CPUID_COMPAT,
	OPT_NO_ACPI,
	OPT_VFIO_USER,
	OPT_VFIO,
	OPT_LOG_LEVEL,
	OPT_RESTORE,
	OPT_RESUME,
	OPT_RESTORE_MODE,
	OPT_WAIT_RESTORE,
	OPT_INCOMING, /* live migration (issue 6) */
	OPT_HELP,
	OPT_VERSION,
};

static const struct option long_opts[] = {
	{ "kernel", required_argument, NULL, OPT_KERNEL },
	{ "initrd", required_argument, NULL, OPT_INITRD },
	{ "cmdline", required_argument, NULL, OPT_CMDLINE },
	{ "memory", required_argument, NULL, OPT_MEMORY },
	{ "vcpus", required_argument, NULL, OPT_VCPUS },
	{ "serial", required_argument, NULL, OPT_SERIAL },
	{ "api-sock", required_argument, NULL, OPT_API_SOCK },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "seccomp", required_argument, NULL, OPT_SECCOMP },
	{ "chroot", required_argument, NULL, OPT_CHROOT },
	{ "user", required_argument, NULL, OPT_USER },
	{ "cpuid-compat", no_argument, NULL, OPT_CPUID_COMPAT },
	{ "no-acpi", no_argument, NULL, OPT_NO_ACPI },
	{ "vfio-user", required_argument, NULL, OPT_VFIO_USER },
	{ "vfio", required_argument, NULL, OPT_VFIO },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "restore", required_argument, NULL, OPT_RESTORE },
	{ "resume", no_argument, NULL, OPT_RESUME },
	{ "restore-mode", required_argument, NULL, OPT_RESTORE_MODE },
	{ "wait-restore", no_argument, NULL, OPT_WAIT_RESTORE },
	{ "incoming", required_argument, NULL, OPT_INCOMING },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

const char *cli__usage(void)
{
	return "Usage: ferry --kernel PATH [options]\n"
	       "\n"
	       "Boot a microVM under KVM.\n"
	       "\n"
	       "Guest:\n"
	       "  --kernel PATH          kernel: PVH ELF (e.g. vmlinux, the test guest) or bzImage\n"
	       "  --initrd PATH          initial ramdisk\n"
	       "  --cmdline STRING       kernel command line\n"
	       "  --memory SIZE          guest RAM, with K/M/G suffix (default 128M; 16M..1T)\n"
	       "  --vcpus N              number of vCPUs (default 1; 1..64)\n"
	       "  --serial MODE          console: stdout (default), file:PATH or none;\n"
	       "                         input always comes from stdin\n"
	       "  --cpuid-compat         hide CPUID features (CX16, XSAVE) that a\n"
	       "                         software-emulated KVM cannot execute\n"
	       "  --no-acpi              no ACPI tables: guests find CPUs and the\n"
	       "                         IOAPIC through the MP table only (always so\n"
	       "                         with PCI devices, which ACPI does not describe)\n"
	       "\n"
	       "Devices:\n"
	       "  --vfio-user id=NAME,socket=PATH[,migration=auto|on|off]\n"
	       "                         passthrough device served over vfio-user (repeatable)\n"
	       "  --vfio id=NAME,path=DEV[,migration=auto|on|off]\n"
	       "                         kernel VFIO device: /dev/vfio/devices/vfioN or a\n"
	       "                         sysfs PCI device path (repeatable)\n"
	       "\n"
	       "Snapshots:\n"
	       "  --restore DIR          start from the snapshot in DIR instead of a kernel;\n"
	       "                         memory, vCPUs and devices come from the snapshot,\n"
	       "                         device sockets/paths from the command line (by id)\n"
	       "  --resume               run the restored VM at once (default: paused)\n"
	       "  --restore-mode MODE    lazy (default: map the memory image copy-on-write)\n"
	       "                         or copy (read it; forced with passthrough devices)\n"
	       "  --wait-restore         start with no VM and wait for PUT /snapshot/load on\n"
	       "                         the API socket (needs --api-sock)\n"
	       "\n"
	       "Live migration:\n"
	       "  --incoming URL         wait on tcp:ADDRESS:PORT or unix:PATH for a source\n"
	       "                         (PUT /migration); memory, vCPUs and devices come\n"
	       "                         from the source, device sockets/paths from the\n"
	       "                         command line (by id); the VM runs once received.\n"
	       "                         With --memory SIZE the guest memory is allocated\n"
	       "                         while waiting (faster receive; a source of another\n"
	       "                         size is refused)\n"
	       "\n"
	       "Control:\n"
	       "  --api-sock PATH        serve the HTTP/JSON API on this UNIX socket\n"
	       "  --config FILE          read the configuration from JSON (flags override it)\n"
	       "\n"
	       "Sandbox:\n"
	       "  --seccomp MODE         kill (default), trap (report the syscall, exit 12),\n"
	       "                         log (log and allow) or off (no filters)\n"
	       "  --chroot DIR           chroot into DIR after opening everything\n"
	       "  --user UID:GID         switch to UID:GID after opening everything\n"
	       "\n"
	       "Other:\n"
	       "  --log-level LEVEL      error, warning, info (default) or debug\n"
	       "  --help                 show this help\n"
	       "  --version              show the version\n"
	       "\n"
	       "Exit status:\n"
	       "  0   orderly shutdown (API request)\n"
	       "  odd (v<<1)|1 where v is what the guest wrote to the debug-exit port 0xf4\n"
	       "  2   bad command line or configuration\n"
	       "  4   the guest requested a reset (i8042) or triple-faulted\n"
	       "  6   stopped by SIGTERM or SIGINT\n"
	       "  8   the VM failed (KVM error, emulation failure)\n"
	       "  10  the VM could not be started (no KVM, bad kernel image, ...)\n"
	       "  12  a seccomp violation under --seccomp=trap\n";
}

/* Split "key=value,key=value" in place; returns the number of pairs. */
static int split_kv(char *s, char **keys, char **vals, int max)
{
	int n = 0;
	char *save = NULL, *tok;

	for (tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');

		if (!eq || n == max)
			return -1;
		*eq = '\0';
		keys[n] = tok;
		vals[n] = eq + 1;
		n++;
	}
	return n;
}

static int copy_str(char *dst, size_t dstlen, const char *src, const char *what,
		    char *err, size_t errlen)
{
	if (strlen(src) >= dstlen) {
		snprintf(err, errlen, "%s is too long (at most %zu bytes)", what,
			 dstlen - 1);
		return -EINVAL;
	}
	strcpy(dst, src);
	return 0;
}

static int parse_vfio(struct vm_config *cfg, enum vfio_kind kind,
		      const char *arg, char *err, size_t errlen)
{
	const char *flag = kind == VFIO_KIND_USER ? "--vfio-user" : "--vfio";
	const char *pathkey = kind == VFIO_KIND_USER ? "socket" : "path";
	char buf[PATH_MAX + 128];
	char *keys[8], *vals[8];
	struct vfio_config *v;
	int n, i;

	if (cfg->nr_vfio == CONFIG_MAX_VFIO) {
		snprintf(err, errlen, "%s: at most %d passthrough devices", flag,
			 CONFIG_MAX_VFIO);
		return -EINVAL;
	}
	if (strlen(arg) >= sizeof(buf)) {
		snprintf(err, errlen, "%s: argument too long", flag);
		return -EINVAL;
	}
	strcpy(buf, arg);
	n = split_kv(buf, keys, vals, (int)ARRAY_SIZE(keys));
	if (n < 0) {
		snprintf(err, errlen, "%s '%s': expected id=NAME,%s=PATH", flag,
			 arg, pathkey);
		return -EINVAL;
	}
	v = &cfg->vfio[cfg->nr_vfio];
	memset(v, 0, sizeof(*v));
	v->kind = kind;
	for (i = 0; i < n; i++) {
		if (strcmp(keys[i], "id") == 0) {
			if (copy_str(v->id, sizeof(v->id), vals[i], "device id",
				     err, errlen))
				return -EINVAL;
		} else if (strcmp(keys[i], pathkey) == 0) {
			if (copy_str(v->path, sizeof(v->path), vals[i], pathkey,
				     err, errlen))
				return -EINVAL;
		} else if (strcmp(keys[i], "migration") == 0) {
			if (strcmp(vals[i], "auto") == 0)
				v->migration = VFIO_MIGRATION_AUTO;
			else if (strcmp(vals[i], "on") == 0)
				v->migration = VFIO_MIGRATION_ON;
			else if (strcmp(vals[i], "off") == 0)
				v->migration = VFIO_MIGRATION_OFF;
			else {
				snprintf(err, errlen,
					 "%s: migration must be auto, on or off, not '%s'",
					 flag, vals[i]);
				return -EINVAL;
			}
		} else {
			snprintf(err, errlen, "%s: unknown key '%s' (expected id, %s, migration)",
				 flag, keys[i], pathkey);
			return -EINVAL;
		}
	}
	if (!v->id[0] || !v->path[0]) {
		snprintf(err, errlen, "%s '%s': both id= and %s= are required",
			 flag, arg, pathkey);
		return -EINVAL;
	}
	cfg->nr_vfio++;
	return 0;
}

static int parse_serial(struct vm_config *cfg, const char *arg, char *err,
			size_t errlen)
{
	if (strcmp(arg, "stdout") == 0) {
		cfg->serial = SERIAL_STDOUT;
	} else if (strcmp(arg, "none") == 0) {
		cfg->serial = SERIAL_NONE;
	} else if (strncmp(arg, "file:", 5) == 0 && arg[5]) {
		cfg->serial = SERIAL_FILE;
		return copy_str(cfg->serial_path, sizeof(cfg->serial_path),
				arg + 5, "--serial file path", err, errlen);
	} else {
		snprintf(err, errlen,
			 "--serial '%s': expected stdout, file:PATH or none", arg);
		return -EINVAL;
	}
	return 0;
}

static int parse_user(struct cli_options *o, const char *arg, char *err,
		      size_t errlen)
{
	unsigned long uid, gid;
	char *end;

	errno = 0;
	uid = strtoul(arg, &end, 10);
	if (end == arg || *end != ':' || errno)
		goto bad;
	arg = end + 1;
	gid = strtoul(arg, &end, 10);
	if (end == arg || *end || errno || uid > 0xfffffffeUL || gid > 0xfffffffeUL)
		goto bad;
	o->uid = (uid_t)uid;
	o->gid = (gid_t)gid;
	o->have_user = true;
	return 0;
bad:
	snprintf(err, errlen, "--user: expected numeric UID:GID");
	return -EINVAL;
}

static int parse_one(struct cli_options *o, int opt, const char *arg,
		     char *err, size_t errlen)
{
	struct vm_config *cfg = &o->vm;
	unsigned long n;
	char *end;

	switch (opt) {
	case OPT_KERNEL:
		return copy_str(cfg->kernel, sizeof(cfg->kernel), arg,
				"--kernel path", err, errlen);
	case OPT_INITRD:
		return copy_str(cfg->initrd, sizeof(cfg->initrd), arg,
				"--initrd path", err, errlen);
	case OPT_CMDLINE:
		return copy_str(cfg->cmdline, sizeof(cfg->cmdline), arg,
				"--cmdline", err, errlen);
	case OPT_MEMORY:
		if (config__parse_size(arg, &cfg->mem_size)) {
			snprintf(err, errlen,
				 "--memory '%s': expected a size such as 256M or 1G",
				 arg);
			return -EINVAL;
		}
		o->memory_given = true;
		return 0;
	case OPT_VCPUS:
		errno = 0;
		n = strtoul(arg, &end, 10);
		if (end == arg || *end || errno || n < 1 || n > CONFIG_MAX_VCPUS) {
			snprintf(err, errlen, "--vcpus '%s': expected 1 to %d",
				 arg, CONFIG_MAX_VCPUS);
			return -EINVAL;
		}
		cfg->vcpus = (unsigned int)n;
		return 0;
	case OPT_SERIAL:
		return parse_serial(cfg, arg, err, errlen);
	case OPT_API_SOCK:
		return copy_str(cfg->api_sock, sizeof(cfg->api_sock), arg,
				"--api-sock path", err, errlen);
	case OPT_SECCOMP:
		if (strcmp(arg, "kill") == 0)
			cfg->seccomp = SECCOMP_MODE_KILL;
		else if (strcmp(arg, "trap") == 0)
			cfg->seccomp = SECCOMP_MODE_TRAP;
		else if (strcmp(arg, "log") == 0)
			cfg->seccomp = SECCOMP_MODE_LOG;
		else if (strcmp(arg, "off") == 0)
			cfg->seccomp = SECCOMP_MODE_OFF;
		else {
			snprintf(err, errlen,
				 "--seccomp '%s': expected kill, trap, log or off", arg);
			return -EINVAL;
		}
		return 0;
	case OPT_CHROOT:
		return copy_str(o->chroot_dir, sizeof(o->chroot_dir), arg,
				"--chroot path", err, errlen);
	case OPT_USER:
		return parse_user(o, arg, err, errlen);
	case OPT_CPUID_COMPAT:
		cfg->cpuid_compat = true;
		return 0;
	case OPT_NO_ACPI:
		cfg->no_acpi = true;
		return 0;
	case OPT_VFIO_USER:
		return parse_vfio(cfg, VFIO_KIND_USER, arg, err, errlen);
	case OPT_VFIO:
		return parse_vfio(cfg, VFIO_KIND_KERNEL, arg, err, errlen);
	case OPT_LOG_LEVEL:
		if (strcmp(arg, "error") == 0)
			o->log_level = LOG_LEVEL_ERR;
		else if (strcmp(arg, "warning") == 0)
			o->log_level = LOG_LEVEL_WARN;
		else if (strcmp(arg, "info") == 0)
			o->log_level = LOG_LEVEL_INFO;
		else if (strcmp(arg, "debug") == 0)
			o->log_level = LOG_LEVEL_DEBUG;
		else {
			snprintf(err, errlen,
				 "--log-level '%s': expected error, warning, info or debug",
				 arg);
			return -EINVAL;
		}
		return 0;
	case OPT_RESTORE:
		return copy_str(o->restore_dir, sizeof(o->restore_dir), arg,
				"--restore path", err, errlen);
	case OPT_RESUME:
		o->resume = true;
		return 0;
	case OPT_WAIT_RESTORE:
		o->wait_restore = true;
		return 0;
	case OPT_INCOMING:
		return copy_str(o->incoming, sizeof(o->incoming), arg,
				"--incoming address", err, errlen);
	case OPT_RESTORE_MODE:
		if (strcmp(arg, "lazy") == 0)
			o->restore_copy = false;
		else if (strcmp(arg, "copy") == 0)
			o->restore_copy = true;
		else {
			snprintf(err, errlen,
				 "--restore-mode '%s': expected lazy or copy", arg);
			return -EINVAL;
		}
		return 0;
	default:
		snprintf(err, errlen, "internal error: option %d", opt);
		return -EINVAL;
	}
}

int cli__parse(int argc, char **argv, struct cli_options *o, char *err,
	       size_t errlen)
{
	const char *config_file = NULL;
	int opt, ret;

	memset(o, 0, sizeof(*o));
	config__init(&o->vm);
	o->log_level = LOG_LEVEL_INFO;
	err[0] = '\0';

	/* Pass 1: --help, --version and --config (flags override the file). */
	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		if (opt == OPT_HELP)
			return CLI_HELP;
		if (opt == OPT_VERSION)
			return CLI_VERSION;
		if (opt == OPT_CONFIG)
			config_file = optarg;
		if (opt == '?') {
			if (optopt)
				snprintf(err, errlen, "option '%s' needs a value",
					 argv[optind - 1]);
			else
				snprintf(err, errlen,
					 "unknown option '%s' (see --help)",
					 argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s' (see --help)",
			 argv[optind]);
		return -EINVAL;
	}
	if (config_file) {
		ret = config__load_json(&o->vm, config_file, err, errlen);
		if (ret)
			return -EINVAL;
	}

	/* Pass 2: every other flag, in order. */
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		if (opt == OPT_CONFIG)
			continue;
		ret = parse_one(o, opt, optarg, err, errlen);
		if (ret)
			return ret;
	}
	/* live migration (issue 6): like --restore, the guest comes from the peer. */
	if (o->incoming[0] && (o->restore_dir[0] || o->wait_restore)) {
		snprintf(err, errlen, "--incoming excludes --restore and --wait-restore");
		return -EINVAL;
	}
	if (o->incoming[0] && (o->vm.kernel[0] || o->vm.initrd[0] || o->vm.cmdline[0])) {
		snprintf(err, errlen,
			 "--incoming takes the kernel, initrd and command line from the source; do not give them");
		return -EINVAL;
	}
	if (o->incoming[0] && (o->resume || o->restore_copy)) {
		snprintf(err, errlen, "--resume and --restore-mode need --restore");
		return -EINVAL;
	}
	if (o->incoming[0]) {
		/* The source decides; a size given here is made in advance. */
		if (o->memory_given)
			o->incoming_mem = o->vm.mem_size;
		return CLI_RUN;
	}
	if (o->wait_restore) {
		if (!o->vm.api_sock[0] || o->restore_dir[0] || o->vm.kernel[0] ||
		    o->vm.initrd[0] || o->vm.cmdline[0] || o->resume ||
		    o->restore_copy || o->chroot_dir[0]) {
			snprintf(err, errlen,
				 "--wait-restore needs --api-sock and takes no --kernel, --initrd, --cmdline, --restore, --resume, --restore-mode or --chroot (the load request says what to restore)");
			return -EINVAL;
		}
		return CLI_RUN;
	}
	if (o->restore_dir[0]) {
		/* The guest's configuration comes from the snapshot. */
		if (o->vm.kernel[0] || o->vm.initrd[0] || o->vm.cmdline[0]) {
			snprintf(err, errlen,
				 "--restore takes the kernel, initrd and command line from the snapshot; do not give them");
			return -EINVAL;
		}
		if (o->vm.serial == SERIAL_FILE && !o->vm.serial_path[0]) {
			snprintf(err, errlen, "serial file path is empty");
			return -EINVAL;
		}
		return CLI_RUN;
	}
	if (o->resume || o->restore_copy) {
		snprintf(err, errlen, "--resume and --restore-mode need --restore");
		return -EINVAL;
	}
	ret = config__validate(&o->vm, err, errlen);
	return ret ? -EINVAL : CLI_RUN;
}
