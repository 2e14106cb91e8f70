#!/usr/bin/env bash
# tools/check-headers.sh SOURCE_DIR [CC]: every header of ferry (outside
# the freestanding test guest) must compile on its own, and its include
# guard must match its path (vmm/vm-snapshot.h -> VMM_VM_SNAPSHOT_H).
# Prints each failure; exits 1 if any.
set -u
src=${1:?usage: check-headers.sh SOURCE_DIR [CC]}
cc=${2:-cc}
cd "$src" || exit 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bad=0
n=0
for h in $(find vmm devices migration seccomp tools -name '*.h' | sort); do
	n=$((n + 1))
	printf '#include "%s"\n' "$h" >"$tmp/t.c"
	if ! "$cc" -std=gnu11 -D_GNU_SOURCE -I. -I/usr/include/json-c -fsyntax-only \
		-Wall -Wextra -Werror "$tmp/t.c" 2>"$tmp/err"; then
		echo "FAIL: $h does not compile on its own: $(head -1 "$tmp/err")"
		bad=1
	fi
	guard=$(echo "$h" | tr 'a-z/.-' 'A-Z___')
	grep -q "^#ifndef $guard\$" "$h" || { echo "FAIL: $h: include guard is not $guard"; bad=1; }
done
echo "checked $n headers"
exit $bad
