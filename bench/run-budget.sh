#!/usr/bin/env bash
# Memory-budget cost (issue 7): the same omnio commands with the default budget and with
# `--memory-budget off`, in ONE run, rounds interleaved (budget first on odd rounds, off first on
# even ones). Rows: the S3 benchmark's reads and writes of a 1 GiB object on Ceph radosgw (streamed
# GET to stdout: the path with range buffers; GET to a file; PUT from a file) and the loader
# benchmark-like 32 x 64 MiB and 2,000 x 1 MiB local data sets (page cache warm). Prints, per row,
# the median wall time of each and the ratio budget/off (goal: under 1.02).
#   bench/run-budget.sh [DIR]     REPEAT=7 (rounds)
set -euo pipefail
cd "$(dirname "$0")/.."
[[ ${OMNIO_SKIP_DEPS:-0} == 1 ]] || scripts/install-deps --servers
OMNIO_SKIP_DEPS=1 scripts/build release >/dev/null
root=$PWD
dir=${1:-$PWD/build/bench-budget}
repeat=${REPEAT:-7}
omnio=$root/build/release/omnio
mkdir -p "$dir"
export OMNIO_TEST_RGW_PORT=${OMNIO_BENCH_RGW_PORT:-7592} OMNIO_TEST_MOTO_PORT=${OMNIO_BENCH_MOTO_PORT:-5167}
export OMNIO_TEST_CEPH_MON_PORT=${OMNIO_BENCH_MON_PORT:-6896} OMNIO_TEST_CEPH_PORT_MIN=${OMNIO_BENCH_PORT_MIN:-7030}
export OMNIO_TEST_CEPH_MEMSTORE_BYTES=$((4 << 30))
trap 'scripts/servers/test-servers stop "$dir/servers" s3 >/dev/null 2>&1 || true' EXIT
scripts/servers/test-servers start "$dir/servers" s3 >/dev/null
# shellcheck source=bench/bench_lib.sh
source bench/bench_lib.sh
load_env "$dir/servers/servers.env"
[[ -n ${OMNIO_TEST_S3_RGW:-} ]] || { echo "run-budget: radosgw did not start: ${OMNIO_TEST_S3_RGW_SKIP:-}" >&2; exit 1; }
export AWS_ACCESS_KEY_ID=$OMNIO_TEST_S3_RGW_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$OMNIO_TEST_S3_RGW_SECRET_KEY
export AWS_REGION=us-east-1 AWS_ENDPOINT_URL=$OMNIO_TEST_S3_RGW AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_CONFIG_FILE=/dev/null

big=$dir/big.bin
[[ -f $big && $(stat -c %s "$big") -eq $((1 << 30)) ]] || head -c $((1 << 30)) /dev/urandom >"$big"
mkset() {  # DIR COUNT MIB
  [[ -d $1 && $(ls "$1" | wc -l) -eq $2 ]] && return 0
  rm -rf "$1"; mkdir -p "$1"
  for i in $(seq -w 1 "$2"); do head -c $(($3 << 20)) /dev/urandom >"$1/f$i"; done
}
mkset "$dir/load-32x64" 32 64
mkset "$dir/load-2000x1" 2000 1
"$omnio" mb s3://budget >/dev/null 2>&1 || true
"$omnio" put "$big" s3://budget/big.bin -q

samples=$dir/samples.tsv
: >"$samples"
sample() {  # ROW MODE CMD...
  local row=$1 mode=$2; shift 2
  local flag=(); [[ $mode == off ]] && flag=(--memory-budget off)
  local s e
  s=$(date +%s.%N)
  "$omnio" "${flag[@]}" "$@" >/dev/null 2>>"$dir/err.txt" || { echo "run-budget: $row/$mode failed" >&2; tail -3 "$dir/err.txt" >&2; exit 1; }
  e=$(date +%s.%N)
  printf '%s\t%s\t%s\n' "$row" "$mode" "$(echo "$s $e" | awk '{print $2 - $1}')" >>"$samples"
}
for r in $(seq 1 "$repeat"); do
  modes=(budget off); ((r % 2 == 0)) && modes=(off budget)
  for m in "${modes[@]}"; do
    sample get_stdout "$m" get s3://budget/big.bin - -q
    sample get_file "$m" get s3://budget/big.bin "$dir/out.bin" -q
    sample put_big "$m" put "$big" s3://budget/put.bin -q
    sample load_32x64MiB "$m" load "$dir/load-32x64/" --batch-size 8 -q
    sample load_2000x1MiB "$m" load "$dir/load-2000x1/" -q
  done
  echo "round $r/$repeat done" >&2
done
rm -f "$dir/out.bin"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$samples" <<'PY'
import statistics, sys, collections
t = collections.defaultdict(list)
for line in open(sys.argv[1]):
    row, mode, secs = line.split()
    t[(row, mode)].append(float(secs))
rows = list(dict.fromkeys(r for r, _ in t))
print("| row | budget (default) s | off s | budget / off |")
print("|---|---|---|---|")
for r in rows:
    b, o = statistics.median(t[(r, 'budget')]), statistics.median(t[(r, 'off')])
    print(f"| {r} | {b:.3f} | {o:.3f} | {b / o:.3f} |")
PY
