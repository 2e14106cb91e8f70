#!/bin/sh
# linux-pvh.sh: boot Debian's cloud vmlinux (extracted from the bzImage)
# through its PVH note under ferry; the banner and the e820 map must
# appear within 90 s and the map must match --memory. See
# linux-common.sh. Exit 77 when /dev/kvm is missing.
KERNEL_FILE=vmlinux
WAIT_S=${FERRY_LINUX_WAIT:-90}
. "$(dirname "$0")/linux-common.sh"
