#!/usr/bin/env bash
# End-to-end: --op-log on real commands, zstd frames that zstd(1) accepts (also after SIGINT), no
# credentials in the log, and `omnio replay` into another directory with matching op counts/bytes.
set -uo pipefail
OMNIO=${1:?usage: cli_oplog.sh path/to/omnio}
work=$(mktemp -d "${TMPDIR:-$PWD}/omnio-oplog.XXXXXX")
pids=()
trap 'for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$work"' EXIT
source "$(dirname "${BASH_SOURCE[0]}")/../support/cli_check.sh"
O() { "$OMNIO" -q "$@"; }
# cat a log, plain or zstd
cat_log() { if [[ $1 == *.zst ]]; then zstd -dcq "$1"; else cat "$1"; fi; }
# "OP count bytes" per op, sorted, from a log
op_totals() { cat_log "$1" | awk -F'\t' 'NR>1 && $1 !~ /^#/ {c[$3]++; b[$3]+=$6} END {for (o in c) print o, c[o], b[o]}' | sort; }

header=$'idx\tthread\top\tclient_id\tn_objects\tbytes\tendpoint\tfile\terror\tstart\tfirst_byte\tend\tduration_ns'
mkdir -p "$work/src/sub"
for i in 1 2 3 4 5; do head -c $((i * 7000 + 1)) /dev/urandom >"$work/src/f$i"; done
head -c 3 /dev/urandom >"$work/src/sub/tiny"

# --op-log on a few commands; every line has 13 fields and the header comes first.
check "put with op-log" O --op-log "$work/put.tsv" put "$work/src/f1" "file://$work/one/f1"
check "header line" bash -c "[[ \"\$(head -1 '$work/put.tsv')\" == \"$header\" ]]"
check "one PUT line" bash -c "[[ \$(grep -c \$'\tPUT\t' '$work/put.tsv') -eq 1 ]]"
check "13 fields" bash -c "awk -F'\t' '\$1 !~ /^#/ && NF != 13 {exit 1}' '$work/put.tsv'"
check "trailer" bash -c "tail -1 '$work/put.tsv' | grep -qx '# omnio-op-log records=[0-9]* dropped=0'"
check "ns timestamps" bash -c "sed -n 2p '$work/put.tsv' | cut -f10 | grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{9}Z\$'"
check "ls with op-log" O --op-log "$work/ls.tsv" ls -r "$work/src/"
check "ls LIST line" bash -c "cut -f3 '$work/ls.tsv' | grep -qx LIST"
check "global flag after subcommand" O stat "$work/src/f1" --op-log "$work/stat.tsv.zst"
check "stat zstd -t" zstd -tq "$work/stat.tsv.zst"
check "stat STAT line" bash -c "zstd -dcq '$work/stat.tsv.zst' | cut -f3 | grep -qx STAT"
check "summary on stderr" bash -c "'$OMNIO' --op-log '$work/s.tsv' stat '$work/src/f1' 2>&1 >/dev/null | grep -q 'op-log: 1 records'"
# A failing command still leaves a complete log with its failed operation.
expect_fail "failing get" 1 "not_found" "$OMNIO" -q --op-log "$work/fail.tsv.zst" get "file://$work/nope"
check "failed op logged" bash -c "zstd -tq '$work/fail.tsv.zst' && zstd -dcq '$work/fail.tsv.zst' | awk -F'\t' '\$3==\"GET\" && \$9 ~ /not_found/ {f=1} END {exit !f}'"
expect_fail "unwritable op-log" 1 "op-log" "$OMNIO" -q --op-log "$work/no/such/dir/x.tsv" ls "$work/src/"

# No credentials in the log: S3 keys in the environment and a URI with userinfo never appear.
check "no credentials" bash -c "AWS_ACCESS_KEY_ID=AKIAOPLOGTEST AWS_SECRET_ACCESS_KEY=oplogsecret \
  '$OMNIO' -q --op-log '$work/cred.tsv' --endpoint-url http://127.0.0.1:1 stat s3://bucket/key >/dev/null 2>&1;
  test -s '$work/cred.tsv' && ! grep -q -e AKIAOPLOGTEST -e oplogsecret '$work/cred.tsv'"

# Record a mixed workload (cp -r: LIST + GET + PUT per object; then get, stat, rm) and replay it.
check "record cp -r" O --op-log "$work/rec1.tsv.zst" cp -r -j 2 "$work/src/" "file://$work/a/"
check "record zstd -t" zstd -tq "$work/rec1.tsv.zst"
# The target holds the same input data (staged without logging); the replay's reads hit it.
check "stage input" O cp -r "$work/src/" "file://$work/b/src/"
check "replay into another dir" O --op-log "$work/rep1.tsv.zst" replay "$work/rec1.tsv.zst" \
  --source "file://$work/" --target "file://$work/b/" --speed 4
check "op totals equal" diff <(op_totals "$work/rec1.tsv.zst") <(op_totals "$work/rep1.tsv.zst")
check "replayed objects exist" bash -c "for i in 1 2 3 4 5; do [[ \$(stat -c %s '$work/b/a/f'\$i) -eq \$(stat -c %s '$work/src/f'\$i) ]] || exit 1; done"
check "replay report" bash -c "'$OMNIO' replay '$work/rec1.tsv.zst' --source 'file://$work/' --target 'file://$work/c/' --ops put | grep -E '^PUT +6 +0 '"
# The same log as JSON Lines (converted by Python's csv + json, not by omnio), zstd-compressed:
# its replay must do the same operations.
check "log as jsonl" bash -c "zstd -dc '$work/rec1.tsv.zst' | python3 -c '
import csv, json, sys
rows = csv.DictReader((l for l in sys.stdin if not l.startswith(\"#\")), delimiter=\"\\t\", quoting=csv.QUOTE_NONE)
for r in rows:
    r[\"bytes\"] = int(r[\"bytes\"])
    print(json.dumps(r))' | zstd -q -o '$work/rec1.jsonl.zst'"
check "replay jsonl" O --op-log "$work/rep2.tsv" replay "$work/rec1.jsonl.zst" \
  --source "file://$work/" --target "file://$work/b/" --speed 4
check "jsonl op totals equal" diff <(op_totals "$work/rec1.tsv.zst") <(op_totals "$work/rep2.tsv")
check "replay json" bash -c "'$OMNIO' --json replay '$work/rec1.tsv.zst' --ops GET,LIST | python3 -c 'import json,sys; j=json.loads(sys.stdin.readline()); assert j[\"ops\"][\"GET\"][\"count\"]==6 and j[\"ops\"][\"GET\"][\"errors\"]==0, j'"

# Bad input: one clear error each.
expect_fail "speed 0" 2 "speed must be a number > 0" "$OMNIO" replay "$work/rec1.tsv.zst" --speed 0
expect_fail "speed negative" 2 "speed must be a number > 0" "$OMNIO" replay "$work/rec1.tsv.zst" --speed -2
expect_fail "missing log" 1 "not_found" "$OMNIO" replay "$work/none.tsv"
printf '%s\n1\t1\tGET\n' "$header" >"$work/bad.tsv"
expect_fail "malformed line" 2 "line 2: expected 13 tab-separated fields, found 3" "$OMNIO" replay "$work/bad.tsv"
expect_fail "unknown op filter" 2 "unknown op 'FROB'" "$OMNIO" replay "$work/rec1.tsv.zst" --ops GET,FROB

# SIGINT in the middle of a replay: exit 130, and the op-log is a complete zstd frame with the
# operations done so far and the trailer.
t0=$(date -u +%Y-%m-%dT%H:%M:%S); t1=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%S)
{ echo "$header"
  printf '0\t1\tSTAT\t\t1\t0\tfile://\t%s\t\t%s.000000000Z\t\t%s.000001000Z\t1000\n' "$work/src/f1" "$t0" "$t0"
  printf '1\t1\tSTAT\t\t1\t0\tfile://\t%s\t\t%s.000000000Z\t\t%s.000001000Z\t1000\n' "$work/src/f2" "$t1" "$t1"
} >"$work/slow.tsv"
"$OMNIO" -q --op-log "$work/int.tsv.zst" replay "$work/slow.tsv" >/dev/null 2>"$work/int.err" &
pid=$!; pids+=("$pid")
for _ in $(seq 100); do [[ -s "$work/int.tsv.zst" ]] && break; sleep 0.05; done
sleep 0.5
kill -INT "$pid"; wait "$pid"; rc=$?
check "SIGINT exit 130" test "$rc" -eq 130
check "SIGINT zstd -t" zstd -tq "$work/int.tsv.zst"
check "SIGINT log content" bash -c "zstd -dcq '$work/int.tsv.zst' | awk -F'\t' 'NR==1 && \$3==\"op\" {h=1} \$3==\"STAT\" {s++} /^# omnio-op-log records=1 dropped=0/ {t=1} END {exit !(h && s==1 && t)}'"

# SIGINT while the command cannot stop by itself (put from a stdin that never ends): after the
# grace period the log is finished anyway and the exit code is 130.
mkfifo "$work/fifo"
exec 7<>"$work/fifo"  # keeps a writer open so reads block instead of seeing EOF
"$OMNIO" -q --op-log "$work/stuck.tsv.zst" put - "file://$work/stuck.bin" <"$work/fifo" &
pid=$!; pids+=("$pid")
sleep 0.5
kill -INT "$pid"; wait "$pid"; rc=$?
exec 7>&-
check "stuck SIGINT exit 130" test "$rc" -eq 130
check "stuck SIGINT zstd -t" zstd -tq "$work/stuck.tsv.zst"
check "stuck SIGINT trailer" bash -c "zstd -dcq '$work/stuck.tsv.zst' | tail -1 | grep -q '^# omnio-op-log records='"
check "stuck put not published" test ! -e "$work/stuck.bin"

echo "cli_oplog: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
