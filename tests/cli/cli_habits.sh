#!/usr/bin/env bash
# End-to-end on file://: the ecosystem's CLI habits (--dry-run, --json, exit codes 0/1/2/3/130,
# Ctrl-C cleanup, cp -r --skip-existing resume, --no-progress/--quiet) and manifest datasets
# (ls -r --json > keys.jsonl, then --keys-from for cp -r, rm, get and load).
set -uo pipefail
OMNIO=${1:?usage: cli_habits.sh path/to/omnio}
work=$(mktemp -d "${TMPDIR:-$PWD}/omnio-habits.XXXXXX")
trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/../support/cli_check.sh"
O() { "$OMNIO" -q "$@"; }
PY=python3

mkdir -p "$work/src/sub/deep"
for f in a b c sub/d sub/deep/e; do head -c $((RANDOM + 1000)) /dev/urandom >"$work/src/$f"; done
n_src=5

# ---- --dry-run: one "(dryrun) ACTION: SRC to DST" line per object, nothing touched.
check "dry-run cp -r lines" bash -c "'$OMNIO' cp -r --dry-run '$work/src/' '$work/dst/' >'$work/dry' && [[ \$(grep -c '^(dryrun) copy: file://$work/src/.* to file://$work/dst/' '$work/dry') -eq $n_src ]]"
check "dry-run cp -r touches nothing" test ! -e "$work/dst"
check "dry-run cp -r json" bash -c "'$OMNIO' --json cp -r --dry-run '$work/src/' '$work/dst/' | $PY -c '
import json,sys
r=[json.loads(l) for l in sys.stdin]
rows=[x for x in r if x.get(\"op\")==\"copy\"]
assert len(rows)==$n_src and all(x[\"dryrun\"] and x[\"dst\"].startswith(\"file://$work/dst/\") for x in rows), r
assert r[-1][\"op\"]==\"cp\" and r[-1][\"dryrun\"] and r[-1][\"objects\"]==$n_src, r[-1]'"
check "dry-run cp single" bash -c "[[ \$('$OMNIO' cp --dry-run '$work/src/a' '$work/x') == '(dryrun) copy: file://$work/src/a to file://$work/x' ]] && test ! -e '$work/x'"
check "dry-run put" bash -c "[[ \$('$OMNIO' put --dry-run '$work/src/a' 'file://$work/up/') == '(dryrun) upload: file://$work/src/a to file://$work/up/a' ]] && test ! -e '$work/up'"
check "dry-run get" bash -c "[[ \$('$OMNIO' get --dry-run '$work/src/a' '$work/g') == '(dryrun) download: file://$work/src/a to file://$work/g' ]] && test ! -e '$work/g'"
check "dry-run get -r" bash -c "[[ \$('$OMNIO' get -r --dry-run '$work/src/' '$work/g/' | grep -c '^(dryrun) copy') -eq $n_src ]] && test ! -e '$work/g'"
check "dry-run rm -r" bash -c "[[ \$('$OMNIO' rm -r --dry-run '$work/src/' | grep -c '^(dryrun) delete: file://$work/src/') -eq $n_src ]] && [[ \$(find '$work/src' -type f | wc -l) -eq $n_src ]]"
check "dry-run rm one" bash -c "[[ \$('$OMNIO' rm --dry-run '$work/src/a') == '(dryrun) delete: file://$work/src/a' ]] && test -e '$work/src/a'"
expect_fail "dry-run put -n refused" 2 "not supported with -n" O put "file://$work/gen/" -n 3 -s 10 --dry-run

# ---- exit codes: 0 ok, 1 error, 2 usage, 3 partial failure.
"$OMNIO" cp --no-such-flag a b 2>/dev/null; rc=$?
check "exit 2 unknown flag" test $rc -eq 2
expect_fail "exit 2 bad value" 2 "size-only refines" O cp --size-only "$work/src/a" "$work/x"
expect_fail "exit 1 missing object" 1 "not_found" O get "$work/src/nope" "$work/x"
mkdir -p "$work/clash/sub/d/blocker"   # a directory where the file sub/d must go: that copy fails
"$OMNIO" -q cp -r "$work/src/" "$work/clash/" 2>"$work/err3"; rc=$?
check "exit 3 cp -r partial" test $rc -eq 3
check "exit 3 lists the failure" grep -q "^omnio: failed: file://$work/src/sub/d: " "$work/err3"
check "exit 3 others done" bash -c "cmp '$work/src/a' '$work/clash/a' && cmp '$work/src/sub/deep/e' '$work/clash/sub/deep/e'"
check "exit 3 summary json" bash -c "'$OMNIO' --json cp -r '$work/src/' '$work/clash/' 2>/dev/null | $PY -c 'import json,sys; j=json.loads(sys.stdin.read().splitlines()[-1]); assert j[\"objects\"]==4 and j[\"failed\"]==1, j'; [[ \${PIPESTATUS[0]} -eq 3 ]]"
cp -r "$work/src" "$work/rm3"
printf '%s\n' a nope b >"$work/rm3.keys"
"$OMNIO" -q rm --keys-from "$work/rm3.keys" "$work/rm3/" 2>"$work/err3"; rc=$?
check "exit 3 rm partial" test $rc -eq 3
check "exit 3 rm names the missing one" grep -q "failed: file://$work/rm3/nope: .*not_found" "$work/err3"
check "exit 3 rm deleted the rest" bash -c "test ! -e '$work/rm3/a' && test ! -e '$work/rm3/b' && test -e '$work/rm3/c'"
rm -rf "$work/clash" "$work/rm3"

# ---- cp -r --skip-existing: resume. Size + CRC32C for local pairs; --size-only trusts sizes.
check "full copy" O cp -r "$work/src/" "$work/dst/"
rm "$work/dst/b"                                                       # "interrupted" before b
$PY -c "import sys; p=sys.argv[1]; d=bytearray(open(p,'rb').read()); d[0]^=0xff; open(p,'wb').write(d)" "$work/dst/c"  # same size, other bytes
check "resume copies only what differs" bash -c "'$OMNIO' --json cp -r --skip-existing '$work/src/' '$work/dst/' | $PY -c 'import json,sys; j=json.load(sys.stdin); assert j[\"objects\"]==2 and j[\"skipped\"]==3, j'"
check "resume result equals source" diff -r "$work/src" "$work/dst"
check "resume again copies nothing" bash -c "'$OMNIO' --json cp -r --resume '$work/src/' '$work/dst/' | $PY -c 'import json,sys; j=json.load(sys.stdin); assert j[\"objects\"]==0 and j[\"skipped\"]==5, j'"
$PY -c "import sys; p=sys.argv[1]; d=bytearray(open(p,'rb').read()); d[0]^=0xff; open(p,'wb').write(d)" "$work/dst/c"
check "size-only skips the same-size change" bash -c "'$OMNIO' --json cp -r --skip-existing --size-only '$work/src/' '$work/dst/' | $PY -c 'import json,sys; j=json.load(sys.stdin); assert j[\"objects\"]==0 and j[\"skipped\"]==5, j'"
check "size-only left it different" bash -c "! cmp -s '$work/src/c' '$work/dst/c'"
check "skip-existing single object" bash -c "'$OMNIO' cp --skip-existing '$work/src/a' '$work/dst/a' 2>&1 | grep -q 'skipped'"

# ---- manifest datasets: ls -r --json > keys.jsonl, then --keys-from everywhere.
check "ls -r --json manifest" bash -c "'$OMNIO' ls -r --json '$work/src/' >'$work/keys.jsonl' && [[ \$(wc -l <'$work/keys.jsonl') -eq $n_src ]]"
check "cp -r --keys-from jsonl" O cp -r --keys-from "$work/keys.jsonl" "$work/src/" "$work/man/"
check "cp -r --keys-from copies the tree" diff -r "$work/src" "$work/man"
printf 'a\n# comment\n\nsub/deep/e\n' >"$work/rel.txt"
check "cp --keys-from relative keys" O cp --keys-from "$work/rel.txt" "$work/src/" "$work/rel/"
check "cp --keys-from only the listed" bash -c "[[ \$(find '$work/rel' -type f | wc -l) -eq 2 ]] && cmp '$work/src/sub/deep/e' '$work/rel/sub/deep/e'"
check "get --keys-from --discard" bash -c "'$OMNIO' --json get --keys-from '$work/rel.txt' '$work/src' --discard | $PY -c 'import json,sys,os; j=json.load(sys.stdin); assert j[\"objects\"]==2 and j[\"bytes\"]==os.path.getsize(\"$work/src/a\")+os.path.getsize(\"$work/src/sub/deep/e\"), j'"
check "get --keys-from --dry-run" bash -c "[[ \$('$OMNIO' get --keys-from '$work/keys.jsonl' --discard --dry-run | grep -c '^(dryrun) read: ') -eq $n_src ]]"
check "load --keys-from jsonl" bash -c "'$OMNIO' --json load --keys-from '$work/keys.jsonl' --batch-size 2 | $PY -c 'import json,sys; j=json.load(sys.stdin); assert j[\"items\"]==$n_src, j'"
check "rm --keys-from" O rm --keys-from "$work/rel.txt" "$work/rel/"
check "rm --keys-from removed them" bash -c "[[ \$(find '$work/rel' -type f | wc -l) -eq 0 ]]"
printf '{"uri":"file://%s/src/a"}\n{"uri": broken\n' "$work" >"$work/bad.jsonl"
expect_fail "bad manifest line named" 2 "bad.jsonl' line 2: .*not valid JSON" O cp -r --keys-from "$work/bad.jsonl" "$work/src/" "$work/bad/"
check "bad manifest: nothing copied (checked before the first copy)" test ! -e "$work/bad/a"
expect_fail "get --discard of an empty prefix" 1 "no objects under this prefix" O get --discard "$work/no-such-dir/"
expect_fail "bad manifest for get" 2 "bad.jsonl' line 2" O get --keys-from "$work/bad.jsonl" --discard
expect_fail "bad manifest for load" 2 "bad.jsonl' line 2" O load --keys-from "$work/bad.jsonl"
printf 'file:///elsewhere/x\n' >"$work/out.txt"
expect_fail "manifest outside SRC" 2 "out.txt' line 1: 'file:///elsewhere/x' is not under" O cp -r --keys-from "$work/out.txt" "$work/src/" "$work/bad/"
expect_fail "relative key without prefix" 2 "rel.txt' line 1: 'a' is a relative key" O get --keys-from "$work/rel.txt" --discard
expect_fail "manifest missing" 1 "cannot open" O rm --keys-from "$work/nope.txt"

# ---- --no-progress / --quiet everywhere; --json on mb/rb/rm.
for cmd in "ls $work/src/" "stat $work/src/a" "get $work/src/a --discard" "put $work/src/a file://$work/np/a" "cp $work/src/a $work/np/b" "rm $work/np/b" "mb file://$work/np2" "rb file://$work/np2"; do
  check "--no-progress $cmd" bash -c "'$OMNIO' --no-progress $cmd >/dev/null"
done
check "--quiet cp prints nothing" bash -c "[[ -z \$('$OMNIO' -q cp '$work/src/a' '$work/np/c' 2>&1) ]]"
check "mb/rb --json" bash -c "'$OMNIO' --json mb 'file://$work/jb' | $PY -c 'import json,sys; assert json.load(sys.stdin)[\"op\"]==\"mb\"' && '$OMNIO' --json rb 'file://$work/jb' | $PY -c 'import json,sys; assert json.load(sys.stdin)[\"op\"]==\"rb\"'"
check "rm -r --json counts" bash -c "'$OMNIO' --json rm -r '$work/np/' | $PY -c 'import json,sys; j=json.load(sys.stdin); assert j==dict(op=\"rm\",deleted=2,failed=0,cancelled=0), j'"

# ---- Ctrl-C: exit 130, the destination never appears, no temporary file is left, and the
# command says what it did. The source is a sparse 8 GiB file (fast to read, slow to write).
truncate -s 8G "$work/huge"
"$OMNIO" --no-progress cp "$work/huge" "$work/cc/huge" 2>"$work/errc" &
pid=$!
for _ in $(seq 100); do [[ -n $(ls -A "$work/cc" 2>/dev/null) ]] && break; sleep 0.05; done
sleep 0.3
kill -INT $pid; wait $pid; rc=$?
check "Ctrl-C exit 130" test $rc -eq 130
check "Ctrl-C says interrupted" grep -q "^omnio: interrupted: " "$work/errc"
check "Ctrl-C no destination, no temp file" bash -c "[[ -z \$(ls -A '$work/cc') ]]"
mkdir -p "$work/many"; for i in $(seq 40); do truncate -s 256M "$work/many/f$i"; done
"$OMNIO" --no-progress cp -r -j 2 "$work/many/" "$work/ccr/" 2>"$work/errc" &
pid=$!
sleep 1; kill -INT $pid; wait $pid; rc=$?
check "Ctrl-C cp -r exit 130" test $rc -eq 130
check "Ctrl-C cp -r summary" grep -Eq "^cp: interrupted: [0-9]+ objects \(.*\) completed, 0 skipped, [1-9][0-9]* cancelled" "$work/errc"
check "Ctrl-C cp -r no temp files" bash -c "[[ -z \$(find '$work/ccr' -name '*.omnio-tmp.*' 2>/dev/null) ]]"

echo "cli_habits: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
