#!/usr/bin/env bash
# End-to-end: the omnio CLI on az:// against Azurite, cross-checked with a client that shares no
# code with omnio: curl with SharedKey signatures computed by tests/azure/azure_sharedkey.py
# (Python stdlib, written from the Azure REST docs). Bytes written by one are read identically by
# the other, metadata survives, and `omnio ls -r` agrees with Azurite's own List Blobs pages.
set -uo pipefail
OMNIO=${1:?usage: cli_azure.sh path/to/omnio}
env_file=${OMNIO_TEST_SERVERS_ENV:?run through ctest (fixture azureservers) or set OMNIO_TEST_SERVERS_ENV}
unset OMNIO_TEST_SERVERS_ENV  # omnio warns about unknown OMNIO_* variables
here=$(cd "$(dirname "$0")" && pwd)
signer=$here/azure_sharedkey.py
work=$(mktemp -d "${TMPDIR:-/tmp}/omnio-cli-az.XXXXXX")
trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/../support/cli_check.sh"
ep=$(sed -n 's/^OMNIO_TEST_AZURITE=//p' "$env_file")
if [[ -z $ep ]]; then
  echo "SKIP: $(sed -n 's/^OMNIO_TEST_AZURITE_SKIP=//p' "$env_file")"
  exit 0
fi
acct=devstoreaccount1
key=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==
export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=$acct;AccountKey=$key;BlobEndpoint=$ep/$acct;"
O() { "$OMNIO" -q "$@"; }
# curlaz METHOD PATH [curl args...] [-- headers...]: a SharedKey-signed request to Azurite (the
# signer prints every header to send, the extra ones included).
curlaz() {
  local method=$1 path=$2; shift 2
  local curl_args=() sign_args=() length=0
  while [[ $# -gt 0 && $1 != -- ]]; do curl_args+=("$1"); shift; done
  [[ ${1:-} == -- ]] && shift
  for h in "$@"; do sign_args+=("$h"); done
  for ((i = 0; i < ${#curl_args[@]}; i++)); do
    if [[ ${curl_args[$i]} == --data-binary ]]; then length=$(stat -c %s "${curl_args[$((i + 1))]#@}"); fi
  done
  local url="$ep/$acct$path" hdrs=()
  while IFS= read -r line; do hdrs+=(-H "$line"); done < <(python3 "$signer" sign "$method" "$url" "$acct" "$key" "${sign_args[@]}" --length "$length")
  curl -sf -X "$method" "${hdrs[@]}" "${curl_args[@]}" "$url"
}
export -f curlaz
export ep acct key signer

printf hello >"$work/hello"
head -c 3000017 /dev/urandom >"$work/small.bin"
head -c 20971521 /dev/urandom >"$work/big.bin"   # 20 MiB + 1: a staged upload (16 MiB blocks)
: >"$work/empty.bin"
mkdir -p "$work/keys"
for i in $(seq -w 0 599); do : >"$work/keys/k$i"; done

c=omnio-cli-$$
s=az://$acct/$c
check "mb" O mb "$s"
check "mb again is fine" O mb "$s"
check "container listed (az://account)" bash -c "'$OMNIO' ls az://$acct | grep -qx '$s'"
check "curl lists the container" bash -c "curlaz GET '?comp=list' | grep -q '<Name>$c</Name>'"

# omnio writes, curl reads.
for f in small.bin big.bin empty.bin; do
  check "omnio put $f" O put "$work/$f" "$s/o/$f"
  check "curl reads $f" bash -c "curlaz GET '/$c/o/$f' -o '$work/curl-$f' && cmp '$work/$f' '$work/curl-$f'"
done
check "omnio put stdin (staged)" bash -c "cat '$work/big.bin' | '$OMNIO' -q put - '$s/o/stdin.bin' --content-type application/x-test"
check "curl sees committed blocks and content type" bash -c "
  curlaz GET '/$c/o/stdin.bin?comp=blocklist' | grep -q '<CommittedBlocks><Block>' &&
  curlaz HEAD '/$c/o/stdin.bin' -I | tr -d '\r' | grep -qi '^content-type: application/x-test$'"

# curl writes, omnio reads.
check "curl put with metadata" curlaz PUT "/$c/a/meta%20key%2B%C3%BC.txt" --data-binary "@$work/hello" -- \
  "x-ms-blob-type: BlockBlob" "Content-Type: text/plain" "x-ms-meta-owner: curl" "x-ms-meta-run: 7"
check "omnio stat shows curl metadata" bash -c "'$OMNIO' stat --json '$s/a/meta key+ü.txt' | python3 -c '
import json,sys; m=json.load(sys.stdin)
assert m[\"size\"]==5 and m[\"content_type\"]==\"text/plain\" and m[\"metadata\"]=={\"owner\":\"curl\",\"run\":\"7\"}, m'"
check "omnio reads curl blob" bash -c "[[ \$('$OMNIO' -q get '$s/a/meta key+ü.txt') == hello ]]"

# Ranges, copies, listings.
check "range" bash -c "'$OMNIO' -q get '$s/o/big.bin' --offset 12345 --length 9MiB | cmp - <(tail -c +12346 '$work/big.bin' | head -c 9437184)"
check "discard" O get --discard "$s/o/big.bin"
check "cp az -> az (Copy Blob)" O cp "$s/o/big.bin" "$s/c/big.bin"
check "cp az -> file" O cp "$s/c/big.bin" "$work/c-big.bin"
check "cp bytes" cmp "$work/big.bin" "$work/c-big.bin"
check "cp -r file -> az" O cp -r "$work/keys/" "$s/keys/" -j 64
check "Azurite's listing (3 pages) == omnio ls -r" bash -c "
  python3 - '$ep' '$acct' '$key' '$c' '$signer' >'$work/az-keys' <<'PY'
import importlib.util, sys, urllib.request, xml.etree.ElementTree as ET
ep, acct, key, c, signer = sys.argv[1:]
spec = importlib.util.spec_from_file_location('s', signer); s = importlib.util.module_from_spec(spec); spec.loader.exec_module(s)
from email.utils import formatdate
marker, pages = '', 0
while True:
    url = f'{ep}/{acct}/{c}?restype=container&comp=list&maxresults=250&prefix=keys/' + (f'&marker={marker}' if marker else '')
    h = {'x-ms-date': formatdate(usegmt=True), 'x-ms-version': s.API_VERSION}
    h['Authorization'] = s.authorization('GET', url, acct, key, h, 0)[1]
    root = ET.fromstring(urllib.request.urlopen(urllib.request.Request(url, headers=h)).read())
    pages += 1
    for b in root.iter('Blob'):
        print(b.find('Name').text)
    marker = root.findtext('NextMarker') or ''
    if not marker:
        break
assert pages == 3, pages
PY
  '$OMNIO' -q ls -r '$s/keys/' | sed 's#^$s/##' >'$work/omnio-keys'
  [[ \$(wc -l <'$work/az-keys') -eq 600 ]] && cmp <(sort '$work/az-keys') <(sort '$work/omnio-keys')"
check "ls non-recursive shows dirs" bash -c "'$OMNIO' ls '$s/' | grep -qx '$s/keys/'"
check "get -r --discard" O get -r "$s/o/" --discard -j 8
check "rm -r 600 blobs" O rm -r "$s/keys/"
check "curl sees none left" bash -c "! curlaz GET '/$c?restype=container&comp=list&prefix=keys/' | grep -q '<Blob>'"

# Errors a user must be able to read.
expect_fail "get missing" 1 "not_found" O get "$s/o/missing.bin" "$work/x"
expect_fail "rm missing" 1 "not_found" O rm "$s/o/missing.bin"
expect_fail "rb non-empty" 2 "not empty" O rb "$s"
expect_fail "bad container name" 2 "container name" O mb "az://$acct/Bad_Name"
expect_fail "wrong key" 1 "permission_denied" env AZURE_STORAGE_CONNECTION_STRING="AccountName=$acct;AccountKey=$(printf 'k%.0s' {1..64} | base64 -w0);BlobEndpoint=$ep/$acct" "$OMNIO" -q ls "$s/"
expect_fail "dead endpoint fails fast" 1 "onnection refused" timeout 20 "$OMNIO" -q --azure-endpoint "http://127.0.0.1:1" ls "$s/"
check "rm -r all" O rm -r "$s/"
check "rb" O rb "$s"
check "container gone" bash -c "! '$OMNIO' ls az://$acct | grep -qx '$s'"

echo "cli_azure: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
