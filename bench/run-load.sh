#!/usr/bin/env bash
# Loader benchmark (issue 5): `omnio load` against raw reads of the same objects with the same
# concurrency N, and against a PyTorch DataLoader (num_workers=2, bench/torch_load.py), in ONE run,
# rounds interleaved. Per data set and N, one run each of:
#   load    omnio load PREFIX --pool N (raw items, sampler order, data dropped by the consumer)
#   loadc   the same with --order completion (batches as items complete: no head-of-line wait)
#   get     omnio get PREFIX --discard -j N: streams every object through a few small reused
#           chunks and never holds one whole (the issue's literal peer)
#   mem     bench/omnio_bench_getmem --mode into --jobs N: each object read whole into memory (one
#           reused buffer per job, ObjectStore::get_into) -- the same work the loader must do to
#           hand over every item as one Bytes, without the loader: the fair peer
#   torch   bench/torch_load.py, PyTorch DataLoader num_workers=2 (files: open().read(); s3://:
#           boto3 get_object in each worker)
# Targets (TARGETS, default "file s3"):
#   file    SETS (default "20000x128KiB 64x64MiB") on file:// under DIR. The page cache is dropped
#           before every run when we may (root: echo 3 > /proc/sys/vm/drop_caches) -> "cold";
#           WARM=1 keeps it (memory-speed reads) -> "warm".
#   s3      S3_SETS (default "5000x128KiB 32x64MiB": the file sets scaled down so that they fit the
#           memstore of one local radosgw and a round stays in minutes) on s3:// against Ceph
#           radosgw started here by scripts/servers/test-servers on OMNIO_BENCH_RGW_PORT (default
#           7681), OMNIO_BENCH_MON_PORT, OMNIO_BENCH_PORT_MIN; memstore sized for the sets.
# EPOCHS=E (default 1): every tool makes E passes over the set in one process (load --epochs E,
# get --keys-from a list naming each object E times, mem --repeat E, torch E epochs), so one-time
# costs (first touch of the loader's buffers) are amortised as in a training run.
#   bench/run-load.sh [DIR]     (DIR on a real file system; default build/bench-data)
#   REPEAT=3 EPOCHS=1 KEEP=1 (keep the file:// data sets for another run) TORCH=0 (no torch runs)
set -euo pipefail
cd "$(dirname "$0")/.."
targets=${TARGETS:-"file s3"}
[[ ${OMNIO_SKIP_DEPS:-0} == 1 ]] || scripts/install-deps --bench $([[ $targets == *s3* ]] && echo --servers)
cmake --preset release >/dev/null
nice cmake --build --preset release --target omnio_cli omnio_bench_getmem omnio_bench_firsttouch >/dev/null
dir=${1:-$PWD/build/bench-data}/load
repeat=${REPEAT:-3}
epochs=${EPOCHS:-1}
sets=${SETS:-"20000x128KiB 64x64MiB"}
s3_sets=${S3_SETS:-"5000x128KiB 32x64MiB"}
omnio=$PWD/build/release/omnio
getmem=$PWD/build/release/bench/omnio_bench_getmem
firsttouch=$PWD/build/release/bench/omnio_bench_firsttouch
torch_py=$PWD/bench/torch_load.py
PY=/usr/bin/python3
mkdir -p "$dir"
samples="$dir/samples.tsv"
: >"$samples"
tables="$dir/tables.md"
: >"$tables"

cache=warm
if [[ -z ${WARM:-} ]] && sync && echo 3 2>/dev/null >/proc/sys/vm/drop_caches; then cache=cold; fi
drop() { [[ $target == file && $cache == cold ]] && sync && echo 3 >/proc/sys/vm/drop_caches; true; }
median() { sort -g | awk '{a[NR]=$1} END {if (!NR) print "nan"; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

# timed_run TOOL LABEL BYTES COMMAND...: under /usr/bin/time -v; records target, tool, label, GB/s
# (bytes / wall of the whole process; for torch the script's own time, which leaves out `import
# torch`), CPU s (user + sys), peak RSS MiB (torch: the parent only; its 2 workers are extra).
# torch and mem print "items bytes seconds"; their byte count must be the data set's.
timed_run() {
  local tool=$1 label=$2 bytes=$3; shift 3
  local tv="$dir/time.txt" out="$dir/out.txt" s e secs
  drop
  # Warm memory (MEMWARM MiB, default 2048; 0 = off): on a VM that reports free memory to the host
  # (virtio_balloon free page reporting) a tool's first touch of memory the guest has not used in
  # the last seconds costs a host fault per page, and a run right after a tool that freed a lot
  # got cheap memory: the order of the tools decided the result (docs/BENCHMARKS.md).
  (( ${MEMWARM:-2048} == 0 )) || "$firsttouch" warm "${MEMWARM:-2048}"
  s=$(date +%s.%N)
  /usr/bin/time -v -o "$tv" "$@" >"$out"
  e=$(date +%s.%N)
  secs=$(echo "$s $e" | awk '{print $2 - $1}')
  if [[ $tool == torch || $tool == mem ]]; then
    local items got t
    read -r items got t <"$out"
    [[ $got -eq $bytes ]] || { echo "$tool read $got bytes, expected $bytes" >&2; exit 1; }
    [[ $tool == torch ]] && secs=$t
  fi
  local cpu rss
  cpu=$(awk -F': ' '/User time|System time/ {t += $2} END {print t}' "$tv")
  rss=$(awk -F': ' '/Maximum resident/ {print int($2 / 1024)}' "$tv")
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$target" "$tool" "$label" \
    "$(echo "$secs $bytes" | awk '{print $2 / $1 / 1e9}')" "$cpu" "$rss" >>"$samples"
}

# Concurrency per set (load --pool = get -j = mem --jobs) with the loader's batch and readahead:
# the window (readahead x batch) holds the pool; 64 MiB items are measured at 4 and 16 in flight
# (memory: window + one batch of 64 MiB buffers), 128 KiB items at 2 (what 2 vCPUs can use for
# page-cache reads) and 32 (the loader's default, the queue depth an NVMe drive wants).
settings() {  # settings OBJ -> lines "POOL BATCH READAHEAD"
  if (( $1 >= 16 << 20 )); then printf '4 4 2\n16 4 4\n'; else printf '2 32 4\n32 32 4\n'; fi
}

# run_target TARGET ROOT SETS: writes the sets under ROOT (a file:// or s3:// prefix ending in
# '/') unless they are there, runs the rounds, appends the table to $tables.
run_target() {
  local root=$2 tsets=$3 l set count obj bytes pool batch ra tb round
  target=$1
  local labels=()
  for set in $tsets; do
    count=${set%%x*} size=${set#*x}
    obj=$(numfmt --from=iec-i "${size%B}")
    if [[ $target == s3 || $(find "$dir/$set" -type f 2>/dev/null | wc -l) -ne $count ]]; then
      [[ $target == file ]] && rm -rf "${dir:?}/$set"
      "$omnio" -q put "$root$set/" -n "$count" -s "$size" -j 8 --seed 1
    fi
    labels+=("$set|$count|$obj")
  done
  local what="cache: $cache"
  [[ $target == s3 ]] && what="radosgw memstore at $OMNIO_TEST_S3_RGW"
  rm -f "$dir"/keys-"$target"-*.txt
  # With a warm cache, one untimed read of every set first: this VM's host reclaims page cache
  # that went unread for a minute (DAMON pageout), and the first timed run (load) paid for the
  # reads from disk (run of 2026-12-01 10:06: load at 2.0 GB/s in round 1, 4.9-5.9 after).
  if [[ $cache == warm ]]; then
    for l in "${labels[@]}"; do "$omnio" -q get "$root${l%%|*}/" --discard -j 8 >/dev/null; done
  fi
  echo "== $target ($what); ${#labels[@]} sets x $repeat rounds (load, get, mem, torch), $epochs epoch(s) each; $(uptime)" >&2
  for round in $(seq "$repeat"); do
    for l in "${labels[@]}"; do
      IFS='|' read -r set count obj <<<"$l"
      bytes=$((count * obj * epochs))
      local keys=$dir/keys-$target-$set.txt get_src=("$root$set/")
      if (( epochs > 1 )); then  # the set's objects, listed once per epoch
        [[ -s $keys ]] || for _ in $(seq "$epochs"); do "$omnio" -q ls -r "$root$set/"; done >"$keys"
        get_src=(--keys-from "$keys")
      fi
      # Warm cache: read the set once more, untimed, before its runs of each round. A torch run
      # of the 64 MiB set takes minutes on this VM, long enough for the host to page out the
      # other set's page cache, and the first timed run after it paid for that whatever the tool
      # (2026-12-02: `get --discard` 4.5 s, `load` 1.5-5.7 s, against 0.3 s warm); with torch
      # last in each round, that was always `load --pool 2`.
      if [[ $cache == warm ]]; then "$omnio" -q get "$root$set/" --discard -j 8 >/dev/null; fi
      while read -r pool batch ra; do
        # The four tools in an order rotated by one each round: the first run after the set's
        # re-read (and after the other set's runs) was slower whatever the tool (run 26: `load
        # --pool 2`, always first then, 0.88x `get` by the table's medians against 0.93-1.06x in
        # paired rotated runs).
        local k
        for k in 0 1 2 3; do
          case $(((k + round) % 4)) in
            0) timed_run load "$set|$pool" "$bytes" "$omnio" -q load "$root$set/" --pool "$pool" --batch-size "$batch" --readahead "$ra" --epochs "$epochs" ;;
            1) timed_run loadc "$set|$pool" "$bytes" "$omnio" -q load "$root$set/" --pool "$pool" --batch-size "$batch" --readahead "$ra" --epochs "$epochs" --order completion ;;
            2) timed_run get "$set|$pool" "$bytes" "$omnio" -q get "${get_src[@]}" --discard -j "$pool" ;;
            3) timed_run mem "$set|$pool" "$bytes" "$getmem" --prefix "$root$set/" --jobs "$pool" --mode into --repeat "$epochs" ;;
          esac
        done
      done < <(settings "$obj")
      tb=$(( obj >= 16 << 20 ? 4 : 32 ))  # the loader's batch size
      local troot=$dir/$set
      [[ $target == s3 ]] && troot=$root$set/
      [[ ${TORCH:-1} == 0 ]] || timed_run torch "$set" "$bytes" "$PY" "$torch_py" "$troot" "$tb" 2 "$epochs"
    done
  done
  echo "== $target done; $(uptime)" >&2

  {
    printf '\n| data set (%s, %s epoch(s)) | N | load GB/s | load --order completion GB/s | get --discard GB/s | mem GB/s | torch GB/s | load / get --discard | completion / get --discard | **load / mem** | completion / mem | load / torch | CPU s load / completion / get / mem / torch | peak RSS MiB load / completion / get / mem / torch |\n' \
      "$([[ $target == s3 ]] && echo "s3://, radosgw" || echo "file://, $cache cache")" "$epochs"
    printf '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|\n'
    for l in "${labels[@]}"; do
      IFS='|' read -r set count obj <<<"$l"
      col() { awk -F'\t' -v g="$target" -v t="$1" -v l="$2" -v c="$3" '$1==g && $2==t && $3==l {print $c}' "$samples" | median; }
      local tg lg cg gg mg k
      tg=$(col torch "$set" 4)  # nan with TORCH=0
      while read -r pool batch ra; do
        k="$set|$pool"
        lg=$(col load "$k" 4) cg=$(col loadc "$k" 4) gg=$(col get "$k" 4) mg=$(col mem "$k" 4)
        printf '| %s | %s | %.3f | %.3f | %.3f | %.3f | %.3f | %.2f | %.2f | **%.2f** | %.2f | %.2f | %.1f / %.1f / %.1f / %.1f / %.1f | %s / %s / %s / %s / %s |\n' \
          "$set" "$pool" "$lg" "$cg" "$gg" "$mg" "$tg" "$(echo "$lg $gg" | awk '{print $1/$2}')" \
          "$(echo "$cg $gg" | awk '{print $1/$2}')" "$(echo "$lg $mg" | awk '{print $1/$2}')" \
          "$(echo "$cg $mg" | awk '{print $1/$2}')" "$(echo "$lg $tg" | awk '{print $1/$2}')" \
          "$(col load "$k" 5)" "$(col loadc "$k" 5)" "$(col get "$k" 5)" "$(col mem "$k" 5)" "$(col torch "$set" 5)" \
          "$(col load "$k" 6)" "$(col loadc "$k" 6)" "$(col get "$k" 6)" "$(col mem "$k" 6)" "$(col torch "$set" 6)"
      done < <(settings "$obj")
    done
  } >>"$tables"
}

for target in $targets; do
  case $target in
    file) run_target file "file://$dir/" "$sets" ;;
    s3)
      s3bytes=0
      for set in $s3_sets; do
        size=${set#*x}
        s3bytes=$((s3bytes + ${set%%x*} * $(numfmt --from=iec-i "${size%B}")))
      done
      export OMNIO_TEST_RGW_PORT=${OMNIO_BENCH_RGW_PORT:-7681} OMNIO_TEST_MOTO_PORT=${OMNIO_BENCH_MOTO_PORT:-5266}
      export OMNIO_TEST_CEPH_MON_PORT=${OMNIO_BENCH_MON_PORT:-6995} OMNIO_TEST_CEPH_PORT_MIN=${OMNIO_BENCH_PORT_MIN:-7060}
      # Room for the sets twice over (memstore keeps head and tail objects, metadata) + 1 GiB.
      export OMNIO_TEST_CEPH_MEMSTORE_BYTES=$(( s3bytes * 2 + (1 << 30) ))
      srv=$dir/servers
      trap 'scripts/servers/test-servers stop "$srv" s3 >/dev/null 2>&1 || true' EXIT
      echo "== starting Ceph radosgw (memstore $((OMNIO_TEST_CEPH_MEMSTORE_BYTES >> 20)) MiB)" >&2
      scripts/servers/test-servers start "$srv" s3 >/dev/null
      # shellcheck source=bench/bench_lib.sh
      source bench/bench_lib.sh
      load_env "$srv/servers.env"
      [[ -n ${OMNIO_TEST_S3_RGW:-} ]] || { echo "run-load: radosgw did not start: ${OMNIO_TEST_S3_RGW_SKIP:-}" >&2; exit 1; }
      export AWS_ACCESS_KEY_ID=$OMNIO_TEST_S3_RGW_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$OMNIO_TEST_S3_RGW_SECRET_KEY
      export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_ENDPOINT_URL=$OMNIO_TEST_S3_RGW
      export AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_CONFIG_FILE=/dev/null
      "$omnio" -q mb s3://bench-load >/dev/null 2>&1 || true
      run_target s3 "s3://bench-load/" "$s3_sets"
      scripts/servers/test-servers stop "$srv" s3 >/dev/null 2>&1 || true
      trap - EXIT
      ;;
    *) echo "run-load: unknown target '$target' (expected file or s3)" >&2; exit 2 ;;
  esac
done

cat "$tables"
printf '\n(median of %s rounds; N = load --pool = get -j = mem --jobs; torch: num_workers=2, batch 32 / 4, prefetch_factor 4)\n' "$repeat"
printf 'raw samples: %s\n' "$samples"
# Only the file:// sets are local, and only a run that made or used them removes them.
if [[ -z ${KEEP:-} && $targets == *file* ]]; then for set in $sets; do rm -rf "${dir:?}/$set"; done; fi
