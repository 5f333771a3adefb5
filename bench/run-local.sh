#!/usr/bin/env bash
# Local I/O benchmark: omnio file:// and direct:// against fio, dd and cat on the same 2 GiB file,
# in ONE run. Prints medians of REPEAT runs and the ratios omnio / best peer.
#   bench/run-local.sh [DIR]     (DIR on a real file system; default build/bench-data)
#   REPEAT=3 SIZE_GIB=2
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps --bench
OMNIO_SKIP_DEPS=1 scripts/build release >/dev/null
dir=${1:-$PWD/build/bench-data}
repeat=${REPEAT:-5}
size_gib=${SIZE_GIB:-2}
bin=build/release/bench/omnio_bench_local
omnio=build/release/omnio
mkdir -p "$dir"
file="$dir/read.bin"
wfile="$dir/write.bin"
results="$dir/results.tsv"
: >"$results"

median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
record() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$results"; }  # kind label GB/s

echo "== preparing a ${size_gib} GiB file" >&2
if [[ ! -f $file || $(stat -c %s "$file") -ne $((size_gib << 30)) ]]; then
  "$bin" --file "$file" --mode write --scheme direct --size "${size_gib}GiB" >/dev/null
fi
sync
drop() { dd if="$1" iflag=nocache count=0 status=none 2>/dev/null || true; }

fio_gbps() {  # fio args... -> GB/s (decimal) of the job
  fio --output-format=json "$@" | python3 -c 'import json,sys; j=json.load(sys.stdin)["jobs"][0]; r=j["read"]["bw_bytes"] or j["write"]["bw_bytes"]; print(r/1e9)'
}

# The disk of a shared VM is noisy (the same fio job varies 1.5-2.8 GB/s between runs), so every
# read configuration runs once per round, rounds interleave, and the table shows per-config medians.
read_cfgs=()
for eng in io_uring libaio; do
  for bs in 1m 4m 16m 64m; do
    for qd in 1 4 16; do
      read_cfgs+=("fio_read|fio $eng bs=$bs iodepth=$qd|fio_gbps --name=r --filename=$file --rw=read --direct=1 --ioengine=$eng --bs=$bs --iodepth=$qd --size=${size_gib}g --readonly")
    done
  done
done
for bs in 1M 16M; do
  read_cfgs+=("dd_read|dd iflag=direct bs=$bs|timed dd if=$file of=/dev/null bs=$bs iflag=direct status=none")
done
read_cfgs+=("omnio_direct_read|omnio direct:// default (direct_io(): engine on, 64 MiB x 16)|omnio_read --engine on")
read_cfgs+=("omnio_direct_read|omnio direct:// engine off|omnio_read --engine off")
for c in 8MiB:4 16MiB:8 64MiB:4; do
  read_cfgs+=("omnio_direct_read|omnio direct:// engine on chunk=${c%%:*} conc=${c##*:}|omnio_read --engine on --chunk ${c%%:*} --concurrency ${c##*:}")
done
timed() {  # timed COMMAND... -> GB/s for reading/writing the whole file
  local s e; s=$(date +%s.%N); "$@"; e=$(date +%s.%N)
  echo "$s $e" | awk -v b=$((size_gib << 30)) '{print b/($2-$1)/1e9}'
}
omnio_read() { "$bin" --file "$file" --mode read --scheme direct "$@" | cut -f8; }

echo "== O_DIRECT sequential reads: ${#read_cfgs[@]} configurations x $repeat interleaved rounds" >&2
samples="$dir/read-samples.tsv"
: >"$samples"
for round in $(seq "$repeat"); do
  for i in "${!read_cfgs[@]}"; do
    IFS='|' read -r kind label cmd <<<"${read_cfgs[$i]}"
    printf '%s\t%s\t%s\n' "$kind" "$label" "$(eval "$cmd")" >>"$samples"
  done
done
for i in "${!read_cfgs[@]}"; do
  IFS='|' read -r kind label _ <<<"${read_cfgs[$i]}"
  record "$kind" "$label" "$(awk -F'\t' -v l="$label" '$2==l {print $3}' "$samples" | median)"
done

echo "== file:// cold and warm, and cat" >&2
v=$(for _ in $(seq "$repeat"); do "$bin" --file "$file" --mode read --scheme file --engine off --drop-cache; done | cut -f8 | median)
record omnio_file_cold "omnio file:// cold (engine off)" "$v"
cat "$file" >/dev/null
v=$("$bin" --file "$file" --mode read --scheme file --engine off --repeat "$repeat" | cut -f8 | median)
record omnio_file_warm "omnio file:// warm (engine off)" "$v"
v=$(for _ in $(seq "$repeat"); do
  s=$(date +%s.%N); cat "$file" >/dev/null; e=$(date +%s.%N)
  echo "$s $e" | awk -v b=$((size_gib << 30)) '{print b/($2-$1)/1e9}'; done | median)
record cat_warm "cat > /dev/null (warm)" "$v"
v=$(for _ in $(seq "$repeat"); do drop "$file";
  s=$(date +%s.%N); cat "$file" >/dev/null; e=$(date +%s.%N)
  echo "$s $e" | awk -v b=$((size_gib << 30)) '{print b/($2-$1)/1e9}'; done | median)
record cat_cold "cat > /dev/null (cold)" "$v"

echo "== writes" >&2
for bs in 4m 16m 64m; do
  for qd in 1 4 16; do
    v=$(for _ in $(seq "$repeat"); do rm -f "$wfile"; fio_gbps --name=w --filename="$wfile" --rw=write --direct=1 --ioengine=io_uring --bs=$bs --iodepth=$qd --size=${size_gib}g; done | median)
    record fio_write "fio io_uring write bs=$bs iodepth=$qd" "$v"
  done
done
for bs in 16M 64M; do
  v=$(for _ in $(seq "$repeat"); do rm -f "$wfile"
    s=$(date +%s.%N); dd if=/dev/zero of="$wfile" bs=$bs count=$(( (size_gib << 30) / (${bs%M} << 20) )) oflag=direct status=none; e=$(date +%s.%N)
    echo "$s $e" | awk -v b=$((size_gib << 30)) '{print b/($2-$1)/1e9}'; done | median)
  record dd_write "dd oflag=direct bs=$bs" "$v"
done
for block in 1MiB 8MiB; do
  v=$(for _ in $(seq "$repeat"); do rm -f "$wfile"; "$bin" --file "$wfile" --mode write --scheme direct --size "${size_gib}GiB" --block $block; done | cut -f8 | median)
  record omnio_direct_write "omnio direct:// put io_block_size=$block" "$v"
done

echo "== peak RSS of omnio get direct:// --discard (default config: 16 x 64 MiB)" >&2
rss_kib=$( { /usr/bin/time -v "$omnio" -q get --discard "direct://$file" ; } 2>&1 | awk -F: '/Maximum resident/ {gsub(/ /,"",$2); print $2}')

best() { awk -F'\t' -v k="$1" '$1==k && $3>m {m=$3; l=$2} END {printf "%s\t%.3f\n", l, m}' "$results"; }
printf '\n| measurement | GB/s (median of %s) |\n|---|---:|\n' "$repeat"
awk -F'\t' '{printf "| %s | %.3f |\n", $2, $3}' "$results"
printf '\n| target | omnio | best peer | ratio | goal |\n|---|---|---|---:|---|\n'
ratio() {  # label omnio_kind peer_kinds goal
  local o p
  o=$(best "$2"); p=$(for k in $3; do best "$k"; done | sort -t$'\t' -k2 -g | tail -1)
  awk -v o="$o" -v p="$p" -v l="$1" -v g="$4" 'BEGIN {split(o,a,"\t"); split(p,b,"\t");
    printf "| %s | %s (%.3f) | %s (%.3f) | %.3f | %s |\n", l, a[1], a[2], b[1], b[2], a[2]/b[2], g}'
}
ratio "direct:// sequential read" omnio_direct_read "fio_read dd_read" ">= 0.95"
ratio "direct:// write" omnio_direct_write "fio_write dd_write" ">= 0.95"
ratio "file:// warm read" omnio_file_warm "cat_warm" ">= 0.90"
ratio "file:// cold read" omnio_file_cold "cat_cold" "(info)"
limit_kib=$(( (16 * 64 + 64) * 1024 ))
printf '| peak RSS, get direct:// --discard of %s GiB | %s MiB | limit 16 x 64 MiB + 64 MiB = %s MiB | %.3f | <= 1.0 |\n' \
  "$size_gib" $((rss_kib / 1024)) $((limit_kib / 1024)) "$(echo "$rss_kib $limit_kib" | awk '{print $1/$2}')"
rm -f "$wfile"
