#!/bin/sh
# check-confined.sh PID: check that every thread of a running ferry (or
# ferry-testdev) is confined: seccomp filter mode (2), no effective,
# permitted or bounding capabilities, no_new_privs set. Prints one line
# per thread and exits 1 if any thread is not confined.
# Usable from integration tests: tools/seccomp/check-confined.sh "$pid".
set -u
pid=${1:?usage: check-confined.sh PID}
[ -d "/proc/$pid/task" ] || { echo "no process $pid" >&2; exit 2; }
bad=0
n=0
for st in /proc/"$pid"/task/*/status; do
	[ -r "$st" ] || continue
	tid=${st%/status}; tid=${tid##*/}
	# Name, Seccomp, CapEff, CapPrm, CapBnd, NoNewPrivs of this thread
	line=$(awk -F':[ \t]*' '
		$1 == "Name" { name = $2 }
		$1 == "Seccomp" { sc = $2 }
		$1 == "CapEff" { eff = $2 }
		$1 == "CapPrm" { prm = $2 }
		$1 == "CapBnd" { bnd = $2 }
		$1 == "NoNewPrivs" { nnp = $2 }
		END { printf "%s %s %s %s %s %s", name, sc, eff, prm, bnd, nnp }' "$st")
	set -- $line
	n=$((n + 1))
	verdict=ok
	if [ "$2" != 2 ] || [ "$3" != 0000000000000000 ] ||
	   [ "$4" != 0000000000000000 ] || [ "$6" != 1 ]; then
		verdict=NOT-CONFINED
		bad=1
	fi
	echo "tid $tid ($1): Seccomp $2 CapEff $3 CapPrm $4 CapBnd $5 NoNewPrivs $6: $verdict"
done
[ "$n" -gt 0 ] || { echo "no threads readable for $pid" >&2; exit 2; }
exit $bad
