/*
 * testdev-harness.c: process management for tests that talk to a real
 * ferry-testdev: a private directory for the socket and the log, fork and
 * exec with stderr to the log, wait for the socket, SIGTERM on stop.
 */
#include "testdev-harness.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "devices/vfio/vfio-user.h"

/* ferry-testdev starts in milliseconds; allow a loaded machine 10 s. */
#define START_WAIT_MS 10000

static int try_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), ok;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		close(fd);
		return 0;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

int harness__start(struct testdev_proc *p, const char *const *args)
{
	const char *bin = getenv("FERRY_TESTDEV");
	const char *argv[32];
	int n = 0, i, fd;

	memset(p, 0, sizeof(*p));
	if (!bin)
		return -1;
	snprintf(p->dir, sizeof(p->dir), "/tmp/ferry-td-XXXXXX");
	if (!mkdtemp(p->dir))
		return -1;
	snprintf(p->sock, sizeof(p->sock), "%s/sock", p->dir);
	snprintf(p->log, sizeof(p->log), "%s/log", p->dir);
	argv[n++] = bin;
	argv[n++] = "--socket";
	argv[n++] = p->sock;
	for (i = 0; args && args[i] && n < 30; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	p->pid = fork();
	if (p->pid < 0)
		return -1;
	if (p->pid == 0) {
		/* Never outlive the test (a failed assert skips harness__stop). */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		fd = open(p->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0) {
			dup2(fd, 1); /* keep the test runner's pipes free */
			dup2(fd, 2);
		}
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	for (i = 0; i < START_WAIT_MS / 10; i++) {
		struct timespec ts = { 0, 10 * 1000000 };

		if (try_connect(p->sock))
			return 0;
		if (waitpid(p->pid, NULL, WNOHANG) == p->pid) {
			p->pid = 0;
			return -1;
		}
		nanosleep(&ts, NULL);
	}
	return -1;
}

int harness__connect(struct testdev_proc *p, struct vfio_backend **out)
{
	return vfio_user__connect("td", p->sock, NULL, out);
}

void harness__stop(struct testdev_proc *p)
{
	char cmd[160];

	if (p->pid > 0) {
		kill(p->pid, SIGTERM);
		waitpid(p->pid, NULL, 0);
	}
	if (getenv("KEEP_TESTDEV_LOGS")) {
		fprintf(stderr, "testdev log kept in %s\n", p->log);
		return;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", p->dir);
	if (p->dir[0] && system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", p->dir);
}

int harness__log_count(const struct testdev_proc *p, const char *needle)
{
	char line[1024];
	FILE *f = fopen(p->log, "r");
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, needle))
			n++;
	fclose(f);
	return n;
}
