# Sourced by tests/azure/sdk_azure.sh and tests/gcs/sdk_gcs.sh (after cli_check.sh): the checks
# around tests/support/sdk_crosscheck.js. Needs $work, $sdk_store (az|gs), $sdk_container and O()
# (omnio -q ...).
sdk_js=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/sdk_crosscheck.js
sha() { sha256sum <"$1" | cut -d' ' -f1; }
# sdk_installed PACKAGE: exits 77 (skipped, with the reason) when the SDK is not installed.
sdk_installed() {
  node -e "require('${OMNIO_NODE_SDKS_DIR:-$(dirname "$sdk_js")/../../.cache/node-sdks/node_modules}/$1')" 2>/dev/null ||
    { echo "SKIP: $1 is not installed (scripts/install-deps --servers)"; exit 77; }
}
# sdk_reads KEY FILE CONTENT_TYPE [MIN_BLOCKS]: the SDK's download and properties match FILE
# (az: at least MIN_BLOCKS committed blocks; gs: the SDK validated the CRC32C while downloading).
sdk_reads() {
  node "$sdk_js" "$sdk_store" read "$sdk_container" "$1" >"$work/sdk.json" || return 1
  python3 - "$work/sdk.json" "$(sha "$2")" "$(stat -c %s "$2")" "$3" "${4:-0}" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); want_sha, size, ct, blocks = sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
assert r["sha256"] == want_sha and r["size"] == size == r["declaredSize"], r
assert r["contentType"] == ct, r
assert r.get("blocks", 0) >= blocks, r
PY
}
# sdk_writes KEY FILE single|staged|resumable CONTENT_TYPE [k=v ...]: the SDK writes FILE.
sdk_writes() { node "$sdk_js" "$sdk_store" write "$sdk_container" "$1" "$2" "${@:3}"; }
# omnio_reads URI FILE CONTENT_TYPE META_JSON: omnio's get and stat match FILE and the SDK's headers.
omnio_reads() {
  [[ $(O get "$1" - | sha256sum | cut -d' ' -f1) == $(sha "$2") ]] || { echo "omnio get $1: bytes differ"; return 1; }
  O stat --json "$1" | python3 -c '
import json, sys
m = json.load(sys.stdin); size, ct, meta = int(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
assert m["size"] == size and m["content_type"] == ct and m["metadata"] == meta, m' "$(stat -c %s "$2")" "$3" "$4"
}
