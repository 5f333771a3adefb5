#!/usr/bin/env bash
# az:// and gs:// benchmark against the local emulators (Azurite, the firebase GCS emulator), in ONE
# run: omnio vs rclone (Debian's 1.60) vs the official Node SDKs (bench/sdk_bench.js); rounds
# interleave the tools. Each row: median wall time, MB/s, objects/s, client CPU s (user+sys) and
# CPU s/GB, peak RSS, the emulator's CPU s and its share of the wall time (both emulators are
# single-threaded Node processes: near 100 % means the emulator is the bottleneck, not the client),
# and ratio = tool time / omnio time (helpers: bench/bench_lib.sh, bench/bench_report.py).
#   bench/run-cloud.sh [DIR]      (default build/bench-cloud)
#   REPEAT=3  BIG_MIB=1024  SMALL_COUNT=1000  SMALL_KIB=64
# Emulator limits that shape the rows (docs/BENCHMARKS.md): the GCS emulator finalizes a resumable
# upload on its first chunk, so omnio's gs:// 1 GiB PUT uses --part-size 1GiB (one request; the
# buffer is the object) and rclone cannot upload to it at all (HTTP 400 on its multipart uploads,
# a JSON parse error on resumable ones): its gs:// PUT rows are absent. The GCS emulator reads the
# whole blob for every ranged GET, so omnio's gs:// 1 GiB GET uses 4 ranges of 256 MiB (the default
# 128 x 8 MiB exceed the 30 s range timeout there); `omnio --max-ranges 4` on Azurite shows the same
# knob on a single-threaded server.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ ${OMNIO_SKIP_DEPS:-0} == 1 ]] || scripts/install-deps --bench --servers
cmake --preset release >/dev/null && cmake --build --preset release --target omnio_cli >/dev/null
root=$PWD
dir=${1:-$PWD/build/bench-cloud}
repeat=${REPEAT:-3}
big_mib=${BIG_MIB:-1024}
small_count=${SMALL_COUNT:-1000}
small_kib=${SMALL_KIB:-64}
omnio=$root/build/release/omnio
sdk=(node "$root/bench/sdk_bench.js")
mkdir -p "$dir"
samples=$dir/samples.tsv
: >"$samples"

# ---- servers on ports of their own ------------------------------------------------------------
export OMNIO_TEST_AZURITE_PORT=${OMNIO_BENCH_AZURITE_PORT:-10190}
export OMNIO_TEST_GCS_PORT=${OMNIO_BENCH_GCS_PORT:-9690} OMNIO_TEST_GCS_FAKE_PORT=${OMNIO_BENCH_GCS_FAKE_PORT:-9691}
cleanup() { scripts/servers/test-servers stop "$dir/servers" "azure gcs" >/dev/null 2>&1 || true; }
trap cleanup EXIT
echo "== starting Azurite and the GCS emulator" >&2
scripts/servers/test-servers start "$dir/servers" "azure gcs" >/dev/null
# shellcheck source=bench/bench_lib.sh
source bench/bench_lib.sh   # run ROW TOOL CMD..., server_cpu, bench_report
load_env "$dir/servers/servers.env"
[[ -n ${OMNIO_TEST_AZURITE:-} ]] || { echo "run-cloud: Azurite did not start: ${OMNIO_TEST_AZURITE_SKIP:-}" >&2; exit 1; }
[[ -n ${OMNIO_TEST_GCS_EMULATOR:-} ]] || { echo "run-cloud: GCS emulator did not start: ${OMNIO_TEST_GCS_EMULATOR_SKIP:-}" >&2; exit 1; }
acct=devstoreaccount1
key=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==
export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=$acct;AccountKey=$key;BlobEndpoint=$OMNIO_TEST_AZURITE/$acct;"
export STORAGE_EMULATOR_HOST=${OMNIO_TEST_GCS_EMULATOR#http://}
# rclone 1.60 builds Azure URLs as https://<account>.<endpoint>, so Azurite is reached through a
# container SAS URL (signed by the SDK with the development key); GCS through its endpoint option.
"$omnio" -q mb "az://$acct/bench"
sas=$(node -e '
const m = require(process.argv[1] + "/@azure/storage-blob");
console.log(m.generateBlobSASQueryParameters({containerName: "bench", permissions: m.ContainerSASPermissions.parse("racwdl"),
  expiresOn: new Date(Date.now() + 86400e3), protocol: m.SASProtocol.HttpsAndHttp},
  new m.StorageSharedKeyCredential(process.argv[2], process.argv[3])).toString());' \
  "${OMNIO_NODE_SDKS_DIR:-$root/.cache/node-sdks/node_modules}" "$acct" "$key")
export RCLONE_CONFIG=/dev/null
export RCLONE_CONFIG_AZ_TYPE=azureblob RCLONE_CONFIG_AZ_SAS_URL="$OMNIO_TEST_AZURITE/$acct/bench?$sas"
export RCLONE_CONFIG_GS_TYPE="google cloud storage" RCLONE_CONFIG_GS_ANONYMOUS=true
export RCLONE_CONFIG_GS_ENDPOINT=$OMNIO_TEST_GCS_EMULATOR/storage/v1/ RCLONE_CONFIG_GS_NO_CHECK_BUCKET=true
az_pid=$(cat "$dir/servers/azurite/azurite.pid")
gs_pid=$(cat "$dir/servers/gcs/gcs-emulator.pid")

bench_samples=$samples

echo "== data: ${big_mib} MiB file, ${small_count} x ${small_kib} KiB" >&2
bench_data "$dir" "$big_mib" "$small_count" "$small_kib"   # sets $big, $small
out=$dir/out
"$omnio" -q put "$big" "az://$acct/bench/big"
"$omnio" -q cp -r "$small" "az://$acct/bench/small"
"$omnio" -q --part-size "${big_mib}MiB" put "$big" gs://bench/big
"$omnio" -q cp -r "$small" gs://bench/small
check_small() {  # check_small DIR: every object arrived, byte-identical
  local n; n=$(find "$1" -type f | wc -l)
  [[ $n -eq $small_count ]] || { echo "run-cloud: $1 holds $n of $small_count objects" >&2; exit 1; }
  diff -rq "$small" "$1" >/dev/null || { echo "run-cloud: $1 differs from the source" >&2; exit 1; }
}

for round in $(seq "$repeat"); do
  echo "== round $round/$repeat" >&2
  # ---- Azure (Azurite) ----
  bench_server_pids=("$az_pid")
  for k in big-o big-r big-s; do "$omnio" -q rm "az://$acct/bench/$k" >/dev/null 2>&1 || true; done
  for p in small-o small-r small-s; do "$omnio" -q rm -r "az://$acct/bench/$p/" >/dev/null 2>&1 || true; done
  run az_put_big omnio "$omnio" -q put "$big" "az://$acct/bench/big-o"
  run az_put_big rclone rclone copyto --ignore-times "$big" az:bench/big-r
  run az_put_big node-sdk "${sdk[@]}" az put "$big" bench big-s
  for k in big-o big-r big-s; do "$omnio" -q rm "az://$acct/bench/$k"; done  # Azurite keeps blobs in memory
  run az_get_big omnio bash -c "'$omnio' -q get 'az://$acct/bench/big' - >/dev/null"
  run az_get_big "omnio --max-ranges 4" bash -c "'$omnio' -q --max-ranges 4 get 'az://$acct/bench/big' - >/dev/null"
  run az_get_big rclone bash -c "rclone cat az:bench/big >/dev/null"
  run az_get_big node-sdk "${sdk[@]}" az get bench big
  run az_put_small omnio "$omnio" -q cp -r "$small" "az://$acct/bench/small-o"
  run az_put_small rclone rclone copy --ignore-times "$small" az:bench/small-r
  run az_put_small node-sdk "${sdk[@]}" az put-dir "$small" bench small-s
  rm -rf "$out" && mkdir -p "$out"
  run az_get_small omnio "$omnio" -q cp -r "az://$acct/bench/small" "$out/o"
  run az_get_small rclone rclone copy az:bench/small "$out/r"
  run az_get_small node-sdk "${sdk[@]}" az get-dir bench small "$out/s"
  for d in o r s; do check_small "$out/$d"; done
  # ---- GCS (firebase emulator) ----
  bench_server_pids=("$gs_pid")
  for k in big-o big-s; do "$omnio" -q rm "gs://bench/$k" >/dev/null 2>&1 || true; done
  for p in small-o small-s; do "$omnio" -q rm -r "gs://bench/$p/" >/dev/null 2>&1 || true; done
  run gs_put_big "omnio --part-size 1GiB" "$omnio" -q --part-size "${big_mib}MiB" put "$big" gs://bench/big-o
  run gs_put_big node-sdk "${sdk[@]}" gs put "$big" bench big-s
  # The emulator reads the whole blob for every ranged GET (~2 s per 8 MiB range of 1 GiB here):
  # omnio's default 128 ranges of 8 MiB time out (range_timeout 30 s); 4 ranges of 256 MiB do not.
  run gs_get_big "omnio --range-chunk 256MiB --max-ranges 4" bash -c "'$omnio' -q --range-chunk 256MiB --max-ranges 4 get gs://bench/big - >/dev/null"
  run gs_get_big rclone bash -c "rclone cat gs:bench/big >/dev/null"
  run gs_get_big node-sdk "${sdk[@]}" gs get bench big
  run gs_put_small omnio "$omnio" -q cp -r "$small" gs://bench/small-o
  run gs_put_small node-sdk "${sdk[@]}" gs put-dir "$small" bench small-s
  rm -rf "$out" && mkdir -p "$out"
  run gs_get_small omnio "$omnio" -q cp -r gs://bench/small "$out/o"
  run gs_get_small rclone rclone copy gs:bench/small "$out/r"
  run gs_get_small node-sdk "${sdk[@]}" gs get-dir bench small "$out/s"
  for d in o r s; do check_small "$out/$d"; done
done
# What each wrote reads back identical through the others.
cmp <("$omnio" -q --range-chunk 256MiB --max-ranges 4 get gs://bench/big-s -) "$big" || { echo "run-cloud: SDK's gs:// object differs through omnio" >&2; exit 1; }
cmp <(rclone cat gs:bench/big-o) "$big" || { echo "run-cloud: omnio's gs:// object differs through rclone" >&2; exit 1; }
cmp <(rclone cat az:bench/big) "$big" || { echo "run-cloud: omnio's az:// object differs through rclone" >&2; exit 1; }

# ---- report ----------------------------------------------------------------------------------
sb=$((small_count * small_kib << 10))
for s in az gs; do
  name=$([[ $s == az ]] && echo Azurite || echo "GCS emulator")
  echo; echo "### $name"
  bench_report "$repeat" "$name" \
    "${s}_put_big=PUT 1 x ${big_mib} MiB=$((big_mib << 20))=0" \
    "${s}_get_big=GET 1 x ${big_mib} MiB (to /dev/null)=$((big_mib << 20))=0" \
    "${s}_put_small=PUT ${small_count} x ${small_kib} KiB=$sb=$small_count" \
    "${s}_get_small=GET ${small_count} x ${small_kib} KiB=$sb=$small_count"
done
echo; echo "load: $(uptime)"
