#!/usr/bin/env bash
# Write benchmark: `omnio put PREFIX -n COUNT -s SIZE` (generated objects) against fio writing the
# same files (same count and sizes), to file:// (buffered) and direct:// (O_DIRECT), in ONE run.
# Rounds interleave omnio and fio; the tables show per-configuration medians, the ratio
# omnio / fio, CPU seconds (user + sys, /usr/bin/time) and peak RSS. Then the data generator's
# GB/s per core against memcpy (bench/omnio_bench_datagen) from the same invocation.
#   bench/run-put.sh [DIR]     (DIR on a real file system; default build/bench-data)
#   REPEAT=3 JOBS="1 2" CASES="1000x1MiB 10x1GiB" SCHEMES="file direct"
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps --bench
cmake --preset release >/dev/null
nice cmake --build --preset release --target omnio_cli omnio_bench_datagen >/dev/null
dir=${1:-$PWD/build/bench-data}/put
repeat=${REPEAT:-3}
jobs_list=${JOBS:-"1 2"}
cases=${CASES:-"1000x1MiB 10x1GiB"}
schemes=${SCHEMES:-"file direct"}
omnio=$PWD/build/release/omnio
datagen=$PWD/build/release/bench/omnio_bench_datagen
mkdir -p "$dir"
samples="$dir/samples.tsv"
: >"$samples"

median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

# timed_run TOOL LABEL BYTES COMMAND...: runs under /usr/bin/time -v, records
# label, GB/s (wall of the whole process), CPU s, peak RSS MiB.
timed_run() {
  local tool=$1 label=$2 bytes=$3; shift 3
  local tv="$dir/time.txt" s e
  sync
  s=$(date +%s.%N)
  /usr/bin/time -v -o "$tv" "$@" >/dev/null
  e=$(date +%s.%N)
  local cpu rss
  cpu=$(awk -F': ' '/User time|System time/ {t += $2} END {print t}' "$tv")
  rss=$(awk -F': ' '/Maximum resident/ {print int($2 / 1024)}' "$tv")
  printf '%s\t%s\t%s\t%s\t%s\n' "$tool" "$label" \
    "$(echo "$s $e $bytes" | awk '{print $3 / ($2 - $1) / 1e9}')" "$cpu" "$rss" >>"$samples"
}

configs=()
for c in $cases; do
  count=${c%%x*}
  size=${c#*x}
  for scheme in $schemes; do
    for j in $jobs_list; do
      # fio splits the files evenly over its jobs; an uneven split would write fewer files.
      (( count % j == 0 )) || { echo "skipping $count x $size j=$j: $count files do not split over $j jobs" >&2; continue; }
      configs+=("$count|$size|$scheme|$j")
    done
  done
done

# One tool's timed run of the current configuration (globals: count size scheme j obj bytes label
# target round), its output checked and deleted.
run_omnio() {
  timed_run omnio "$label" "$bytes" "$omnio" -q put "$scheme://$target/" -n "$count" -s "$size" -j "$j" --seed "$round"
  [[ $(find "$target" -type f | wc -l) -eq $count && $(du -sb "$target" | cut -f1) -ge $bytes ]] ||
    { echo "omnio wrote the wrong count or size" >&2; exit 1; }
  rm -rf "$target"
  sync
}
run_fio() {
  # fio: the same files, split over j jobs; psync (blocking pwrite like omnio's local stores),
  # 1 MiB blocks (omnio's io_block_size), O_DIRECT for direct://. fio fills buffers once and
  # reuses them (refill_buffers off): it does not pay for generating data, omnio does.
  per_job=$((count / j))
  timed_run fio "$label" "$bytes" fio --name=put --directory="$dir/fio" --rw=write --bs=1m \
    --ioengine=psync --direct=$([[ $scheme == direct ]] && echo 1 || echo 0) \
    --numjobs="$j" --nrfiles="$per_job" --filesize="$obj" --size=$((per_job * obj)) \
    --file_service_type=sequential --group_reporting --output-format=terse
  # (--create_on_open=1 made fio 3.33 write nothing at all: check what it wrote.)
  [[ $(find "$dir/fio" -type f | wc -l) -eq $count && $(du -sb "$dir/fio" | cut -f1) -ge $bytes ]] ||
    { echo "fio wrote $(find "$dir/fio" -type f | wc -l) files, $(du -sb "$dir/fio" | cut -f1) bytes" >&2; exit 1; }
  rm -rf "$dir/fio"
  mkdir -p "$dir/fio"
  sync  # as after omnio: the next tool must not pay for this one's writeback
}

echo "== ${#configs[@]} configurations x $repeat interleaved rounds (omnio first on odd rounds, fio first on even)" >&2
for round in $(seq "$repeat"); do
  for cfg in "${configs[@]}"; do
    IFS='|' read -r count size scheme j <<<"$cfg"
    obj=$(numfmt --from=iec-i "${size%B}")  # fio's default kb_base reads "1MiB" as 10^6: pass bytes
    bytes=$((count * obj))
    label="$count x $size $scheme:// j=$j"
    target="$dir/omnio"
    rm -rf "$target" "$dir/fio"
    mkdir -p "$target" "$dir/fio"
    # Odd rounds omnio first, even rounds fio first: the second tool writes into page-cache memory
    # the first one just freed, which on this VM (free page reporting) is much cheaper than memory
    # the host took back (docs/BENCHMARKS.md), so a fixed order favours the second tool.
    if (( round % 2 )); then run_omnio; run_fio; else run_fio; run_omnio; fi
  done
done

printf '\n| workload | omnio GB/s | fio GB/s | omnio / fio | omnio CPU s | fio CPU s | omnio peak RSS MiB | fio peak RSS MiB |\n'
printf '|---|---:|---:|---:|---:|---:|---:|---:|\n'
for cfg in "${configs[@]}"; do
  IFS='|' read -r count size scheme j <<<"$cfg"
  label="$count x $size $scheme:// j=$j"
  col() { awk -F'\t' -v t="$1" -v l="$label" -v c="$2" '$1==t && $2==l {print $c}' "$samples" | median; }
  og=$(col omnio 3) fg=$(col fio 3) oc=$(col omnio 4) fc=$(col fio 4) orss=$(col omnio 5) frss=$(col fio 5)
  awk -v l="$label" -v og="$og" -v fg="$fg" -v oc="$oc" -v fc="$fc" -v orss="$orss" -v frss="$frss" \
    'BEGIN {printf "| %s | %.3f | %.3f | %.2f | %.2f | %.2f | %d | %d |\n", l, og, fg, og/fg, oc, fc, orss, frss}'
done
printf '\n(median of %s rounds; GB/s = bytes / wall time of the whole process, 10^9 B/s)\n' "$repeat"

echo "== data generator vs memcpy" >&2
if [[ -x $datagen ]]; then
  printf '\n'
  "$datagen" 1024 5
fi
rm -rf "$dir"
