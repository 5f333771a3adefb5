#!/usr/bin/env bash
# End-to-end: the omnio CLI against real S3 servers (Ceph radosgw, moto), cross-checked with real
# third-party clients (awscli and boto3): bytes written by one are read identically by the other,
# metadata survives, and `omnio ls` and `aws s3 ls --recursive` agree on 10,000 keys (2,500 on moto).
set -uo pipefail
OMNIO=${1:?usage: cli_s3.sh path/to/omnio}
env_file=${OMNIO_TEST_SERVERS_ENV:?run through ctest (fixture s3servers) or set OMNIO_TEST_SERVERS_ENV}
unset OMNIO_TEST_SERVERS_ENV  # omnio warns about unknown OMNIO_* variables
work=$(mktemp -d "${TMPDIR:-/tmp}/omnio-cli-s3.XXXXXX")
trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/../support/cli_check.sh"
source "$(dirname "$0")/../support/s3_cli_env.sh"

head -c 3000017 /dev/urandom >"$work/small.bin"
head -c 41943041 /dev/urandom >"$work/big.bin"   # 40 MiB + 1: multipart for every client
head -c 1 /dev/urandom >"$work/one.bin"
: >"$work/empty.bin"
# 10,000 keys on radosgw, 2,500 on moto (three LIST pages still): moto stores ~165 PUTs/s, so
# 10,000 took ~60 s of CI there.
mkdir -p "$work/keys-RGW" "$work/keys-MOTO"
for i in $(seq -w 0 9999); do : >"$work/keys-RGW/k$i"; done
for i in $(seq -w 0 2499); do : >"$work/keys-MOTO/k$i"; done
printf '[default]\ns3 =\n  max_concurrent_requests = 32\n' >"$AWS_CONFIG_FILE"

# Ctrl-C while tests/support/fault_proxy.py holds a LIST page without answering (the store's stall
# timeout is a minute): `interrupted_in_stalled_list QUERY_REGEX LINES ARGS...` runs
# `omnio --endpoint-url PROXY ARGS...` with LIST requests whose query matches QUERY_REGEX held,
# sends SIGINT once one is held, and passes on exit 130 within a second with LINES lines printed.
interrupted_in_stalled_list() {
  local regex=$1 lines=$2 out=$work/proxy.out px port ctl pid t0 rc ms n
  shift 2
  # Emptied here, not only by the redirection below: that one happens in the forked child, and
  # the loop could read the previous call's ready line first (then the ports of a proxy that is
  # gone, or nothing once the child truncated the file: CI failed so, on the second server only).
  : >"$out"
  python3 "$(dirname "$0")/../support/fault_proxy.py" --upstream "$ep" >"$out" 2>"$out.err" &
  px=$!
  t0=$(date +%s%N)
  for _ in $(seq 600); do  # up to a minute (a loaded 2-core CI machine)
    grep -q '^FAULT_PROXY_PORT=' "$out" && break
    kill -0 "$px" 2>/dev/null || break
    sleep 0.1
  done
  read -r port ctl < <(sed -nE 's/^FAULT_PROXY_PORT=([0-9]+) FAULT_PROXY_CONTROL_PORT=([0-9]+)$/\1 \2/p' "$out")
  if [[ -z ${ctl:-} ]]; then
    ms=$((($(date +%s%N) - t0) / 1000000))
    if kill -0 "$px" 2>/dev/null; then rc=running; else wait "$px"; rc="exit $?"; fi
    echo "the fault proxy did not start in $ms ms ($rc); stdout: $(head -c 300 "$out");" \
      "stderr: $(head -c 600 "$out.err")"
    kill "$px" 2>/dev/null
    return 1
  fi
  curl -sf -X POST --data "[{\"method\":\"GET\",\"query_regex\":\"$regex\",\"action\":\"stall\",\"after_bytes\":-1,\"times\":-1}]" \
    "http://127.0.0.1:$ctl/rules" >/dev/null || { kill "$px"; return 1; }
  "$OMNIO" --endpoint-url "http://127.0.0.1:$port" "$@" >"$work/stalled.out" 2>"$work/stalled.err" &
  pid=$!
  for _ in $(seq 200); do
    [[ $(curl -sf "http://127.0.0.1:$ctl/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["faults"])') -ge 1 ]] && break
    sleep 0.05
  done
  sleep 0.1
  t0=$(date +%s%N)
  kill -INT "$pid"
  wait "$pid"
  rc=$?
  ms=$((($(date +%s%N) - t0) / 1000000))
  kill "$px"
  wait "$px" 2>/dev/null
  n=$(wc -l <"$work/stalled.out")
  echo "exit $rc after ${ms} ms, $n lines printed; stderr: $(head -c 300 "$work/stalled.err")"
  [[ $rc -eq 130 && $ms -lt 1000 && $n -eq $lines ]]
}

for srv in RGW MOTO; do
  s3_server "$srv" || continue
  ep=$S3_EP
  O() { "$OMNIO" -q --endpoint-url "$S3_EP" "$@"; }
  A() { aws --endpoint-url "$S3_EP" "$@"; }
  b="omnio-cli-$(echo "$srv" | tr A-Z a-z)-$$"
  s="s3://$b"

  check "$srv mb" O mb "$s"
  check "$srv mb again is fine" O mb "$s"
  check "$srv bucket listed" bash -c "'$OMNIO' --endpoint-url '$ep' ls s3:// | grep -qx '$s'"

  # omnio writes, awscli / boto3 read.
  for f in small.bin big.bin one.bin empty.bin; do
    check "$srv omnio put $f" O put "$work/$f" "$s/o/$f"
    check "$srv aws reads $f" A s3 cp --quiet "$s/o/$f" "$work/aws-$f"
    check "$srv bytes equal $f" cmp "$work/$f" "$work/aws-$f"
  done
  check "$srv omnio put stdin multipart" bash -c "cat '$work/big.bin' | '$OMNIO' -q --endpoint-url '$ep' put - '$s/o/stdin.bin' --content-type application/x-test"
  check "$srv boto3 reads stdin object" python3 - "$ep" "$b" "o/stdin.bin" "$work/big.bin" <<'PY'
import sys, boto3
ep, bucket, key, path = sys.argv[1:]
c = boto3.client("s3", endpoint_url=ep)
r = c.get_object(Bucket=bucket, Key=key)
body = r["Body"].read()
assert body == open(path, "rb").read(), "bytes differ"
assert r["ContentType"] == "application/x-test", r["ContentType"]
assert "-" in r["ETag"], "expected a multipart ETag: " + r["ETag"]
PY

  # awscli / boto3 write, omnio reads.
  check "$srv aws put big (multipart)" A s3 cp --quiet "$work/big.bin" "$s/a/big.bin"
  check "$srv omnio reads aws object" bash -c "'$OMNIO' -q --endpoint-url '$ep' get '$s/a/big.bin' - | cmp - '$work/big.bin'"
  check "$srv boto3 put with metadata" python3 - "$ep" "$b" <<'PY'
import sys, boto3
ep, bucket = sys.argv[1:]
boto3.client("s3", endpoint_url=ep).put_object(Bucket=bucket, Key="a/meta key+ü.txt", Body=b"hello",
    ContentType="text/plain", Metadata={"owner": "boto3", "run": "7"})
PY
  check "$srv omnio stat shows boto3 metadata" bash -c "'$OMNIO' --endpoint-url '$ep' stat --json '$s/a/meta key+ü.txt' | python3 -c '
import json,sys; m=json.load(sys.stdin)
assert m[\"size\"]==5 and m[\"content_type\"]==\"text/plain\" and m[\"metadata\"]=={\"owner\":\"boto3\",\"run\":\"7\"}, m'"
  check "$srv omnio reads odd key" bash -c "[[ \$('$OMNIO' -q --endpoint-url '$ep' get '$s/a/meta key+ü.txt') == hello ]]"

  # Ranges, discard, copy across stores and within S3.
  check "$srv range" bash -c "'$OMNIO' -q --endpoint-url '$ep' get '$s/o/big.bin' --offset 12345 --length 9MiB | cmp - <(tail -c +12346 '$work/big.bin' | head -c 9437184)"
  check "$srv discard" O get --discard "$s/o/big.bin"
  check "$srv cp s3 -> s3" O cp "$s/o/big.bin" "$s/c/big.bin"
  check "$srv cp s3 -> file" O cp "$s/c/big.bin" "$work/c-big.bin"
  check "$srv cp bytes" cmp "$work/big.bin" "$work/c-big.bin"
  nkeys=$(find "$work/keys-$srv" -type f | wc -l)
  check "$srv cp -r file -> s3" O cp -r "$work/keys-$srv/" "$s/keys/" -j 64
  A s3 ls --recursive "$s/keys/" | awk '{print $4}' | sort >"$work/aws-keys"
  O ls -r "$s/keys/" | sed "s#^$s/##" | sort >"$work/omnio-keys"
  check "$srv $nkeys keys listed by aws" test "$(wc -l <"$work/aws-keys")" -eq "$nkeys"
  check "$srv omnio ls == aws s3 ls" cmp "$work/aws-keys" "$work/omnio-keys"
  check "$srv ls non-recursive shows dirs" bash -c "'$OMNIO' --endpoint-url '$ep' ls '$s/' | grep -qx '$s/keys/'"
  check "$srv get -r --discard" O get -r "$s/o/" --discard -j 8
  # The workload generator on S3: count and sizes as awscli lists them, bytes read back.
  check "$srv put -n npz" O put "$s/w/" -n 50 -s 100000 --format npz -j 16 --seed 3
  check "$srv put -n streamed multipart" O put "$s/w/" -n 2 -s 20MiB --template 'big_{}' -j 2
  A s3 ls --recursive "$s/w/" >"$work/aws-w"
  check "$srv put -n count" test "$(wc -l <"$work/aws-w")" -eq 52
  check "$srv put -n sizes" test "$(awk '$4 ~ /big_/ {print $3}' "$work/aws-w" | sort -u)" = 20971520
  check "$srv get prefix --discard bytes" bash -c "'$OMNIO' --json --endpoint-url '$ep' get '$s/w/' --discard -j 8 | python3 -c 'import json,sys; j=json.load(sys.stdin); assert j[\"objects\"]==52 and j[\"bytes\"]==$(awk '{t += $3} END {print t}' "$work/aws-w"), j'"
  # The loader over a streamed listing of the 10,000 keys (ten LIST pages): each once, with the
  # bytes awscli lists. On radosgw only: moto serves ~100 GETs/s (10,000 took 101 s of CI), and
  # S3Integration.LoaderReadsAStreamedListingOfThousandsExactlyOnce reads two pages from it.
  if [[ $srv == RGW ]]; then
    keys_bytes=$(A s3 ls --recursive "$s/keys/" | awk '{t += $3} END {print t}')
    check "$srv load (streamed listing) reads the 10,000 keys" bash -c "'$OMNIO' --json --endpoint-url '$ep' load '$s/keys/' --pool 16 --batch-size 64 | python3 -c 'import json,sys; j=json.load(sys.stdin); assert j[\"items\"]==10000 and j[\"bytes\"]==$keys_bytes and j[\"errors\"]==0, j'"
  fi
  check "$srv Ctrl-C ends ls in a stalled LIST page at once" \
    interrupted_in_stalled_list continuation-token 1000 ls -r "$s/keys/"
  check "$srv Ctrl-C ends load in a stalled first LIST page at once" \
    interrupted_in_stalled_list list-type 0 -q load "$s/keys/"
  check "$srv rm -r $nkeys keys" O rm -r "$s/keys/"
  check "$srv aws sees none left" test -z "$(A s3 ls --recursive "$s/keys/")"

  # Errors a user must be able to read.
  expect_fail "$srv get missing" 1 "not_found" O get "$s/o/missing.bin" "$work/x"
  expect_fail "$srv rm missing" 1 "not_found" O rm "$s/o/missing.bin"
  # A listing that fails before naming an object is the answer, one line (BatchReport::source_failed).
  expect_fail "$srv get --discard of a missing bucket" 1 "NoSuchBucket" O get --discard "s3://omnio-no-such-bucket-$$/"
  expect_fail "$srv rb non-empty" 2 "BucketNotEmpty" O rb "$s"
  expect_fail "$srv bad bucket name" 2 "InvalidBucketName" O mb "s3://x"
  expect_fail "$srv bad endpoint" 2 "expected http(s)://host" "$OMNIO" -q --endpoint-url "127.0.0.1:1" ls "$s/"
  expect_fail "$srv dead endpoint fails fast" 1 "connection refused" timeout 20 "$OMNIO" -q --endpoint-url "http://127.0.0.1:1" ls "$s/"
  if [[ $srv == RGW ]]; then
    expect_fail "$srv wrong secret" 1 "unauthenticated" env AWS_SECRET_ACCESS_KEY=wrong "$OMNIO" -q --endpoint-url "$ep" ls "$s/"
  fi
  check "$srv rm -r all" O rm -r "$s/"
  check "$srv rb" O rb "$s"
done

echo "cli_s3: $pass passed, $fail failed, $skipped servers skipped"
[[ $fail -eq 0 ]]
