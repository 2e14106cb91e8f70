/*
 * test-sigsys.c: the trap-mode report line, formatted without stdio
 * from the precomputed syscall name table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <seccomp.h>

#include "seccomp/sigsys.h"

static void test_sigsys__names_resolved(void **state)
{
	(void)state;
	assert_int_equal(sigsys__prepare(), 0);
	assert_string_equal(sigsys__syscall_name(0), "read");
	assert_string_equal(sigsys__syscall_name(16), "ioctl");
	assert_string_equal(sigsys__syscall_name(59), "execve");
	assert_null(sigsys__syscall_name(-1));
	assert_null(sigsys__syscall_name(100000));
}

static void test_sigsys__format(void **state)
{
	char buf[192];
	size_t n;

	(void)state;
	assert_int_equal(sigsys__prepare(), 0);
	n = sigsys__format(buf, sizeof(buf), "vcpu", 41, SCMP_ARCH_X86_64);
	assert_string_equal(buf, "ferry: seccomp: thread role vcpu made "
				 "forbidden syscall socket (nr 41)\n");
	assert_int_equal(n, strlen(buf));

	sigsys__format(buf, sizeof(buf), NULL, 5000, SCMP_ARCH_X86_64);
	assert_string_equal(buf, "ferry: seccomp: thread role inherited made "
				 "forbidden syscall unknown (nr 5000)\n");

	/* i386 int $0x80: the number means something else there */
	sigsys__format(buf, sizeof(buf), "main", 11, SCMP_ARCH_X86);
	assert_string_equal(buf, "ferry: seccomp: thread role main made "
				 "forbidden syscall unknown (nr 11, arch 0x40000003)\n");

	/* truncation keeps the buffer terminated */
	n = sigsys__format(buf, 10, "main", 0, SCMP_ARCH_X86_64);
	assert_int_equal(n, 9);
	assert_int_equal(strlen(buf), 9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sigsys__names_resolved),
		cmocka_unit_test(test_sigsys__format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
