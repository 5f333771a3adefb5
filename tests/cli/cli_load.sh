#!/usr/bin/env bash
# End-to-end: `omnio load` (the DataLoader) over data sets written by `omnio put -n`: every item
# once (also sharded and over epochs), npz arrays parsed, tfrecord records read by index with
# their CRCs checked (a flipped byte is reported with the object and offset), bad flags refused.
set -uo pipefail
OMNIO=${1:?usage: cli_load.sh path/to/omnio}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-$PWD}/omnio-load.XXXXXX")
trap 'rm -rf "$work"' EXIT
source "$here/../support/cli_check.sh"
O() { "$OMNIO" -q "$@"; }
PY=/usr/bin/python3; [[ -x $PY ]] || PY=python3
jq_assert() {  # jq_assert PYTHON_EXPR COMMAND...: the command's JSON line satisfies the expression
  local expr=$1; shift
  "$@" | $PY -c "import json,sys; j=json.loads(sys.stdin.readline()); assert $expr, j"
}
d=$work/data
check "put raw" O put "file://$d/raw/" -n 300 -s 3000 --seed 1 -j 8
check "load all once" jq_assert 'j["items"]==300 and j["bytes"]==900000 and j["errors"]==0 and j["epochs"]==1' \
  "$OMNIO" --json load "file://$d/raw/" --batch-size 16 --pool 8
check "load local path" jq_assert 'j["items"]==300' "$OMNIO" --json load "$d/raw/"
check "epochs + shuffle" jq_assert 'j["items"]==900 and j["batches"]==3*19' \
  "$OMNIO" --json load "$d/raw/" --shuffle --seed 7 --epochs 3 --batch-size 16
check "completion order" jq_assert 'j["items"]==300' "$OMNIO" --json load "$d/raw/" --order completion --readahead 2
check "drop last" jq_assert 'j["items"]==288' "$OMNIO" --json load "$d/raw/" --batch-size 32 --drop-last
# Ranks: disjoint and complete.
check "rank 0" bash -c "'$OMNIO' --json load '$d/raw/' --rank 0 --world 3 --shuffle --seed 2 > '$work/r0'"
check "rank 1" bash -c "'$OMNIO' --json load '$d/raw/' --rank 1 --world 3 --shuffle --seed 2 > '$work/r1'"
check "rank 2" bash -c "'$OMNIO' --json load '$d/raw/' --rank 2 --world 3 --shuffle --seed 2 > '$work/r2'"
check "ranks sum" $PY -c "import json; n=[json.load(open('$work/r%d' % i))['items'] for i in range(3)]; assert n==[100,100,100], n"
# Key list.
ls "$d/raw" | head -5 | sed "s|^|$d/raw/|" > "$work/keys"
check "keylist" jq_assert 'j["items"]==5 and j["bytes"]==15000' "$OMNIO" --json load --keylist "$work/keys"
# The table.
check "table" bash -c "'$OMNIO' load '$d/raw/' 2>&1 >/dev/null | head -1 | grep -q 'items.*bytes.*items/s.*GB/s.*p50_ms.*p99_ms.*wait_s.*retries.*errors.*cpu_user'"
check "table row" bash -c "'$OMNIO' load '$d/raw/' 2>&1 >/dev/null | sed -n 2p | grep -q '^load  *300  *900000 '"

# npz: arrays parsed (a corrupt one fails naming the object).
check "put npz" O put "$d/npz/" -n 4 -s 10000 --format npz --samples 3
check "load npz" jq_assert 'j["items"]==4' "$OMNIO" --json load "$d/npz/" --format npz
# tfrecord: one item per record, read through the .idx, data bytes = the payload.
check "put tfrecord" O put "$d/tfr/" -n 3 -s 5000 --format tfrecord --samples 10 --index
check "load tfrecord" jq_assert 'j["items"]==30 and j["bytes"]==15000' "$OMNIO" --json load "$d/tfr/" --format tfrecord --shuffle
rm "$d"/tfr/*.idx
check "load tfrecord without index (scanned)" jq_assert 'j["items"]==30 and j["bytes"]==15000' \
  "$OMNIO" --json load "$d/tfr/" --format tfrecord
check "put tfrecord 2" O put "$d/bad/" -n 1 -s 5000 --format tfrecord --samples 10 --index
f=$(ls "$d"/bad/*.tfrecord)
off=$(sed -n 5p "$f.idx" | cut -d' ' -f1)   # record 4
printf '\xff' | dd of="$f" bs=1 seek=$((off + 20)) conv=notrunc status=none
expect_fail "corrupt record" 1 "at byte offset $off: TFRecord data CRC mismatch" O load "$d/bad/" --format tfrecord
check "skip policy reports it" bash -c "'$OMNIO' load '$d/bad/' --format tfrecord --on-error skip 2>&1 | grep -q \"skipped: file://$f (.*byte offset $off\""
check "skip policy counts" bash -c "'$OMNIO' --json load '$d/bad/' --format tfrecord --on-error skip | $PY -c 'import json,sys; j=json.load(sys.stdin); assert j[\"items\"]==9 and j[\"skipped\"]==1 and j[\"errors\"]==1, j'"
expect_fail "npz of tfrecords" 1 "zip" O load "$d/bad/" --format npz

# Bad input: exit 2 with one line naming the flag.
expect_fail "batch 0" 2 "options.batch_size" O load "$d/raw/" --batch-size 0
expect_fail "pool 0" 2 "pool.pool_size" O load "$d/raw/" --pool 0
expect_fail "rank >= world" 2 "options.rank 3 must be below" O load "$d/raw/" --rank 3 --world 3
expect_fail "rank alone" 2 "--rank and --world" O load "$d/raw/" --rank 1
expect_fail "format" 2 "--format 'csv'" O load "$d/raw/" --format csv
expect_fail "on-error" 2 "--on-error 'maybe'" O load "$d/raw/" --on-error maybe
expect_fail "seed without shuffle" 2 "--seed needs --shuffle" O load "$d/raw/" --seed 3
expect_fail "empty prefix" 2 "no objects under" O load "$d/nothing/"
expect_fail "no uri" 2 "URI prefix or --keys-from" O load

echo "cli_load: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
