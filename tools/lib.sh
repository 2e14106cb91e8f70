# tools/lib.sh: shell helpers shared by tools/test.sh, tools/demo.sh and
# tools/bench.sh: installing Debian packages that are missing, and
# configuring + building ferry in a build directory. Source it; it does
# nothing on its own.

FERRY_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FERRY_BUILD=${FERRY_BUILD:-$FERRY_SRC/build}

# Packages ferry needs to build and test (Debian 12 names).
FERRY_BUILD_DEPS="gcc meson ninja-build pkg-config libfdt-dev libseccomp-dev \
libcap-ng-dev libcmocka-dev libmicrohttpd-dev libjson-c-dev liblz4-dev \
libcurl4-openssl-dev device-tree-compiler curl iproute2 jq python3"

log() { printf '%s\n' "== $*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# ensure_packages PKG...: apt-get install the ones not yet installed.
ensure_packages() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	log "installing: ${missing[*]}"
	local sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	# Only refresh the package lists when an install is needed.
	$sudo apt-get update -qq || die "apt-get update failed"
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" \
		>/dev/null || die "apt-get install ${missing[*]} failed"
}

# ensure_apt_lists: the Linux boot proof downloads Debian's cloud kernel
# with apt-get download, which needs package lists.
ensure_apt_lists() {
	apt-cache show linux-image-cloud-amd64 >/dev/null 2>&1 && return 0
	local sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	log "refreshing package lists (for the Linux boot proof)"
	$sudo apt-get update -qq || log "WARNING: apt-get update failed: the Linux boot proof will skip"
}

# build_ferry: configure (once) and build everything.
build_ferry() {
	ensure_packages $FERRY_BUILD_DEPS
	if [ ! -f "$FERRY_BUILD/build.ninja" ]; then
		log "configuring $FERRY_BUILD"
		meson setup "$FERRY_BUILD" "$FERRY_SRC" >/dev/null ||
			die "meson setup failed (see $FERRY_BUILD/meson-logs/meson-log.txt)"
	fi
	log "building"
	ninja -C "$FERRY_BUILD" >/dev/null || {
		ninja -C "$FERRY_BUILD" 2>&1 | tail -40 >&2
		die "build failed"
	}
}
