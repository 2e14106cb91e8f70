#!/bin/sh
# fetch-linux.sh: get Debian's cloud kernel for the Linux boot proof.
# Downloads linux-image-cloud-amd64's real (versioned) image package with
# apt-get download, unpacks it with dpkg -x into a cache directory, and
# leaves there:
#   vmlinuz   the bzImage (for tests/integration/linux-bzimage.sh)
#   vmlinux   the ELF taken out of it by ferry-extract-vmlinux (PVH boot)
#   version   the package name it came from
# Idempotent: when both files exist it does nothing.
#
# usage: tools/fetch-linux.sh [CACHE_DIR]
#   CACHE_DIR defaults to $FERRY_LINUX_CACHE, else $BUILD_DIR/linux-cache,
#   else ./linux-cache. ferry-extract-vmlinux is found through
#   $EXTRACT_VMLINUX, $BUILD_DIR/tools/linux/, or $PATH.
# Exit status: 0 ready, 1 error, 77 (skip) when apt-get cannot download.
set -eu

cache=${1:-${FERRY_LINUX_CACHE:-${BUILD_DIR:+$BUILD_DIR/linux-cache}}}
cache=${cache:-./linux-cache}
meta=linux-image-cloud-amd64

if [ -s "$cache/vmlinuz" ] && [ -s "$cache/vmlinux" ]; then
	exit 0
fi

extract=${EXTRACT_VMLINUX:-}
if [ -z "$extract" ] && [ -n "${BUILD_DIR:-}" ] &&
   [ -x "$BUILD_DIR/tools/linux/ferry-extract-vmlinux" ]; then
	extract=$BUILD_DIR/tools/linux/ferry-extract-vmlinux
fi
if [ -z "$extract" ]; then
	extract=$(command -v ferry-extract-vmlinux || true)
fi
if [ -z "$extract" ] || [ ! -x "$extract" ]; then
	echo "fetch-linux: ferry-extract-vmlinux not found (build it, or set EXTRACT_VMLINUX)" >&2
	exit 1
fi

mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
# Tests may run in parallel: one download at a time, re-check under the lock.
if command -v flock >/dev/null 2>&1; then
	exec 9>"$cache/.lock"
	flock 9
	if [ -s "$cache/vmlinuz" ] && [ -s "$cache/vmlinux" ]; then
		exit 0
	fi
fi
work=$cache/work.$$
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"

# The metapackage only depends on the versioned image package.
pkg=$(apt-cache depends "$meta" 2>/dev/null |
      sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-cloud-amd64\)$/\1/p' |
      head -n 1)
if [ -z "$pkg" ]; then
	echo "fetch-linux: cannot resolve $meta with apt-cache (try apt-get update)" >&2
	exit 77
fi

echo "fetch-linux: downloading $pkg" >&2
if ! (cd "$work" && apt-get download "$pkg" >&2); then
	echo "fetch-linux: apt-get download $pkg failed" >&2
	exit 77
fi
deb=$(ls "$work"/*.deb 2>/dev/null | head -n 1)
if [ -z "$deb" ]; then
	echo "fetch-linux: no .deb downloaded" >&2
	exit 1
fi
dpkg -x "$deb" "$work/root"
vmlinuz=$(ls "$work"/root/boot/vmlinuz-* 2>/dev/null | head -n 1)
if [ -z "$vmlinuz" ]; then
	echo "fetch-linux: $deb contains no /boot/vmlinuz-*" >&2
	exit 1
fi

cp "$vmlinuz" "$work/vmlinuz"
"$extract" "$work/vmlinuz" "$work/vmlinux" >&2
echo "$pkg" > "$cache/version"
mv "$work/vmlinux" "$cache/vmlinux"
mv "$work/vmlinuz" "$cache/vmlinuz"
echo "fetch-linux: $cache/vmlinuz and $cache/vmlinux from $pkg" >&2
