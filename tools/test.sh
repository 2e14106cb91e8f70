#!/usr/bin/env bash
# tools/test.sh: build ferry and run its whole test suite: unit tests
# (no KVM needed), integration tests that boot guests under KVM, and the
# slow Linux bzImage boot proof. Installs missing Debian packages first.
#
#   tools/test.sh            everything (what CI runs)
#   tools/test.sh --quick    skip the 'slow' suite
#   tools/test.sh -- ARGS    extra arguments for 'meson test'
#
# Exits non-zero when any test fails. The last line is
# "tests: N passed, N failed, N skipped".
set -euo pipefail
. "$(dirname "$0")/lib.sh"

suites=(--suite unit --suite kvm --suite slow)
extra=()
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) suites=(--suite unit --suite kvm) ;;
	--help|-h) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	--) shift; extra=("$@"); break ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
	shift
done

build_ferry
ensure_apt_lists
[ -e /dev/kvm ] || log "WARNING: /dev/kvm is missing: the kvm and slow suites will SKIP"

rc=0
meson test -C "$FERRY_BUILD" --print-errorlogs --num-processes 2 \
	"${suites[@]}" "${extra[@]}" || rc=$?

# One closing line with the counts, from meson's JSON log.
python3 - "$FERRY_BUILD/meson-logs/testlog.json" <<'PY'
import json, sys
p = f = s = 0
for line in open(sys.argv[1]):
    r = json.loads(line).get("result", "")
    if r == "OK": p += 1
    elif r in ("SKIP",): s += 1
    elif r: f += 1
print(f"tests: {p} passed, {f} failed, {s} skipped")
PY
exit $rc
