#!/bin/sh
# update-golden.sh EXPORT_TOOL GOLDEN_DIR: regenerate the seccomp golden
# files, one <role>.pfc per thread role, in kill mode (ferry's default).
# Run through `ninja -C BUILD update-seccomp-golden`; review the diff.
set -eu
tool=$1
dir=$2
mkdir -p "$dir"
roles=$("$tool" --roles)
for role in $roles; do
	"$tool" --mode kill "$role" > "$dir/$role.pfc.tmp"
	mv "$dir/$role.pfc.tmp" "$dir/$role.pfc"
	echo "wrote $dir/$role.pfc"
done
