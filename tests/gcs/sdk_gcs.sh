#!/usr/bin/env bash
# Cross-check with Google's official SDK (@google-cloud/storage, pinned, from npm; run by
# tests/support/sdk_crosscheck.js): the SDK reads byte-identical what omnio wrote (it also
# validates the object's CRC32C), and omnio reads byte-identical what the SDK wrote, with content
# type and metadata. Servers: the firebase emulator for single-request uploads (omnio's media
# upload; the SDK's multipart and single-request resumable uploads); tests/support/gcs_fake.py for
# omnio's multi-chunk resumable upload, which the emulator cannot do (it finalizes on chunk one).
# SDK not installed or a server not started: skipped with the reason (exit 77), never a pass.
set -uo pipefail
OMNIO=${1:?usage: sdk_gcs.sh path/to/omnio}
env_file=${OMNIO_TEST_SERVERS_ENV:?run through ctest (fixture gcsservers) or set OMNIO_TEST_SERVERS_ENV}
unset OMNIO_TEST_SERVERS_ENV
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/omnio-sdk-gs.XXXXXX")
trap 'rm -rf "$work"' EXIT
source "$here/../support/cli_check.sh"
source "$here/../support/sdk_check.sh"
val() { sed -n "s/^$1=//p" "$env_file"; }
emu=$(val OMNIO_TEST_GCS_EMULATOR) fake=$(val OMNIO_TEST_GCS_FAKE)
if [[ -z $emu || -z $fake ]]; then
  echo "SKIP: $(val OMNIO_TEST_GCS_EMULATOR_SKIP) $(val OMNIO_TEST_GCS_FAKE_SKIP)"; exit 77
fi
sdk_installed @google-cloud/storage
O() { "$OMNIO" -q "$@"; }
b=omnio-sdk-$$
sdk_store=gs sdk_container=$b
printf 'hello sdk\n' >"$work/tiny.bin"
head -c 3000017 /dev/urandom >"$work/small.bin"
head -c 12582915 /dev/urandom >"$work/medium.bin"  # 12 MiB + 3: one request; ranged reads
head -c 37748739 /dev/urandom >"$work/big.bin"     # 36 MiB + 3: omnio's resumable upload, 3 chunks
: >"$work/empty.bin"

# ---- the emulator ----
export STORAGE_EMULATOR_HOST=${emu#http://}
check "omnio put small (media upload)" O put "$work/small.bin" "gs://$b/o/small.bin" --content-type application/x-small
check "SDK reads small" sdk_reads o/small.bin "$work/small.bin" application/x-small
check "omnio put medium" O put "$work/medium.bin" "gs://$b/o/medium.bin" --content-type application/x-medium
check "SDK reads medium" sdk_reads o/medium.bin "$work/medium.bin" application/x-medium
check "omnio put empty" O put "$work/empty.bin" "gs://$b/o/empty.bin" --content-type text/plain
check "SDK reads empty" sdk_reads o/empty.bin "$work/empty.bin" text/plain
check "SDK put tiny (multipart upload, metadata)" sdk_writes "s/tiny key+ü.txt" "$work/tiny.bin" single text/plain owner=sdk run=7
check "omnio reads SDK tiny" omnio_reads "gs://$b/s/tiny key+ü.txt" "$work/tiny.bin" text/plain '{"owner":"sdk","run":"7"}'
check "SDK put big (resumable, one request)" sdk_writes s/big.bin "$work/big.bin" resumable application/octet-stream stage=yes
check "omnio reads SDK big (ranged)" omnio_reads "gs://$b/s/big.bin" "$work/big.bin" application/octet-stream '{"stage":"yes"}'
check "rm -r (emulator)" O rm -r "gs://$b/"

# ---- the fake: omnio's multi-chunk resumable upload ----
export STORAGE_EMULATOR_HOST=$fake
check "mb (fake)" O mb "gs://$b"
check "omnio put big (resumable, 3 chunks)" O put "$work/big.bin" "gs://$b/o/big.bin" --content-type application/x-big
check "SDK reads big" sdk_reads o/big.bin "$work/big.bin" application/x-big
check "omnio put stdin (streaming, resumable)" bash -c "cat '$work/big.bin' | '$OMNIO' -q put - 'gs://$b/o/stdin.bin' --content-type application/x-stdin"
check "SDK reads stdin object" sdk_reads o/stdin.bin "$work/big.bin" application/x-stdin
check "rm -r (fake)" O rm -r "gs://$b/"
check "rb (fake)" O rb "gs://$b"
echo "sdk_gcs: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
