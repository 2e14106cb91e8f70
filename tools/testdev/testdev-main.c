/*
 * testdev-main.c: ferry-testdev, a vfio-user PCI device server that ships
 * with ferry so VFIO passthrough and its migration can be run and tested
 * on any machine. This file parses the command line, creates the device
 * memory (a memfd the client mmaps as BAR2), listens on the UNIX socket
 * and serves one client at a time until SIGINT/SIGTERM.
 *
 *   ferry-testdev --socket PATH [--mem-size SIZE] [--dirty-rate BYTES/s]
 *                 [--precopy on|off] [--p2p on|off] [--resume-delay-ms N]
 *                 [--intx on|off] [--verbose]
 */
#include "tools/testdev/testdev-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "seccomp/policy.h"
#include "seccomp/sandbox.h"
#include "vmm/config.h"
#include "vmm/log.h"
#include "vmm/util.h"

volatile sig_atomic_t td_quit;

/* BAR2 must be a power of two; 64 KiB .. 4 GiB keeps it sane for tests. */
#define MEM_SIZE_MIN (64ULL << 10)
#define MEM_SIZE_MAX (4ULL << 30)
#define MEM_SIZE_DEFAULT (64ULL << 20)
/* Longest setup delay a destination may model (one minute). */
#define RESUME_DELAY_MAX_MS 60000

static void on_signal(int sig)
{
	(void)sig;
	td_quit = 1;
}

/* Default: confined like ferry itself (docs/security.md). */
static enum seccomp_mode td_seccomp = SECCOMP_MODE_KILL;

static void usage(void)
{
	fprintf(stderr,
		"usage: ferry-testdev --socket PATH [--mem-size SIZE]\n"
		"       [--dirty-rate BYTES/s] [--dirty-offset OFF] [--precopy on|off]\n"
		"       [--p2p on|off] [--resume-delay-ms N] [--intx on|off]\n"
		"       [--seccomp kill|trap|log|off] [--verbose]\n"
		"SIZE and BYTES take K/M/G suffixes (powers of 1024).\n");
}

/* Parse a number with an optional K/M/G suffix. */
static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t mul = 1;

	if (!*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': mul = 1ULL << 10; end++; break;
	case 'm': case 'M': mul = 1ULL << 20; end++; break;
	case 'g': case 'G': mul = 1ULL << 30; end++; break;
	default: break;
	}
	if (*end || mul_overflow((uint64_t)v, mul, out))
		return -EINVAL;
	return 0;
}

static int parse_args(struct testdev *td, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "mem-size", required_argument, NULL, 'm' },
		{ "dirty-rate", required_argument, NULL, 'd' },
		{ "dirty-offset", required_argument, NULL, 'o' },
		{ "precopy", required_argument, NULL, 'p' },
		{ "p2p", required_argument, NULL, 'P' },
		{ "resume-delay-ms", required_argument, NULL, 'r' },
		{ "intx", required_argument, NULL, 'i' },
		{ "seccomp", required_argument, NULL, 'S' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int c;

	td->mem_size = MEM_SIZE_DEFAULT;
	td->precopy = true;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': td->socket_path = optarg; break;
		case 'm':
			if (parse_size(optarg, &td->mem_size) ||
			    td->mem_size < MEM_SIZE_MIN ||
			    td->mem_size > MEM_SIZE_MAX ||
			    (td->mem_size & (td->mem_size - 1))) {
				fprintf(stderr, "--mem-size: a power of two from 64K to 4G\n");
				return -EINVAL;
			}
			break;
		case 'd':
			/* 1 TiB/s: beyond any memory bandwidth, keeps math in range. */
			if (parse_size(optarg, &td->dirty_rate) ||
			    td->dirty_rate > (1ULL << 40)) {
				fprintf(stderr, "--dirty-rate: bytes per second\n");
				return -EINVAL;
			}
			break;
		case 'o':
			if (parse_size(optarg, &td->dirty_offset) ||
			    td->dirty_offset & 7) {
				fprintf(stderr, "--dirty-offset: a multiple of 8 bytes\n");
				return -EINVAL;
			}
			break;
		case 'p':
			if (strcmp(optarg, "on") && strcmp(optarg, "off")) {
				fprintf(stderr, "--precopy: on or off\n");
				return -EINVAL;
			}
			td->precopy = !strcmp(optarg, "on");
			break;
		case 'P':
			if (strcmp(optarg, "on") && strcmp(optarg, "off")) {
				fprintf(stderr, "--p2p: on or off\n");
				return -EINVAL;
			}
			td->p2p = !strcmp(optarg, "on");
			break;
		case 'i':
			if (strcmp(optarg, "on") && strcmp(optarg, "off")) {
				fprintf(stderr, "--intx: on or off\n");
				return -EINVAL;
			}
			td->intx = !strcmp(optarg, "on");
			break;
		case 'r':
			if (parse_size(optarg, &v) || v > RESUME_DELAY_MAX_MS) {
				fprintf(stderr, "--resume-delay-ms: 0..%d\n",
					RESUME_DELAY_MAX_MS);
				return -EINVAL;
			}
			td->resume_delay_ms = (unsigned int)v;
			break;
		case 'S':
			if (!strcmp(optarg, "kill"))
				td_seccomp = SECCOMP_MODE_KILL;
			else if (!strcmp(optarg, "trap"))
				td_seccomp = SECCOMP_MODE_TRAP;
			else if (!strcmp(optarg, "log"))
				td_seccomp = SECCOMP_MODE_LOG;
			else if (!strcmp(optarg, "off"))
				td_seccomp = SECCOMP_MODE_OFF;
			else {
				fprintf(stderr, "--seccomp: kill, trap, log or off\n");
				return -EINVAL;
			}
			break;
		case 'v': log__set_level(LOG_LEVEL_DEBUG); break;
		default: usage(); return -EINVAL;
		}
	}
	if (td->dirty_offset >= td->mem_size) {
		fprintf(stderr, "--dirty-offset must be below --mem-size\n");
		return -EINVAL;
	}
	if (!td->socket_path || optind != argc) {
		usage();
		return -EINVAL;
	}
	return 0;
}

static int create_memory(struct testdev *td)
{
	int ret;

	td->mem_fd = memfd_create("ferry-testdev-bar2", MFD_CLOEXEC);
	if (td->mem_fd < 0)
		return -errno;
	if (ftruncate(td->mem_fd, (off_t)td->mem_size)) {
		ret = -errno;
		goto err_close;
	}
	td->mem = mmap(NULL, td->mem_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       td->mem_fd, 0);
	if (td->mem == MAP_FAILED) {
		ret = -errno;
		goto err_close;
	}
	td->npages = td->mem_size / TD_PAGE_SIZE;
	return 0;

err_close:
	close(td->mem_fd);
	td->mem_fd = -1;
	return ret;
}

/* O_PATH fd of the socket's directory and the socket's name in it. */
static int sock_dir_fd = -1;
static char sock_base[108];

/*
 * Everything is open (device memory, listening socket): drop all
 * capabilities and confine the process. The one file operation left is
 * removing our socket at exit, through the directory fd.
 */
static int confine(const char *path)
{
	char dir[sizeof(sock_base)];
	char *slash;
	int ret;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	snprintf(sock_base, sizeof(sock_base), "%s", slash ? slash + 1 : dir);
	if (!slash)
		strcpy(dir, ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	sock_dir_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (sock_dir_fd < 0)
		return -errno;
	{
		const struct sc_rule rule = SC_ALLOW2(unlinkat, SC_EQ(0, sock_dir_fd),
			SC_EQ(2, 0), "remove our socket at exit");

		ret = sandbox__add_rule(SC_ROLE_TESTDEV, &rule);
	}
	if (!ret)
		ret = sandbox__init(td_seccomp);
	if (!ret)
		ret = sandbox__drop_privileges(NULL, NULL);
	if (!ret)
		ret = sandbox__enter(SC_ROLE_TESTDEV);
	return ret;
}

/* Bind @path, replacing a stale socket but never a live server's. */
static int listen_on(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, ret;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		close(fd);
		return -EADDRINUSE;
	}
	unlink(path);
	/* One client at a time; a second waits in the backlog. */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 1)) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct testdev td = { .mem_fd = -1, .conn = -1, .intx_trigger = -1,
			      .intx_unmask = -1 };
	int lfd, ret;

	log__set_tag("testdev");
	if (parse_args(&td, argc, argv))
		return 2;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	ret = create_memory(&td);
	if (ret) {
		log_err("device memory: %s", strerror(-ret));
		return 1;
	}
	td__mig_init(&td);
	td__regs_power_on(&td);
	td__cfg_init(&td);
	lfd = listen_on(td.socket_path);
	if (lfd < 0) {
		log_err("socket %s: %s", td.socket_path, strerror(-lfd));
		return 1;
	}
	ret = confine(td.socket_path);
	if (ret) {
		log_err("cannot confine the process: %s", strerror(-ret));
		close(lfd);
		unlink(td.socket_path);
		return 1;
	}
	log_info("listening on %s: BAR2 %llu bytes, dirty rate %llu B/s, "
		 "precopy %s, P2P %s, resume delay %u ms, INTx %s",
		 td.socket_path, (unsigned long long)td.mem_size,
		 (unsigned long long)td.dirty_rate, td.precopy ? "on" : "off",
		 td.p2p ? "on" : "off", td.resume_delay_ms,
		 td.intx ? "on (pin INTA)" : "off");
	while (!td_quit) {
		struct pollfd p = { .fd = lfd, .events = POLLIN };
		int conn;

		if (poll(&p, 1, -1) <= 0)
			continue;
		conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (conn < 0)
			continue;
		td__serve(&td, conn);
	}
	log_info("exiting");
	close(lfd);
	if (unlinkat(sock_dir_fd, sock_base, 0) < 0)
		log_warn("cannot remove %s: %s", td.socket_path, strerror(errno));
	td__mig_fini(&td);
	munmap(td.mem, td.mem_size);
	close(td.mem_fd);
	return 0;
}
