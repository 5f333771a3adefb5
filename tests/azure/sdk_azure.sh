#!/usr/bin/env bash
# Cross-check with Microsoft's official SDK (@azure/storage-blob, pinned, from npm; run by
# tests/support/sdk_crosscheck.js) against Azurite: the SDK reads byte-identical what omnio wrote
# (one Put Blob and a staged upload: Put Block x N + Put Block List, with a content type), and omnio
# reads byte-identical what the SDK wrote (single shot and staged, with content type and metadata).
# SDKs not installed or Azurite not started: skipped with the reason (exit 77), never a pass.
set -uo pipefail
OMNIO=${1:?usage: sdk_azure.sh path/to/omnio}
env_file=${OMNIO_TEST_SERVERS_ENV:?run through ctest (fixture azureservers) or set OMNIO_TEST_SERVERS_ENV}
unset OMNIO_TEST_SERVERS_ENV
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/omnio-sdk-az.XXXXXX")
trap 'rm -rf "$work"' EXIT
source "$here/../support/cli_check.sh"
source "$here/../support/sdk_check.sh"
ep=$(sed -n 's/^OMNIO_TEST_AZURITE=//p' "$env_file")
[[ -n $ep ]] || { echo "SKIP: $(sed -n 's/^OMNIO_TEST_AZURITE_SKIP=//p' "$env_file")"; exit 77; }
sdk_installed @azure/storage-blob
acct=devstoreaccount1
key=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==
export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=$acct;AccountKey=$key;BlobEndpoint=$ep/$acct;"
O() { "$OMNIO" -q "$@"; }
c=omnio-sdk-$$
sdk_store=az sdk_container=$c
s=az://$acct/$c
printf 'hello sdk\n' >"$work/tiny.bin"
head -c 3000017 /dev/urandom >"$work/small.bin"
head -c 37748739 /dev/urandom >"$work/big.bin"  # 36 MiB + 3: staged by omnio (3 blocks of 16 MiB)
: >"$work/empty.bin"
check "mb" O mb "$s"

# omnio writes, the SDK reads.
check "omnio put small (Put Blob)" O put "$work/small.bin" "$s/o/small.bin" --content-type application/x-small
check "SDK reads small" sdk_reads o/small.bin "$work/small.bin" application/x-small 0
check "omnio put empty" O put "$work/empty.bin" "$s/o/empty.bin" --content-type text/plain
check "SDK reads empty" sdk_reads o/empty.bin "$work/empty.bin" text/plain 0
check "omnio put big (staged)" O put "$work/big.bin" "$s/o/big.bin" --content-type application/x-big
check "SDK reads big: 3 committed blocks" sdk_reads o/big.bin "$work/big.bin" application/x-big 3
check "omnio put stdin (streaming, staged)" bash -c "cat '$work/big.bin' | '$OMNIO' -q put - '$s/o/stdin.bin' --content-type application/x-stdin"
check "SDK reads stdin object" sdk_reads o/stdin.bin "$work/big.bin" application/x-stdin 3

# The SDK writes, omnio reads (ranged reads for the big one: 36 MiB > the 4 MiB threshold).
check "SDK put tiny (single shot, metadata)" sdk_writes "s/tiny key+ü.txt" "$work/tiny.bin" single text/plain owner=sdk run=7
check "omnio reads SDK tiny" omnio_reads "$s/s/tiny key+ü.txt" "$work/tiny.bin" text/plain '{"owner":"sdk","run":"7"}'
check "SDK put big (staged, 4 MiB blocks)" sdk_writes s/big.bin "$work/big.bin" staged application/octet-stream stage=yes
check "omnio reads SDK big" omnio_reads "$s/s/big.bin" "$work/big.bin" application/octet-stream '{"stage":"yes"}'
check "omnio cp SDK big -> file" O cp "$s/s/big.bin" "$work/cp-big.bin"
check "cp bytes" cmp "$work/big.bin" "$work/cp-big.bin"

check "rm -r" O rm -r "$s/"
check "rb" O rb "$s"
echo "sdk_azure: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
