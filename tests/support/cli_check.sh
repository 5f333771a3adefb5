# Sourced by CLI test scripts: check / expect_fail record results in $pass / $fail, using $work for
# captured output. (Not a test itself: tests/cli/*.sh are the registered scripts.)
pass=0 fail=0
check() {  # check NAME COMMAND...
  local name=$1; shift
  if "$@" >"$work/out" 2>"$work/err"; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "FAIL: $name"; sed 's/^/  stdout: /' "$work/out" | head -5; sed 's/^/  stderr: /' "$work/err" | head -5
  fi
}
expect_fail() {  # expect_fail NAME EXPECTED_RC PATTERN COMMAND...  (one line on stderr)
  local name=$1 rc=$2 pat=$3; shift 3
  "$@" >"$work/out" 2>"$work/err"; local got=$?
  if [[ $got -eq $rc ]] && grep -q -- "$pat" "$work/err" && [[ $(wc -l <"$work/err") -eq 1 ]]; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "FAIL: $name (rc $got, want $rc; stderr: $(head -c 300 "$work/err"))"
  fi
}
