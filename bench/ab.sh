#!/usr/bin/env bash
# Paired A/B of whole commands on this noisy, shared 2-vCPU VM: single runs swing +-10-20 %; the
# loader and op-log decisions in docs/BENCHMARKS.md since runs 11-13 were measured this way.
#   bench/ab.sh ROUNDS 'name|command' 'name|command' ...
# Each round runs every command once, in an order rotated by one per round (no command is always
# first or last); wall seconds of each run. Prints per command: median, min, and the median over
# rounds of its time / the first command's time in the same round (the paired ratio), with the
# sorted per-round ratios. Exit status 1 if any run failed (named on stderr).
#   MEMWARM=MiB (default 2048; 0 = off): before each run touch and free that much memory
#   (omnio_bench_firsttouch warm): this VM's free page reporting makes first touch of memory the
#   guest has not used lately cost a host fault per page, so a run right after one that freed a
#   lot got cheap memory and the order of the commands decided the result.
#   PRE='command': run once, untimed, before the first round. Use it to read file:// data back
#   into the page cache: this VM's host reclaims page cache left unread for a minute (DAMON
#   pageout), and the first timed run would read from disk.
# Example (the loader against get on the same files, docs/BENCHMARKS.md runs 14-16):
#   PRE="build/release/omnio -q get file://$PWD/d/ --discard -j 8" bench/ab.sh 10 \
#     "get|build/release/omnio -q get file://$PWD/d/ --discard -j 2" \
#     "load|build/release/omnio -q load file://$PWD/d/ --pool 2"
set -euo pipefail
cd "$(dirname "$0")/.."
if (($# < 2)) || ! [[ $1 =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: bench/ab.sh ROUNDS 'name|command' ['name|command' ...] (ROUNDS >= 1)" >&2
  exit 2
fi
rounds=$1
shift
warm=${MEMWARM:-2048}
firsttouch=$PWD/build/release/bench/omnio_bench_firsttouch
if ((warm > 0)) && [[ ! -x $firsttouch ]]; then
  cmake --preset release >/dev/null
  cmake --build --preset release --target omnio_bench_firsttouch >/dev/null
fi
names=() cmds=()
for v in "$@"; do
  [[ $v == *"|"* ]] || { echo "ab.sh: '$v' is not 'name|command'" >&2; exit 2; }
  names+=("${v%%|*}")
  cmds+=("${v#*|}")
done
n=${#names[@]}
if [[ -n ${PRE:-} ]]; then bash -c "$PRE" >/dev/null 2>&1 || { echo "ab.sh: PRE failed" >&2; exit 1; }; fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
failed=0
for r in $(seq "$rounds"); do
  for k in $(seq 0 $((n - 1))); do
    i=$(((k + r) % n))
    ((warm == 0)) || "$firsttouch" warm "$warm" >/dev/null
    s=$(date +%s%N)
    if ! bash -c "${cmds[$i]}" >/dev/null 2>&1; then
      echo "ab.sh: round $r: '${names[$i]}' failed" >&2
      failed=1
    fi
    e=$(date +%s%N)
    echo "$r ${names[$i]} $(((e - s) / 1000))" >>"$out"
  done
done
python3 - "$out" "${names[@]}" <<'PY'
import statistics as st
import sys

path, names = sys.argv[1], sys.argv[2:]
runs = {}
for line in open(path):
    r, name, us = line.split()
    runs.setdefault(name, {})[int(r)] = int(us) / 1e6
base = names[0]
for name in names:
    secs = [runs[name][r] for r in sorted(runs[name])]
    ratios = sorted(runs[name][r] / runs[base][r] for r in runs[name])
    print(f"{name:24s} median {st.median(secs):.3f} s  min {min(secs):.3f}  "
          f"paired / {base}: median {st.median(ratios):.3f}  [{' '.join(f'{x:.2f}' for x in ratios)}]")
PY
exit "$failed"
