#!/usr/bin/env bash
# End-to-end against real S3 servers (Ceph radosgw, moto), cross-checked with awscli: a dry run
# writes nothing; Ctrl-C of a multipart upload leaves no multipart upload behind
# (`aws s3api list-multipart-uploads`) and exits 130; cp -r --skip-existing resumes against ETags
# (single-PUT MD5 and multipart md5-of-parts); manifests (ls --json) drive cp -r and rm.
set -uo pipefail
OMNIO=${1:?usage: cli_s3_habits.sh path/to/omnio}
env_file=${OMNIO_TEST_SERVERS_ENV:?run through ctest (fixture s3servers) or set OMNIO_TEST_SERVERS_ENV}
unset OMNIO_TEST_SERVERS_ENV  # omnio warns about unknown OMNIO_* variables
work=$(mktemp -d "${TMPDIR:-/tmp}/omnio-s3-habits.XXXXXX")
trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/../support/cli_check.sh"
source "$(dirname "$0")/../support/s3_cli_env.sh"
PY=python3

mkdir -p "$work/tree/sub"
for f in a b c sub/d; do head -c $((RANDOM * 10 + 1)) /dev/urandom >"$work/tree/$f"; done
head -c $((12 * 1048576 + 7)) /dev/urandom >"$work/tree/big"   # 3 parts of 5 MiB: multipart ETag
n_tree=5
truncate -s 4G "$work/huge"                                     # Ctrl-C source (sparse)
: >"$AWS_CONFIG_FILE"

for srv in RGW MOTO; do
  s3_server "$srv" || continue
  ep=$S3_EP
  O() { "$OMNIO" -q --endpoint-url "$S3_EP" --part-size 5MiB "$@"; }
  A() { aws --endpoint-url "$S3_EP" "$@"; }
  b="omnio-habits-$(echo "$srv" | tr A-Z a-z)-$$"
  s="s3://$b"
  check "$srv mb" O mb "$s"

  # Dry run: the lines name every object; awscli sees nothing new.
  check "$srv dry-run cp -r" bash -c "[[ \$('$OMNIO' --endpoint-url '$ep' cp -r --dry-run '$work/tree/' '$s/t/' | grep -c '^(dryrun) copy: file://$work/tree/.* to $s/t/') -eq $n_tree ]]"
  check "$srv dry-run put" bash -c "[[ \$('$OMNIO' --endpoint-url '$ep' put --dry-run '$work/tree/a' '$s/x') == '(dryrun) upload: file://$work/tree/a to $s/x' ]]"
  check "$srv aws sees nothing after dry runs" test -z "$(A s3 ls --recursive "$s/")"

  # Resume: copy, drop one object and change another (same size), resume copies exactly those two.
  check "$srv cp -r" O cp -r "$work/tree/" "$s/t/"
  check "$srv multipart ETag" bash -c "aws --endpoint-url '$ep' s3api head-object --bucket '$b' --key t/big --query ETag --output text | grep -q -- '-3\"\$'"
  check "$srv resume: all skipped" bash -c "'$OMNIO' --json --endpoint-url '$ep' --part-size 5MiB cp -r --skip-existing '$work/tree/' '$s/t/' | $PY -c 'import json,sys; j=json.load(sys.stdin); assert j[\"objects\"]==0 and j[\"skipped\"]==$n_tree, j'"
  A s3 rm --quiet "$s/t/b"
  $PY -c "import sys; p=sys.argv[1]; d=bytearray(open(p,'rb').read()); d[-1]^=0xff; open(p,'wb').write(d)" "$work/tree/big"
  check "$srv resume copies the missing and the changed" bash -c "'$OMNIO' --json --endpoint-url '$ep' --part-size 5MiB cp -r --resume '$work/tree/' '$s/t/' | $PY -c 'import json,sys; j=json.load(sys.stdin); assert j[\"objects\"]==2 and j[\"skipped\"]==3, j'"
  check "$srv aws reads the changed big" bash -c "aws --endpoint-url '$ep' s3 cp --quiet '$s/t/big' '$work/big.back' && cmp '$work/tree/big' '$work/big.back'"
  check "$srv resume download: local dest" O cp -r "$s/t/" "$work/down/"
  check "$srv resume download skips all" bash -c "'$OMNIO' --json --endpoint-url '$ep' --part-size 5MiB cp -r --skip-existing '$s/t/' '$work/down/' | $PY -c 'import json,sys; j=json.load(sys.stdin); assert j[\"objects\"]==0 and j[\"skipped\"]==$n_tree, j'"
  check "$srv other part size: not comparable, copied" bash -c "'$OMNIO' --json --endpoint-url '$ep' --part-size 8MiB cp -r --skip-existing '$s/t/' '$work/down/' | $PY -c 'import json,sys; j=json.load(sys.stdin); assert j[\"objects\"]==1 and j[\"skipped\"]==4, j'"

  # Manifest: ls -r --json -> cp -r --keys-from (S3 to local) and rm --keys-from (awscli checks).
  check "$srv ls -r --json" bash -c "'$OMNIO' --endpoint-url '$ep' ls -r --json '$s/t/' >'$work/keys.jsonl' && [[ \$(wc -l <'$work/keys.jsonl') -eq $n_tree ]]"
  check "$srv cp -r --keys-from" O cp -r --keys-from "$work/keys.jsonl" "$s/t/" "$work/man/"
  check "$srv manifest copy equals source" diff -r "$work/tree" "$work/man"
  printf 'a\nsub/d\n' >"$work/rel.txt"
  check "$srv rm --keys-from relative" O rm --keys-from "$work/rel.txt" "$s/t/"
  check "$srv aws: exactly those gone" bash -c "[[ \$(aws --endpoint-url '$ep' s3 ls --recursive '$s/t/' | wc -l) -eq $((n_tree - 2)) ]] && ! aws --endpoint-url '$ep' s3 ls '$s/t/a' >/dev/null"

  # Ctrl-C during a multipart upload: exit 130, no object, no multipart upload left.
  "$OMNIO" --no-progress --endpoint-url "$ep" --part-size 5MiB put "$work/huge" "$s/cc/huge" 2>"$work/errc" &
  pid=$!
  for _ in $(seq 200); do
    [[ -n $(A s3api list-multipart-uploads --bucket "$b" --query 'Uploads[].UploadId' --output text 2>/dev/null | grep -v None) ]] && break
    sleep 0.1
  done
  check "$srv a multipart upload was in flight" test -n "$(A s3api list-multipart-uploads --bucket "$b" --query 'Uploads[].UploadId' --output text | grep -v None)"
  kill -INT $pid; wait $pid; rc=$?
  check "$srv Ctrl-C exit 130" test $rc -eq 130
  check "$srv Ctrl-C said so" grep -q "^omnio: interrupted: " "$work/errc"
  check "$srv no multipart upload left" test -z "$(A s3api list-multipart-uploads --bucket "$b" --query 'Uploads[].UploadId' --output text | grep -v None)"
  check "$srv no object" test -z "$(A s3 ls --recursive "$s/cc/")"

  check "$srv rm -r all" O rm -r "$s/"
  check "$srv rb" O rb "$s"
  # The changed big file is restored for the next server.
  $PY -c "import sys; p=sys.argv[1]; d=bytearray(open(p,'rb').read()); d[-1]^=0xff; open(p,'wb').write(d)" "$work/tree/big"
  rm -rf "$work/down" "$work/man"
done

echo "cli_s3_habits: $pass passed, $fail failed, $skipped servers skipped"
[[ $fail -eq 0 ]]
