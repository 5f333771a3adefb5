#!/usr/bin/env bash
# End-to-end: `omnio put PREFIX -n COUNT -s SIZE` (the workload generator) and `omnio get
# --discard` over a prefix or a key list, on file:// and direct://. Formats are cross-checked by
# tests/cli/check_formats.py (numpy when installed, else struct + zipfile; pure-Python CRC-32C).
set -uo pipefail
OMNIO=${1:?usage: cli_workload.sh path/to/omnio}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-$PWD}/omnio-wl.XXXXXX")
trap 'rm -rf "$work"' EXIT
source "$here/../support/cli_check.sh"
O() { "$OMNIO" -q "$@"; }
# A Python with numpy if there is one (the Debian python3-numpy lives under /usr/bin/python3).
PY=python3
for p in python3 /usr/bin/python3; do
  if "$p" -c 'import numpy' 2>/dev/null; then PY=$p; break; fi
done
ratio_between() {  # ratio_between FILE LOW HIGH [ZSTD_FLAGS...]: zstd ratio of FILE in (LOW, HIGH)
  local f=$1 lo=$2 hi=$3; shift 3
  local c; c=$(zstd -3 "$@" -q -c "$f" | wc -c)
  awk -v o="$(stat -c %s "$f")" -v c="$c" -v lo="$lo" -v hi="$hi" \
    'BEGIN {r = o / c; if (r > lo && r < hi) exit 0; print "zstd ratio " r; exit 1}'
}

for scheme in file direct; do
  d="$work/$scheme"
  base="$scheme://$d"
  check "$scheme put -n 1k" O put "$base/a/" -n 1k -s 4095 -j 8
  check "$scheme count" bash -c "[[ \$(ls '$d/a' | wc -l) -eq 1000 ]]"
  check "$scheme exact sizes" bash -c "[[ \$(stat -c %s '$d'/a/* | sort -u) == 4095 ]]"
  check "$scheme default names" test -f "$d/a/object_999_of_1000.dat"
  check "$scheme objects differ" bash -c "[[ \$(md5sum '$d'/a/* | cut -d' ' -f1 | sort -u | wc -l) -eq 1000 ]]"
  check "$scheme get prefix bytes" bash -c "'$OMNIO' --json get '$base/a/' --discard -j 4 | $PY -c 'import json,sys; j=json.load(sys.stdin); assert j[\"objects\"]==1000 and j[\"bytes\"]==4095000, j'"
done

d=$work/file
# Seeds: reproducible, and without --seed two runs differ (the seed is printed).
check "seed run 1" O put "$d/s1/" -n 3 -s 1MiB --seed 42
check "seed run 2" O put "$d/s2/" -n 3 -s 1MiB --seed 0x2a
check "seed reproducible" diff -r "$d/s1" "$d/s2"
check "unseeded run" O put "$d/s3/" -n 3 -s 1MiB
check "unseeded differs" bash -c "! cmp -s '$d/s1/object_0_of_3.dat' '$d/s3/object_0_of_3.dat'"
check "seed printed" bash -c "'$OMNIO' put '$d/s4/' -n 1 -s 1k 2>&1 >/dev/null | grep -q '^seed: [0-9]'"
check "json has seed" bash -c "'$OMNIO' --json put '$d/s5/' -n 2 -s 1k --seed 7 | $PY -c 'import json,sys; j=json.load(sys.stdin); assert j[\"seed\"]==7 and j[\"objects\"]==2 and j[\"bytes\"]==2000 and \"cpu_seconds_per_gb\" in j, j'"
# The final table.
check "table" bash -c "'$OMNIO' put '$d/t/' -n 4 -s 1Ki 2>&1 >/dev/null | head -1 | grep -q 'objects.*bytes.*seconds.*objects/s.*GB/s.*cpu_user.*cpu_sys.*cpu_s/GB'"
check "quiet" bash -c "[[ -z \$('$OMNIO' -q put '$d/q/' -n 2 -s 10 2>&1) ]]"

# Template naming, sizes in every unit, zero-byte objects.
check "template" O put "file://$d/tpl/run1_" -n 3 -s 1 --template 'shard-{}-of-{}.bin'
check "template names" bash -c "[[ \$(ls '$d/tpl' | tr '\n' ' ') == 'run1_shard-0-of-3.bin run1_shard-1-of-3.bin run1_shard-2-of-3.bin ' ]]"
check "1Ki count" O put "$d/ki/" -n 1Ki -s 0 -j 16
check "1Ki count = 1024" bash -c "[[ \$(ls '$d/ki' | wc -l) -eq 1024 && \$(stat -c %s '$d'/ki/* | sort -u) == 0 ]]"
check "8MiB size" O put "$d/big/" -n 2 -s 8MiB
check "8MiB exact" bash -c "[[ \$(stat -c %s '$d'/big/* | sort -u) == 8388608 ]]"
check "streamed 20MB size" O put "direct://$d/big2/" -n 2 -s 20MB -j 2
check "streamed exact" bash -c "[[ \$(stat -c %s '$d'/big2/* | sort -u) == 20000000 ]]"

# Dedup and compression roughly honoured (zstd CLI on a sample object).
check "compress 4" O put "$d/c4/" -n 2 -s 8MiB --compress 4 --seed 1
check "compress 4 ratio" ratio_between "$d/c4/object_1_of_2.dat" 3.6 4.4
check "compress 1 ratio" ratio_between "$d/big/object_0_of_2.dat" 0.98 1.02
check "dedup 4" O put "$d/d4/" -n 1 -s 16MiB --dedup 4 --seed 1
check "dedup 4 ratio" bash -c "n=\$(split -b 1048576 --filter='md5sum' '$d/d4/object_0_of_1.dat' | sort -u | wc -l); [[ \$n -eq 4 ]] || { echo unique \$n; exit 1; }"
check "dedup 4 long-window zstd" ratio_between "$d/d4/object_0_of_1.dat" 3.6 4.4 --long=27

# Formats, checked by an independent reader.
check "npy put" O put "$d/npy/" -n 3 -s 10007 --format npy
check "npy names" test -f "$d/npy/object_2_of_3.npy"
check "npy loads" $PY "$here/check_formats.py" npy 10007 1 "$d"/npy/*
cp "$work/out" "$work/npy-reader"
check "npz put" O put "direct://$d/npz/" -n 2 -s 1MiB --format npz --samples 3
check "npz loads" $PY "$here/check_formats.py" npz 1048576 3 "$d"/npz/*
check "npz streamed put" O put "$d/npz2/" -n 1 -s 17MiB --format npz
check "npz streamed loads" $PY "$here/check_formats.py" npz 17825792 1 "$d"/npz2/*
check "tfrecord put" O put "$d/tfr/" -n 2 -s 100000 --format tfrecord --samples 10 --index
check "tfrecord crcs + index" $PY "$here/check_formats.py" tfrecord 100000 10 "$d"/tfr/object_0_of_2.tfrecord "$d"/tfr/object_1_of_2.tfrecord
check "tfrecord idx exists" test -f "$d/tfr/object_1_of_2.tfrecord.idx"
check "tfrecord streamed put" O put "direct://$d/tfr2/" -n 1 -s 17MiB --format tfrecord --samples 4 --index
check "tfrecord streamed crcs" $PY "$here/check_formats.py" tfrecord 17825792 4 "$d"/tfr2/object_0_of_1.tfrecord

# get over a key list: byte totals match what ls reports.
"$OMNIO" ls -r "$d/npz/" >"$work/keys"
printf '# comment\n\n' >>"$work/keys"
check "keylist get" bash -c "'$OMNIO' --json get --keylist '$work/keys' --discard -j 2 | $PY -c 'import json,sys,os,glob; j=json.load(sys.stdin); want=sum(os.path.getsize(f) for f in glob.glob(\"$d/npz/*\")); assert j[\"objects\"]==2 and j[\"bytes\"]==want, (j, want)'"
check "get -r --discard" bash -c "'$OMNIO' --json get -r '$d/tfr/' --discard | $PY -c 'import json,sys; j=json.load(sys.stdin); assert j[\"objects\"]==4, j'"
# The single-object forms still work.
check "put SRC DST" O put "$d/npy/object_0_of_3.npy" "$d/copy.npy"
check "put SRC DST equal" cmp "$d/npy/object_0_of_3.npy" "$d/copy.npy"
check "get one object" bash -c "'$OMNIO' -q get '$d/copy.npy' | cmp - '$d/copy.npy'"
check "get one --discard" O get --discard "$d/copy.npy"

# Bad input: one line, exit 2, naming the flag and the expected form.
expect_fail "bad count" 2 "\-n 'lots': expected a count such as 1000, 1k" "$OMNIO" put "$d/x/" -n lots -s 1
expect_fail "bad size" 2 "\-s '12XB'" "$OMNIO" put "$d/x/" -n 1 -s 12XB
expect_fail "missing size" 2 "needs -s SIZE" "$OMNIO" put "$d/x/" -n 1
expect_fail "bad format" 2 "\-\-format 'hdf6': expected raw, npy, npz or tfrecord" "$OMNIO" put "$d/x/" -n 1 -s 1 --format hdf6
expect_fail "bad seed" 2 "\-\-seed 'abc': expected an unsigned 64-bit integer" "$OMNIO" put "$d/x/" -n 1 -s 1 --seed abc
expect_fail "bad compress" 2 "\-\-compress: expected 1..64" "$OMNIO" put "$d/x/" -n 1 -s 1 --compress 100
expect_fail "bad dedup" 2 "\-\-dedup: expected >= 1" "$OMNIO" put "$d/x/" -n 1 -s 1 --dedup 0
expect_fail "bad template" 2 "template" "$OMNIO" put "$d/x/" -n 1 -s 1 --template 'a{}{}{}'
expect_fail "index without tfrecord" 2 "\-\-index needs --format tfrecord" "$OMNIO" put "$d/x/" -n 1 -s 1 --index
expect_fail "npy samples" 2 "samples must be 1" "$OMNIO" put "$d/x/" -n 1 -s 1 --format npy --samples 2
expect_fail "workload flag without -n" 2 "need -n COUNT" "$OMNIO" put "$d/x/" -s 1
expect_fail "put missing dst" 2 "missing the destination URI" "$OMNIO" put "$d/copy.npy"
expect_fail "two args with -n" 2 "one URI prefix" "$OMNIO" put "$d/x/" "$d/y/" -n 1 -s 1
expect_fail "jobs 0" 2 "\-j 0" "$OMNIO" put "$d/x/" -n 1 -s 1 -j 0
expect_fail "jobs too many" 2 "\-j 5000" "$OMNIO" put "$d/x/" -n 1 -s 1 -j 5000
expect_fail "keylist missing" 1 "cannot open" "$OMNIO" get --keylist "$work/nope" --discard
expect_fail "keylist without discard" 2 "needs --discard" "$OMNIO" get --keylist "$work/keys"
printf 'relative/key\n' >"$work/badkeys"
expect_fail "keylist bad line" 2 "line 1" "$OMNIO" get --keylist "$work/badkeys" --discard
expect_fail "get missing in keylist" 1 "not_found" bash -c "printf 'file://$d/nope\n' >'$work/k2'; '$OMNIO' -q get --keylist '$work/k2' --discard"

echo "cli_workload: $pass passed, $fail failed ($(cat "$work/npy-reader" 2>/dev/null))"
[[ $fail -eq 0 ]]
