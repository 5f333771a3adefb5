# Sourced by the CLI end-to-end scripts: pass/fail counting over a scratch directory $work.
#   check NAME COMMAND...                      passes when COMMAND exits 0
#   expect_fail NAME RC PATTERN COMMAND...     passes when COMMAND exits RC with one stderr line
#                                              matching PATTERN (the CLI's single error line)
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
  if [[ $got -eq $rc ]] && grep -q -- "$pat" "$work/err" && [[ $(wc -l <"$work/err") -eq 1 ]]; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "FAIL: $name (rc $got, want $rc; stderr: $(head -c 400 "$work/err"))"
  fi
}
