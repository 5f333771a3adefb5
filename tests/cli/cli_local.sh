#!/usr/bin/env bash
# End-to-end: the omnio binary against file:// and direct:// on a real file system.
set -uo pipefail
OMNIO=${1:?usage: cli_local.sh path/to/omnio}
work=$(mktemp -d "${TMPDIR:-$PWD}/omnio-cli.XXXXXX")
trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/../support/cli_check.sh"

head -c 3000017 /dev/urandom >"$work/src.bin"
head -c 1 /dev/urandom >"$work/one.bin"
: >"$work/empty.bin"
O() { "$OMNIO" -q "$@"; }

for scheme in file direct; do
  base="$scheme://$work/$scheme"
  for f in src.bin one.bin empty.bin; do
    check "$scheme put $f" O put "$work/$f" "$base/objs/$f"
    check "$scheme get $f to file" O get "$base/objs/$f" "$work/back-$scheme-$f"
    check "$scheme round trip $f" cmp "$work/$f" "$work/back-$scheme-$f"
  done
  check "$scheme get to stdout" bash -c "'$OMNIO' -q get '$base/objs/src.bin' - | cmp - '$work/src.bin'"
  check "$scheme stdin put" bash -c "cat '$work/src.bin' | '$OMNIO' -q put - '$base/stdin/x.bin' && cmp '$work/src.bin' '$work/$scheme/stdin/x.bin'"
  check "$scheme range" bash -c "'$OMNIO' -q get '$base/objs/src.bin' --offset 12345 --length 1MiB | cmp - <(tail -c +12346 '$work/src.bin' | head -c 1048576)"
  check "$scheme range to end" bash -c "'$OMNIO' -q get '$base/objs/src.bin' --offset 2999000 | cmp - <(tail -c 1017 '$work/src.bin')"
  check "$scheme discard" O get --discard "$base/objs/src.bin"
done

# Listing: sorted, string prefix, directories, glob, json.
for n in img_002 img_001 img_010 label.txt sub/a sub/b/c; do O put "$work/one.bin" "file://$work/ls/$n"; done
check "ls sorted non-recursive" bash -c "diff <('$OMNIO' ls 'file://$work/ls/') <(printf '%s\n' file://$work/ls/img_001 file://$work/ls/img_002 file://$work/ls/img_010 file://$work/ls/label.txt file://$work/ls/sub/)"
check "ls string prefix" bash -c "diff <('$OMNIO' ls -r '$work/ls/img_') <(printf '%s\n' file://$work/ls/img_001 file://$work/ls/img_002 file://$work/ls/img_010)"
check "ls recursive" bash -c "[[ \$('$OMNIO' ls -r '$work/ls/' | wc -l) -eq 6 ]]"
check "ls glob" bash -c "diff <('$OMNIO' ls '$work/ls/' --glob 'img_00?') <(printf '%s\n' file://$work/ls/img_001 file://$work/ls/img_002)"
check "ls json" bash -c "'$OMNIO' ls --json -r '$work/ls/sub/' | python3 -c 'import json,sys; r=[json.loads(l) for l in sys.stdin]; assert [x[\"uri\"].rsplit(\"/\",2)[-2:] for x in r]==[[\"sub\",\"a\"],[\"b\",\"c\"]], r; assert r[0][\"size\"]==1'"
check "stat json" bash -c "'$OMNIO' stat --json 'direct://$work/direct/objs/src.bin' | python3 -c 'import json,sys; j=json.load(sys.stdin); assert j[\"size\"]==3000017 and j[\"last_modified\"].endswith(\"Z\") and j[\"storage_class\"]==\"DIRECT_IO\", j'"

# cp -r keeps the hierarchy, in parallel, across schemes, and back.
check "cp -r file->direct" O cp -r -j 4 "$work/ls/" "direct://$work/tree/"
check "cp -r direct->file" O cp -r "direct://$work/tree/" "$work/tree2/"
check "cp -r hierarchy preserved" diff -r "$work/ls" "$work/tree2"
check "cp single into dir" O cp "$work/src.bin" "$work/tree2/"
check "cp single result" cmp "$work/src.bin" "$work/tree2/src.bin"

# rm, mb, rb.
check "rm one" O rm "file://$work/tree2/src.bin"
check "rm one gone" test ! -e "$work/tree2/src.bin"
check "rm -r" O rm -r "file://$work/tree2/"
check "rm -r empty" bash -c "[[ -z \$('$OMNIO' ls -r '$work/tree2/') ]]"
check "mb" O mb "file://$work/bucket"
check "mb is a dir" test -d "$work/bucket"
check "rb" O rb "file://$work/bucket"
check "rb gone" test ! -e "$work/bucket"

# Errors: one line, typed, non-zero.
expect_fail "missing object" 1 "not_found" "$OMNIO" get "file://$work/nope"
expect_fail "missing rm" 1 "not_found" "$OMNIO" rm "file://$work/nope"
expect_fail "bad scheme" 2 "unknown scheme" "$OMNIO" ls "ftp://x/y"
expect_fail "relative file uri" 2 "absolute" "$OMNIO" ls "file://relative/path"
expect_fail "bad size" 2 "--length" "$OMNIO" get "$work/src.bin" --length 12XB
expect_fail "offset past end" 1 "out_of_range" "$OMNIO" get "$work/src.bin" --offset 4000000 --length 1
expect_fail "too many jobs" 2 "-j" "$OMNIO" cp -r -j 5000 "$work/ls/" "$work/x/"

# A closed stdout is not an error.
check "broken pipe exits 0" bash -c "'$OMNIO' -q get '$work/src.bin' | head -c 10 >/dev/null; [[ \${PIPESTATUS[0]} -eq 0 ]]"
# --quiet prints nothing on stderr.
check "quiet" bash -c "[[ -z \$('$OMNIO' -q get --discard '$work/src.bin' 2>&1) ]]"
check "summary line" bash -c "'$OMNIO' get --discard '$work/src.bin' 2>&1 | grep -q 'get: 1 objects'"

echo "cli_local: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
