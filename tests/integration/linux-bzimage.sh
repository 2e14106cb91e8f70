#!/bin/sh
# linux-bzimage.sh: boot Debian's cloud bzImage through the Linux 64-bit
# boot protocol under ferry. The decompressor runs emulated here, so the
# banner takes ~3 minutes; the wait is bounded at 6. See
# linux-common.sh. Exit 77 when /dev/kvm is missing.
KERNEL_FILE=vmlinuz
WAIT_S=${FERRY_LINUX_WAIT:-360}
. "$(dirname "$0")/linux-common.sh"
