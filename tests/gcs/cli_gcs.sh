#!/usr/bin/env bash
# End-to-end: the omnio CLI on gs:// against the headless firebase Storage emulator (objects) and
# the project's fake (buckets: the emulator cannot create or delete them): ls/stat/get/put/cp/rm/
# mb/rb, bytes equal after round trips with file://, every failed delete reported with a non-zero
# exit.
set -uo pipefail
OMNIO=${1:?usage: cli_gcs.sh path/to/omnio}
env_file=${OMNIO_TEST_SERVERS_ENV:?run through ctest (fixture gcsservers) or set OMNIO_TEST_SERVERS_ENV}
unset OMNIO_TEST_SERVERS_ENV  # omnio warns about unknown OMNIO_* variables
work=$(mktemp -d "${TMPDIR:-/tmp}/omnio-cli-gcs.XXXXXX")
trap 'rm -rf "$work"' EXIT
pass=0 fail=0
check() {  # check NAME COMMAND...
  local name=$1; shift
  if "$@" >"$work/out" 2>"$work/err"; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "FAIL: $name"; sed 's/^/  stdout: /' "$work/out" | head -5; sed 's/^/  stderr: /' "$work/err" | head -5
  fi
}
expect_fail() {  # expect_fail NAME EXPECTED_RC PATTERN COMMAND...
  local name=$1 rc=$2 pat=$3; shift 3
  "$@" >"$work/out" 2>"$work/err"; local got=$?
  if [[ $got -eq $rc ]] && grep -q -- "$pat" "$work/err"; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "FAIL: $name (rc $got, want $rc; stderr: $(head -c 400 "$work/err"))"
  fi
}
val() { sed -n "s/^$1=//p" "$env_file"; }
emu=$(val OMNIO_TEST_GCS_EMULATOR) fake=$(val OMNIO_TEST_GCS_FAKE)
if [[ -z $emu || -z $fake ]]; then
  echo "SKIP: $(val OMNIO_TEST_GCS_EMULATOR_SKIP) $(val OMNIO_TEST_GCS_FAKE_SKIP)"; exit 0
fi

head -c 3000017 /dev/urandom >"$work/small.bin"
head -c 12582913 /dev/urandom >"$work/big.bin"   # 12 MiB + 1: two ranges, one upload request
head -c 41943041 /dev/urandom >"$work/huge.bin"  # 40 MiB + 1: resumable (the fake only: the emulator
                                                 # finalizes resumable uploads on the first chunk)
: >"$work/empty.bin"
mkdir -p "$work/keys"
for i in $(seq -w 0 1199); do echo "$i" >"$work/keys/k$i"; done

# ---- the emulator: objects (anonymous through STORAGE_EMULATOR_HOST, host:port form) ----
export STORAGE_EMULATOR_HOST=${emu#http://}
b="gs://omnio-cli-$$"
for f in small.bin big.bin empty.bin; do
  check "put $f" "$OMNIO" -q put "$work/$f" "$b/o/$f"
  check "get $f" "$OMNIO" -q get "$b/o/$f" "$work/got-$f"
  check "bytes equal $f" cmp "$work/$f" "$work/got-$f"
done
check "gcs:// alias" bash -c "'$OMNIO' -q get 'gcs://${b#gs://}/o/small.bin' - | cmp - '$work/small.bin'"
check "stat" bash -c "'$OMNIO' stat --json '$b/o/big.bin' | python3 -c 'import json,sys; m=json.load(sys.stdin); assert m[\"size\"]==12582913, m'"
check "range" bash -c "'$OMNIO' -q get '$b/o/big.bin' --offset 12345 --length 9MiB | cmp - <(tail -c +12346 '$work/big.bin' | head -c 9437184)"
expect_fail "too large for the emulator: detected, nothing left" 1 "finalized the upload" "$OMNIO" -q put "$work/huge.bin" "$b/o/huge.bin"
expect_fail "nothing left" 1 "not_found" "$OMNIO" -q stat "$b/o/huge.bin"
check "--part-size 48MiB: 40 MiB is one request the emulator takes" "$OMNIO" -q --part-size 48MiB put "$work/huge.bin" "$b/o/huge.bin"
check "--part-size bytes equal" bash -c "'$OMNIO' -q get '$b/o/huge.bin' - | cmp - '$work/huge.bin'"
expect_fail "--part-size 0 is a usage error" 2 "part-size must be at least 1 byte" "$OMNIO" -q --part-size 0 put "$work/small.bin" "$b/o/x"
check "put stdin" bash -c "cat '$work/small.bin' | '$OMNIO' -q put - '$b/o/stdin.bin' --content-type application/x-test"
check "stdin bytes" bash -c "'$OMNIO' -q get '$b/o/stdin.bin' - | cmp - '$work/small.bin'"
check "cp gs -> gs" "$OMNIO" -q cp "$b/o/big.bin" "$b/c/big.bin"
check "cp gs -> file" "$OMNIO" -q cp "$b/c/big.bin" "$work/c-big.bin"
check "cp bytes" cmp "$work/big.bin" "$work/c-big.bin"
check "cp -r file -> gs (1,200 keys)" "$OMNIO" -q cp -r "$work/keys/" "$b/keys/" -j 32
check "ls -r sees all 1,200 (more than one page)" test "$("$OMNIO" ls -r "$b/keys/" | wc -l)" -eq 1200
check "ls shows dirs" bash -c "'$OMNIO' ls '$b/' | grep -qx '$b/keys/'"
check "buckets listed" bash -c "'$OMNIO' ls gs:// | grep -qx '$b'"
check "rm -r" "$OMNIO" -q rm -r "$b/keys/"
check "none left" test -z "$("$OMNIO" ls -r "$b/keys/")"
expect_fail "get missing" 1 "not_found" "$OMNIO" -q get "$b/o/missing.bin" "$work/x"
expect_fail "rm missing" 1 "not_found" "$OMNIO" -q rm "$b/o/missing.bin"
expect_fail "mb on the emulator says why" 1 "cannot create buckets" "$OMNIO" -q mb "gs://omnio-cli-new-$$"
check "rm -r all" "$OMNIO" -q rm -r "$b/"

# ---- the fake: buckets ----
export STORAGE_EMULATOR_HOST=$fake
nb="gs://omnio-cli-fake-$$"
check "mb" "$OMNIO" -q mb "$nb"
check "mb again is fine" "$OMNIO" -q mb "$nb"
check "put huge (resumable, 3 chunks)" "$OMNIO" -q put "$work/huge.bin" "$nb/big.bin"
check "get huge" bash -c "'$OMNIO' -q get '$nb/big.bin' - | cmp - '$work/huge.bin'"
check "put huge from stdin (streaming writer)" bash -c "cat '$work/huge.bin' | '$OMNIO' -q put - '$nb/stdin.bin'"
check "get stdin object" bash -c "'$OMNIO' -q get '$nb/stdin.bin' - | cmp - '$work/huge.bin'"
check "rm stdin object" "$OMNIO" -q rm "$nb/stdin.bin"
expect_fail "rb non-empty" 2 "not empty" "$OMNIO" -q rb "$nb"
check "rm" "$OMNIO" -q rm "$nb/big.bin"
check "rb" "$OMNIO" -q rb "$nb"
expect_fail "rb missing" 1 "not_found" "$OMNIO" -q rb "$nb"

echo "cli_gcs: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
