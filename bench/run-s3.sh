#!/usr/bin/env bash
# S3 benchmark: omnio against awscli, rclone and curl (--aws-sigv4) on Ceph radosgw started by this
# script, in ONE run; rounds interleave the tools so a noisy neighbour hits all of them alike. Each
# row prints the median wall time, throughput, CPU seconds (user+sys), peak RSS and the ratio
# peer time / omnio time (> 1: omnio is faster). Also: the nginx ceiling (the same client GETting a
# page-cached file from nginx, which does no storage work) and a 5 GiB streaming multipart upload
# from stdin whose peak RSS must stay within parts in flight x part size + 64 MiB.
#   bench/run-s3.sh [DIR]      (default build/bench-s3)
#   REPEAT=3  BIG_MIB=1024  SMALL_COUNT=1000  SMALL_KIB=64  MANY=10000  STREAM_GIB=5
#   ROWS="put_big get_big get_file get_nginx put_small get_small list_many delete_many stream" (default all)
set -euo pipefail
cd "$(dirname "$0")/.."
[[ ${OMNIO_SKIP_DEPS:-0} == 1 ]] || scripts/install-deps --bench --servers
OMNIO_SKIP_DEPS=1 scripts/build release >/dev/null
root=$PWD
dir=${1:-$PWD/build/bench-s3}
repeat=${REPEAT:-3}
big_mib=${BIG_MIB:-1024}
small_count=${SMALL_COUNT:-1000}
small_kib=${SMALL_KIB:-64}
many=${MANY:-10000}
stream_gib=${STREAM_GIB:-5}
omnio=$root/build/release/omnio
mkdir -p "$dir"
samples=$dir/samples.tsv   # row tool wall user sys rss_kib server_cpu_s
: >"$samples"

# ---- servers: radosgw with a memstore big enough for the streaming row, on ports of its own -----
export OMNIO_TEST_RGW_PORT=${OMNIO_BENCH_RGW_PORT:-7591} OMNIO_TEST_MOTO_PORT=${OMNIO_BENCH_MOTO_PORT:-5166}
export OMNIO_TEST_CEPH_MON_PORT=${OMNIO_BENCH_MON_PORT:-6895} OMNIO_TEST_CEPH_PORT_MIN=${OMNIO_BENCH_PORT_MIN:-6960}
export OMNIO_TEST_CEPH_MEMSTORE_BYTES=$(( (stream_gib + 4) << 30 ))
export OMNIO_NGINX_PORT=${OMNIO_BENCH_NGINX_PORT:-8690}
cleanup() {
  scripts/servers/test-servers stop "$dir/servers" s3 >/dev/null 2>&1 || true
  scripts/servers/nginx stop "$dir/nginx" >/dev/null 2>&1 || true
}
trap cleanup EXIT
echo "== starting Ceph radosgw (memstore $((OMNIO_TEST_CEPH_MEMSTORE_BYTES >> 30)) GiB) and nginx" >&2
scripts/servers/test-servers start "$dir/servers" s3 >/dev/null
# shellcheck source=bench/bench_lib.sh
source bench/bench_lib.sh   # run ROW TOOL CMD..., server_cpu, bench_report
load_env "$dir/servers/servers.env"
[[ -n ${OMNIO_TEST_S3_RGW:-} ]] || { echo "run-s3: radosgw did not start: ${OMNIO_TEST_S3_RGW_SKIP:-}" >&2; exit 1; }
ep=$OMNIO_TEST_S3_RGW
export AWS_ACCESS_KEY_ID=$OMNIO_TEST_S3_RGW_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$OMNIO_TEST_S3_RGW_SECRET_KEY
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_ENDPOINT_URL=$ep
export AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_CONFIG_FILE=/dev/null
export RCLONE_CONFIG_RGW_TYPE=s3 RCLONE_CONFIG_RGW_PROVIDER=Ceph RCLONE_CONFIG_RGW_ENDPOINT=$ep
export RCLONE_CONFIG_RGW_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID RCLONE_CONFIG_RGW_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY
export RCLONE_CONFIG=/dev/null
unset AWS_CA_BUNDLE  # plain-HTTP endpoints; rclone refuses a CA bundle on its transport
rgw_pid=$(ss -ltnpH "sport = :$OMNIO_TEST_RGW_PORT" | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -1)
ngx_root=$dir/nginx-root
nginx_ep=$(scripts/servers/nginx start "$dir/nginx" "$ngx_root" | sed -n 's/^OMNIO_NGINX_ENDPOINT=//p')

aws_=(aws --endpoint-url "$ep")
curl_sig=(curl -sS --fail --aws-sigv4 "aws:amz:us-east-1:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY"
  -H "x-amz-content-sha256: UNSIGNED-PAYLOAD")
bench_samples=$samples
[[ -n $rgw_pid ]] && bench_server_pids=("$rgw_pid")

echo "== data: ${big_mib} MiB file, ${small_count} x ${small_kib} KiB, ${many} keys" >&2
bench_data "$dir" "$big_mib" "$small_count" "$small_kib"   # sets $big, $small
manydir=$dir/many
if [[ ! -d $manydir || $(ls "$manydir" | wc -l) -ne $many ]]; then
  rm -rf "$manydir"; mkdir -p "$manydir"
  (cd "$manydir" && seq -w 1 "$many" | sed 's/^/k/' | xargs touch)
fi
"$omnio" -q mb s3://bench >/dev/null 2>&1 || true
mkdir -p "$ngx_root/bench" && cp "$big" "$ngx_root/bench/big" && cat "$ngx_root/bench/big" >/dev/null
"$omnio" -q put "$big" s3://bench/big
"$omnio" -q cp -r "$small" s3://bench/small
"$omnio" -q cp -r "$manydir" s3://bench/many-list
out=$dir/out && rm -rf "$out" && mkdir -p "$out"

# Frees the memstore: overwritten and deleted objects wait for RGW's garbage collector.
gc() { radosgw-admin -c "$dir/servers/ceph/ceph.conf" -n client.rgw.omnio gc process --include-all >/dev/null 2>&1 || true; }
for round in $(seq "$repeat"); do
  echo "== round $round/$repeat" >&2
  for k in big-o big-a big-r big-c; do "$omnio" -q rm "s3://bench/$k" >/dev/null 2>&1 || true; done
  for p in small-o small-a small-r; do "$omnio" -q rm -r "s3://bench/$p/" >/dev/null 2>&1 || true; done
  gc
  run put_big omnio "$omnio" -q put "$big" s3://bench/big-o
  run put_big awscli "${aws_[@]}" s3 cp "$big" s3://bench/big-a
  run put_big rclone rclone copyto --ignore-times "$big" rgw:bench/big-r
  run put_big curl "${curl_sig[@]}" -T "$big" "$ep/bench/big-c" -o /dev/null
  run get_big omnio bash -c "'$omnio' -q get s3://bench/big - >/dev/null"
  run get_big "omnio --max-ranges 8" bash -c "'$omnio' -q --max-ranges 8 get s3://bench/big - >/dev/null"
  run get_big awscli bash -c "aws --endpoint-url '$ep' s3 cp s3://bench/big - >/dev/null"
  run get_big rclone bash -c "rclone cat rgw:bench/big >/dev/null"
  run get_big curl "${curl_sig[@]}" "$ep/bench/big" -o /dev/null
  run get_big "omnio --discard" "$omnio" -q get s3://bench/big --discard
  # To a local file, as users fetch data: omnio writes ranges at their offsets (no range buffers).
  rm -f "$out"/big-*
  run get_file omnio "$omnio" -q get s3://bench/big "$out/big-o"
  run get_file awscli "${aws_[@]}" s3 cp s3://bench/big "$out/big-a"
  run get_file rclone rclone copyto --ignore-times rgw:bench/big "$out/big-r"
  run get_file curl "${curl_sig[@]}" "$ep/bench/big" -o "$out/big-c"
  if want get_file; then
    for t in o a r c; do cmp "$out/big-$t" "$big" || { echo "run-s3: get_file $t differs" >&2; exit 1; }; done
    rm -f "$out"/big-*
  fi
  run get_nginx omnio bash -c "'$omnio' -q --endpoint-url '$nginx_ep' get s3://bench/big - >/dev/null"
  run get_nginx "omnio --max-ranges 8" bash -c "'$omnio' -q --max-ranges 8 --endpoint-url '$nginx_ep' get s3://bench/big - >/dev/null"
  run get_nginx "omnio --discard" "$omnio" -q --endpoint-url "$nginx_ep" get s3://bench/big --discard
  run get_nginx curl curl -sS --fail "$nginx_ep/bench/big" -o /dev/null
  run put_small omnio "$omnio" -q cp -r "$small" s3://bench/small-o
  run put_small awscli "${aws_[@]}" s3 cp --recursive "$small" s3://bench/small-a
  run put_small rclone rclone copy --ignore-times "$small" rgw:bench/small-r
  rm -rf "$out"/*
  run get_small omnio "$omnio" -q cp -r s3://bench/small "$out/o"
  run get_small awscli "${aws_[@]}" s3 cp --recursive s3://bench/small "$out/a"
  run get_small rclone rclone copy rgw:bench/small "$out/r"
  want get_small && for d in o a r; do
    n=$(find "$out/$d" -type f | wc -l)
    [[ $n -eq $small_count ]] || { echo "run-s3: get_small $d fetched $n of $small_count objects" >&2; exit 1; }
  done
  run list_many omnio "$omnio" -q ls -r s3://bench/many-list/
  run list_many awscli "${aws_[@]}" s3 ls --recursive s3://bench/many-list/
  run list_many rclone rclone lsf rgw:bench/many-list
  want delete_many && for tool in omnio awscli rclone; do
    "$omnio" -q cp -r "$manydir" "s3://bench/many-rm-$tool"
  done
  run delete_many omnio "$omnio" -q rm -r s3://bench/many-rm-omnio/
  run delete_many awscli "${aws_[@]}" s3 rm --recursive s3://bench/many-rm-awscli/
  run delete_many rclone rclone delete rgw:bench/many-rm-rclone
  want delete_many && for tool in omnio awscli rclone; do
    left=$("$omnio" -q ls -r "s3://bench/many-rm-$tool/" | wc -l)
    [[ $left -eq 0 ]] || { echo "run-s3: delete_many $tool left $left keys" >&2; exit 1; }
  done
done

if want list_many; then
listed_o=$("$omnio" -q ls -r s3://bench/many-list/ | wc -l)
listed_a=$("${aws_[@]}" s3 ls --recursive s3://bench/many-list/ | wc -l)
[[ $listed_o -eq $many && $listed_a -eq $many ]] || { echo "run-s3: listing counts omnio=$listed_o aws=$listed_a, expected $many" >&2; exit 1; }
fi
if want put_big; then
cmp <("$omnio" -q get s3://bench/big-a -) "$big" || { echo "run-s3: object written by awscli reads back different through omnio" >&2; exit 1; }
cmp <("${aws_[@]}" s3 cp s3://bench/big-o -) "$big" || { echo "run-s3: object written by omnio reads back different through awscli" >&2; exit 1; }
fi

if want stream; then
echo "== ${stream_gib} GiB streaming multipart upload from stdin" >&2
for k in big-o big-a big-r big-c; do "$omnio" -q rm "s3://bench/$k" 2>/dev/null || true; done
gc
stream_bytes=$((stream_gib << 30))
run stream omnio bash -c "head -c $stream_bytes /dev/zero | '$omnio' -q put - s3://bench/stream"
got=$("$omnio" --json stat s3://bench/stream | python3 -c 'import json,sys; print(json.load(sys.stdin)["size"])')
[[ $got -eq $stream_bytes ]] || { echo "run-s3: streamed object has $got bytes, expected $stream_bytes" >&2; exit 1; }
"$omnio" -q rm s3://bench/stream
gc
run stream awscli bash -c "head -c $stream_bytes /dev/zero | aws --endpoint-url '$ep' s3 cp - s3://bench/stream"
"$omnio" -q rm s3://bench/stream
fi

# ---- report ----------------------------------------------------------------------------------
bench_report "$repeat" radosgw \
  "put_big=PUT 1 x ${big_mib} MiB=$((big_mib << 20))=0" \
  "get_big=GET 1 x ${big_mib} MiB (to /dev/null)=$((big_mib << 20))=0" \
  "get_file=GET 1 x ${big_mib} MiB to a local file=$((big_mib << 20))=0" \
  "get_nginx=GET 1 x ${big_mib} MiB from nginx (client ceiling)=$((big_mib << 20))=0=noserver" \
  "put_small=PUT ${small_count} x ${small_kib} KiB=$((small_count * small_kib << 10))=$small_count" \
  "get_small=GET ${small_count} x ${small_kib} KiB=$((small_count * small_kib << 10))=$small_count" \
  "list_many=LIST ${many} keys=0=$many" \
  "delete_many=DELETE ${many} keys=0=$many" \
  "stream=PUT ${stream_gib} GiB streamed from stdin=$((stream_gib << 30))=0"
python3 - "$samples" <<'PY'
import sys
rss = [int(l.split("\t")[5]) for l in open(sys.argv[1]) if l.startswith("stream\tomnio\t")]
if rss:
    peak, limit = max(rss) / 1024, 8 * 16 + 64
    print(f"streaming PUT peak RSS: {peak:.0f} MiB, limit parts in flight 8 x 16 MiB + 64 MiB = {limit} MiB: "
          f"{'OK' if peak <= limit else 'OVER'}")
PY
