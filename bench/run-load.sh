#!/usr/bin/env bash
# Loader benchmark (issue 5): `omnio load` against raw `omnio get PREFIX --discard -j N` (same
# concurrency N) and against a PyTorch DataLoader (num_workers=2, bench/torch_load.py) reading the
# same files, in ONE run, rounds interleaved. Data sets: 20,000 x 128 KiB and 64 x 64 MiB files on
# file://. Before every run the page cache is dropped when we may (root: echo 3 >
# /proc/sys/vm/drop_caches), so every tool reads from the device; the table says which.
#   bench/run-load.sh [DIR]     (DIR on a real file system; default build/bench-data)
#   REPEAT=3 SETS="20000x128KiB 64x64MiB" WARM=1 (keep the page cache: memory-speed reads)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps --bench
cmake --preset release >/dev/null
nice cmake --build --preset release --target omnio_cli >/dev/null
dir=${1:-$PWD/build/bench-data}/load
repeat=${REPEAT:-3}
sets=${SETS:-"20000x128KiB 64x64MiB"}
omnio=$PWD/build/release/omnio
torch_py=$PWD/bench/torch_load.py
PY=/usr/bin/python3
mkdir -p "$dir"
samples="$dir/samples.tsv"
: >"$samples"

cache=warm
if [[ -z ${WARM:-} ]] && sync && echo 3 2>/dev/null >/proc/sys/vm/drop_caches; then cache=cold; fi
drop() { [[ $cache == cold ]] && sync && echo 3 >/proc/sys/vm/drop_caches; true; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

# timed_run TOOL LABEL BYTES COMMAND...: under /usr/bin/time -v; records tool, label, GB/s (bytes
# / wall of the whole process; for torch the script's own time, which leaves out `import torch`),
# CPU s (user + sys), peak RSS MiB (torch: the parent only; its 2 workers are extra).
timed_run() {
  local tool=$1 label=$2 bytes=$3; shift 3
  local tv="$dir/time.txt" out="$dir/out.txt" s e secs
  drop
  s=$(date +%s.%N)
  /usr/bin/time -v -o "$tv" "$@" >"$out"
  e=$(date +%s.%N)
  secs=$(echo "$s $e" | awk '{print $2 - $1}')
  if [[ $tool == torch ]]; then
    read -r items got secs <"$out"
    [[ $got -eq $bytes ]] || { echo "torch read $got bytes, expected $bytes" >&2; exit 1; }
  fi
  local cpu rss
  cpu=$(awk -F': ' '/User time|System time/ {t += $2} END {print t}' "$tv")
  rss=$(awk -F': ' '/Maximum resident/ {print int($2 / 1024)}' "$tv")
  printf '%s\t%s\t%s\t%s\t%s\n' "$tool" "$label" "$(echo "$secs $bytes" | awk '{print $2 / $1 / 1e9}')" \
    "$cpu" "$rss" >>"$samples"
}

labels=()
for set in $sets; do
  count=${set%%x*} size=${set#*x}
  obj=$(numfmt --from=iec-i "${size%B}")
  d="$dir/$set"
  if [[ $(find "$d" -type f 2>/dev/null | wc -l) -ne $count ]]; then
    rm -rf "$d"
    "$omnio" -q put "file://$d/" -n "$count" -s "$size" -j 8 --seed 1
  fi
  labels+=("$set|$count|$obj")
done
# Concurrency per set (load --pool = get -j) with the loader's batch and readahead: the window
# (readahead x batch) holds the pool; 64 MiB items are measured at 4 and 16 in flight (memory:
# window + one batch of 64 MiB buffers).
settings() {  # settings OBJ -> lines "POOL BATCH READAHEAD"
  if (( $1 >= 16 << 20 )); then printf '4 4 2\n16 4 4\n'; else echo "32 32 4"; fi
}

echo "== cache: $cache; ${#labels[@]} sets x $repeat rounds (load, get, torch); $(uptime)" >&2
for round in $(seq "$repeat"); do
  for l in "${labels[@]}"; do
    IFS='|' read -r set count obj <<<"$l"
    bytes=$((count * obj))
    while read -r pool batch ra; do
      timed_run load "$set|$pool" "$bytes" "$omnio" -q load "file://$dir/$set/" --pool "$pool" --batch-size "$batch" --readahead "$ra"
      timed_run get "$set|$pool" "$bytes" "$omnio" -q get "file://$dir/$set/" --discard -j "$pool"
    done < <(settings "$obj")
    tb=$(( obj >= 16 << 20 ? 4 : 32 ))  # the loader's batch size
    timed_run torch "$set" "$bytes" "$PY" "$torch_py" "$dir/$set" "$tb" 2
  done
done
echo "== done; $(uptime)" >&2

printf '\n| data set (%s cache) | N | load GB/s | get -j N GB/s | torch GB/s | load / get | load / torch | CPU s load / get / torch | peak RSS MiB load / get / torch |\n' "$cache"
printf '|---|---:|---:|---:|---:|---:|---:|---|---|\n'
for l in "${labels[@]}"; do
  IFS='|' read -r set count obj <<<"$l"
  col() { awk -F'\t' -v t="$1" -v l="$2" -v c="$3" '$1==t && $2==l {print $c}' "$samples" | median; }
  tg=$(col torch "$set" 3)
  while read -r pool batch ra; do
    k="$set|$pool"
    lg=$(col load "$k" 3) gg=$(col get "$k" 3)
    printf '| %s | %s | %.3f | %.3f | %.3f | %.2f | %.2f | %.1f / %.1f / %.1f | %d / %d / %d |\n' "$set" "$pool" \
      "$lg" "$gg" "$tg" "$(echo "$lg $gg" | awk '{print $1/$2}')" "$(echo "$lg $tg" | awk '{print $1/$2}')" \
      "$(col load "$k" 4)" "$(col get "$k" 4)" "$(col torch "$set" 4)" "$(col load "$k" 5)" "$(col get "$k" 5)" "$(col torch "$set" 5)"
  done < <(settings "$obj")
done
printf '\n(median of %s rounds; N = load --pool = get -j; torch: num_workers=2, batch 32 / 4, prefetch_factor 4)\n' "$repeat"
printf 'raw samples: %s\n' "$samples"
[[ -n ${KEEP:-} ]] || rm -rf "$dir"   # KEEP=1 keeps the data sets for another run
