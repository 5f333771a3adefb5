#!/usr/bin/env bash
# End-to-end: `omnio cp` between every ordered pair of schemes (file, direct, s3, az, gs: 20 pairs),
# each with an empty object, a small one, one of exactly 16 MiB (the largest single upload request
# on S3/Azure/GCS, read through the RangeEngine in 1 MiB ranges: > the 4 MiB threshold) and one of
# 20 MiB + 1 (ranged reads, and a 2-part multipart (S3) / 2-block staged (Azure) / 2-chunk
# resumable (GCS) upload). Every copy is read back with `omnio get` and its sha256 compared with
# the original's; the large copies are also checked on the server: S3's multipart ETag ("-2"),
# Azure's committed block list, the GCS fake's chunk and range-GET counters.
# Servers: S3 = Ceph radosgw (moto when radosgw did not start), Azurite, the firebase GCS emulator;
# the emulator finalizes every resumable upload on its first chunk, so sizes above 16 MiB run their
# gs:// side against tests/support/gcs_fake.py (which implements multi-chunk resumable uploads).
# A server that did not start skips its pairs with the reason and the script exits 77 (ctest:
# skipped), never a silent pass.
#   cp_matrix.sh OMNIO   (env: OMNIO_TEST_S3_ENV, OMNIO_TEST_AZURE_ENV, OMNIO_TEST_GCS_ENV;
#                         CP_MATRIX_SIZES="name=bytes ..." replaces the sizes, for exploring)
set -uo pipefail
OMNIO=${1:?usage: cp_matrix.sh path/to/omnio}
s3_env=${OMNIO_TEST_S3_ENV:?run through ctest (fixtures s3servers azureservers gcsservers)}
az_env=${OMNIO_TEST_AZURE_ENV:?run through ctest (fixtures s3servers azureservers gcsservers)}
gcs_env=${OMNIO_TEST_GCS_ENV:?run through ctest (fixtures s3servers azureservers gcsservers)}
unset OMNIO_TEST_S3_ENV OMNIO_TEST_AZURE_ENV OMNIO_TEST_GCS_ENV
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/omnio-cp-matrix.XXXXXX")
trap 'rm -rf "$work"' EXIT
source "$here/../support/cli_check.sh"
val() { sed -n "s/^$2=//p" "$1" 2>/dev/null | head -1; }

declare -A skip   # scheme -> why its pairs are skipped
# ---- S3: radosgw, else moto ----
export AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
export AWS_CONFIG_FILE=$work/none AWS_SHARED_CREDENTIALS_FILE=$work/none
s3_ep=$(val "$s3_env" OMNIO_TEST_S3_RGW)
if [[ -n $s3_ep ]]; then
  s3_server=radosgw
  export AWS_ACCESS_KEY_ID=$(val "$s3_env" OMNIO_TEST_S3_RGW_ACCESS_KEY)
  export AWS_SECRET_ACCESS_KEY=$(val "$s3_env" OMNIO_TEST_S3_RGW_SECRET_KEY)
else
  echo "NOTE: radosgw not used ($(val "$s3_env" OMNIO_TEST_S3_RGW_SKIP)); trying moto"
  s3_ep=$(val "$s3_env" OMNIO_TEST_S3_MOTO) s3_server=moto
  export AWS_ACCESS_KEY_ID=omnio-test AWS_SECRET_ACCESS_KEY=omnio-test-secret
  [[ -n $s3_ep ]] || { skip[s3]="no S3 server: $(val "$s3_env" OMNIO_TEST_S3_MOTO_SKIP)" s3_server=none; }
fi
export AWS_ENDPOINT_URL_S3=$s3_ep
# ---- Azure: Azurite ----
az_ep=$(val "$az_env" OMNIO_TEST_AZURITE)
acct=devstoreaccount1
az_key=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==
if [[ -n $az_ep ]]; then
  export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=$acct;AccountKey=$az_key;BlobEndpoint=$az_ep/$acct;"
else
  skip[az]="Azurite: $(val "$az_env" OMNIO_TEST_AZURITE_SKIP)"
fi
# ---- GCS: the firebase emulator; the fake for resumable uploads ----
gcs_emu=$(val "$gcs_env" OMNIO_TEST_GCS_EMULATOR) gcs_fake=$(val "$gcs_env" OMNIO_TEST_GCS_FAKE)
[[ -n $gcs_emu ]] || skip[gs]="GCS emulator: $(val "$gcs_env" OMNIO_TEST_GCS_EMULATOR_SKIP)"

O() { "$OMNIO" -q --range-chunk 1MiB --max-ranges 4 "$@"; }
b=omnio-matrix-$$
declare -A root=([file]="file://$work/file" [direct]="direct://$work/direct" [s3]="s3://$b"
                 [az]="az://$acct/$b" [gs]="gs://$b")
schemes=(file direct s3 az gs)
[[ -z ${skip[s3]:-} ]] && check "mb s3 ($s3_server)" O mb "${root[s3]}"
[[ -z ${skip[az]:-} ]] && check "mb az" O mb "${root[az]}"

# sha256 of what `omnio get URI` returns.
got_sha() { O get "$1" - | sha256sum | cut -d' ' -f1; }
same_sha() {  # same_sha URI EXPECTED
  local got; got=$(got_sha "$1") && [[ $got == "$2" ]] || { echo "sha256 $1: got $got, want $2"; return 1; }
}
# Server-side evidence that a large write took the multipart / staged path.
s3_multipart() {  # s3_multipart URI PARTS: a multipart upload's ETag is "<md5 of part md5s>-<parts>"
  O stat --json "$1" | python3 -c '
import json, sys
e, parts = json.load(sys.stdin)["etag"].strip("\""), int(sys.argv[1])
assert (e.endswith(f"-{parts}") if parts else "-" not in e), e' "$2"
}
az_staged() {  # az_staged URI BLOCKS: the committed block list has BLOCKS blocks
  local path=${1#az://$acct} hdrs=()
  while IFS= read -r line; do hdrs+=(-H "$line"); done < <(
    python3 "$here/../azure/azure_sharedkey.py" sign GET "$az_ep/$acct$path?comp=blocklist" "$acct" "$az_key" --length 0)
  curl -sf "${hdrs[@]}" "$az_ep/$acct$path?comp=blocklist" | python3 -c '
import sys, xml.etree.ElementTree as ET
n = len(ET.parse(sys.stdin).getroot().findall("CommittedBlocks/Block"))
assert n == int(sys.argv[1]), f"{n} committed blocks, expected {sys.argv[1]}"' "$2"
}
# fake_count NAME: a request counter of the GCS fake (chunks: resumable-upload chunk PUTs;
# media_gets: alt=media reads, one per range).
fake_count() { curl -sf "$gcs_fake/_fake/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin).get(sys.argv[1], 0))' "$1"; }

# Sizes (NAME=BYTES). A size above the 16 MiB single-request thresholds is uploaded in
# ceil(size / 16 MiB) parts/blocks/chunks; one above 4 MiB is read in ceil(size / 1 MiB) ranges.
# exact16 found a bug: a stream of exactly one part was a one-part multipart upload (on the GCS
# emulator: a failed one). CP_MATRIX_SIZES overrides the list (boundary exploration).
sizes=${CP_MATRIX_SIZES:-"empty=0 small=100003 exact16=16777216 large=$((20 * 1048576 + 1))"}
mib=1048576
mkdir -p "$work/src"
skipped_pairs=0
# why SCHEME: why its pairs are skipped at the current size (empty: they run).
why() { if [[ $1 == gs && -n ${skip[gs_size]:-} ]]; then echo "${skip[gs_size]}"; else echo "${skip[$1]:-}"; fi; }
for spec in $sizes; do
  f=${spec%%=*} n=${spec#*=}
  head -c "$n" /dev/urandom >"$work/src/$f.bin"
  want=$(sha256sum <"$work/src/$f.bin" | cut -d' ' -f1)
  parts=0 ranges=0
  ((n > 16 * mib)) && parts=$(((n + 16 * mib - 1) / (16 * mib)))
  ((n > 4 * mib)) && ranges=$(((n + mib - 1) / mib))
  unset 'skip[gs_size]'
  if ((parts > 0)) && [[ -z ${skip[gs]:-} ]]; then
    if [[ -n $gcs_fake ]]; then
      export STORAGE_EMULATOR_HOST=${gcs_fake#http://}
      check "mb gs (fake)" O mb "${root[gs]}"
    else
      skip[gs_size]="GCS fake (multi-chunk resumable uploads): $(val "$gcs_env" OMNIO_TEST_GCS_FAKE_SKIP)"
    fi
  else
    export STORAGE_EMULATOR_HOST=${gcs_emu#http://}
  fi
  # Seed every scheme with the object (a put is itself a file -> X copy) and check it.
  for a in "${schemes[@]}"; do
    [[ -n $(why "$a") ]] && continue
    check "seed $a/$f" O put "$work/src/$f.bin" "${root[$a]}/src/$f.bin"
    check "seed $a/$f sha256" same_sha "${root[$a]}/src/$f.bin" "$want"
  done
  for a in "${schemes[@]}"; do
    for c in "${schemes[@]}"; do
      [[ $a == "$c" ]] && continue
      r=$( (why "$a"; why "$c") | grep -v '^$' | paste -sd ';')
      if [[ -n $r ]]; then
        echo "SKIP cp $a -> $c ($f): $r"; skipped_pairs=$((skipped_pairs + 1)); continue
      fi
      dst="${root[$c]}/from-$a/$f.bin"
      fake=0
      if ((parts > 0)) && [[ $a == gs || $c == gs ]]; then fake=1 chunks0=$(fake_count chunks) gets0=$(fake_count media_gets); fi
      check "cp $a -> $c ($f)" O cp "${root[$a]}/src/$f.bin" "$dst"
      if ((fake)) && [[ $c == gs ]]; then  # the fake counts resumable-upload chunk PUTs
        check "cp $a -> gs ($f) is a $parts-chunk resumable upload" test "$(($(fake_count chunks) - chunks0))" -eq "$parts"
      fi
      if ((fake)) && [[ $a == gs ]]; then  # ... and alt=media GETs, one per range
        check "cp gs -> $c ($f) read $ranges ranges" test "$(($(fake_count media_gets) - gets0))" -eq "$ranges"
      fi
      check "cp $a -> $c ($f) sha256" same_sha "$dst" "$want"
      # parts 0: one PUT / Put Blob (up to and including 16 MiB), no multipart / staged upload.
      if [[ $c == s3 ]]; then check "cp $a -> s3 ($f) is a $parts-part upload" s3_multipart "$dst" "$parts"; fi
      if [[ $c == az ]]; then check "cp $a -> az ($f) has $parts staged blocks" az_staged "$dst" "$parts"; fi
    done
  done
done

# Clean up the buckets (a failure here is a failure: rm -r must work on every scheme).
for a in s3 az; do
  [[ -n ${skip[$a]:-} ]] && continue
  check "rm -r $a" O rm -r "${root[$a]}/"
  check "rb $a" O rb "${root[$a]}"
done
if [[ -z ${skip[gs]:-} ]]; then
  export STORAGE_EMULATOR_HOST=${gcs_emu#http://}
  check "rm -r gs (emulator)" O rm -r "${root[gs]}/"
  if [[ -n $gcs_fake ]]; then
    export STORAGE_EMULATOR_HOST=${gcs_fake#http://}
    check "rm -r gs (fake)" O rm -r "${root[gs]}/"
    check "rb gs (fake)" O rb "${root[gs]}"
  fi
fi

echo "cp_matrix: $pass passed, $fail failed, $skipped_pairs pair-sizes skipped (S3 server: ${s3_server:-none})"
[[ $fail -eq 0 ]] || exit 1
[[ $skipped_pairs -eq 0 ]] || exit 77
