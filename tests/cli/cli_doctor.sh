#!/usr/bin/env bash
# End-to-end: config that explains itself (omnio config show / doctor on local stores), the
# start-up warnings about misspelled variables, and --json error output. The S3 doctor against a
# real server and a dead port is tests/s3/cli_doctor_s3.sh.
set -uo pipefail
OMNIO=${1:?usage: cli_doctor.sh path/to/omnio}
work=$(mktemp -d "${TMPDIR:-$PWD}/omnio-cli-doctor.XXXXXX")
trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/../support/cli_check.sh"
# A clean slate: no OMNIO_* of the caller's environment.
for v in $(env | sed -n 's/^\(OMNIO_[A-Z0-9_]*\)=.*/\1/p'); do unset "$v"; done
mkdir -p "$work/data" && echo hi >"$work/data/a.txt"

# Misspelled variables: one warning line naming the intended one, on any command; --quiet hushes.
check "misspelled OMNIO_LOG_LEVL warns with the known name" bash -c \
  "OMNIO_LOG_LEVL=debug '$OMNIO' ls '$work/data/' 2>&1 >/dev/null | grep -qx 'omnio: warning: OMNIO_LOG_LEVL is set but omnio does not read it (did you mean OMNIO_LOG_LEVEL?)'"
check "the warning is one line and the command still works" bash -c \
  "[[ \$(OMNIO_LOG_LEVL=debug '$OMNIO' ls '$work/data/' 2>&1 >/dev/null | wc -l) -eq 1 ]] && OMNIO_LOG_LEVL=x '$OMNIO' ls '$work/data/' 2>/dev/null | grep -q a.txt"
check "misspelled AWS_ACCES_KEY_ID warns" bash -c \
  "AWS_ACCES_KEY_ID=x '$OMNIO' ls '$work/data/' 2>&1 >/dev/null | grep -q 'AWS_ACCES_KEY_ID is set but omnio does not read it (did you mean AWS_ACCESS_KEY_ID?)'"
check "other tools' AWS variables are not warned about" bash -c \
  "[[ -z \$(AWS_PAGER= AWS_MAX_ATTEMPTS=3 AWS_EC2_METADATA_DISABLED=true '$OMNIO' ls '$work/data/' 2>&1 >/dev/null) ]]"
check "--quiet suppresses the warnings" bash -c \
  "[[ -z \$(OMNIO_LOG_LEVL=debug '$OMNIO' -q ls '$work/data/' 2>&1 >/dev/null) ]]"

# config show: sources.
check "config show: env var named as the source" bash -c \
  "OMNIO_IO_THREADS=7 '$OMNIO' config show | grep -E '^  io_threads +7 +\[env OMNIO_IO_THREADS\]$'"
check "config show: 'default' otherwise" bash -c \
  "'$OMNIO' config show | grep -E '^  io_threads +32 +\[default\]$'"
check "config show: a flag is named as the source" bash -c \
  "'$OMNIO' --range-chunk 4MiB config show s3://bucket --endpoint-url http://127.0.0.1:1 | grep -E '^  s3.range_engine.chunk_size +4 MiB +\[flag\]$'"
check "config show s3: endpoint from env, region default, credentials from env, no secret" bash -c \
  "out=\$(AWS_ENDPOINT_URL=http://127.0.0.1:9 AWS_ACCESS_KEY_ID=AKIAEXAMPLE1234 AWS_SECRET_ACCESS_KEY=topsecretvalue AWS_REGION= AWS_DEFAULT_REGION= AWS_CONFIG_FILE=/nonexistent AWS_SHARED_CREDENTIALS_FILE=/nonexistent '$OMNIO' config show s3://b) &&
   grep -Eq '^  s3.endpoint +http://127.0.0.1:9 +\[env AWS_ENDPOINT_URL\]$' <<<\"\$out\" &&
   grep -Eq '^  s3.region +us-east-1 +\[default\]$' <<<\"\$out\" &&
   grep -Eq '^  s3.credentials +access key id AKIA...1234 +\[env\]$' <<<\"\$out\" &&
   grep -Eq '^  s3.addressing_style +path' <<<\"\$out\" && ! grep -q topsecretvalue <<<\"\$out\" && ! grep -q AKIAEXAMPLE1234 <<<\"\$out\""
check "config show --json: entries with sources, warnings listed" bash -c \
  "OMNIO_IO_THREADS=7 OMNIO_LOG_LEVL=x '$OMNIO' --json config show | python3 -c '
import json, sys
j = json.load(sys.stdin)
c = {e[\"key\"]: e for e in j[\"config\"]}
assert c[\"io_threads\"][\"value\"] == \"7\" and c[\"io_threads\"][\"source\"] == \"env OMNIO_IO_THREADS\", c[\"io_threads\"]
assert c[\"log_level\"][\"source\"] == \"default\", c[\"log_level\"]
w = [x for x in j[\"warnings\"] if x[\"variable\"] == \"OMNIO_LOG_LEVL\"]
assert w and w[0][\"did_you_mean\"] == \"OMNIO_LOG_LEVEL\", j[\"warnings\"]
'"
check "config show: direct:// settings" bash -c \
  "'$OMNIO' config show 'direct://$work/data/' | grep -E '^  direct.use_direct_io +true +\[default\]$'"

# doctor on local stores: ok for an existing path, a clear failure (exit 1) for a missing one.
check "doctor file:// ok" bash -c "'$OMNIO' doctor '$work/data/' | grep -q '^verdict: ok'"
expect_fail "doctor of a missing path fails" 1 "doctor file://$work/missing" "$OMNIO" -q doctor "$work/missing"
check "doctor failure names the check" bash -c "'$OMNIO' doctor '$work/missing' 2>/dev/null | grep -q '^check: FAILED: .*No such file'"
check "doctor --json" bash -c "'$OMNIO' --json doctor '$work/data/' | python3 -c 'import json,sys; j=json.load(sys.stdin); assert j[\"verdict\"] == \"ok\" and j[\"check\"][\"ok\"], j'"

# --json error output: a JSON object on stderr with the code.
check "--json error is one JSON object" bash -c \
  "'$OMNIO' --json stat '$work/nope' 2>&1 >/dev/null | python3 -c 'import json,sys; j=json.load(sys.stdin); assert j[\"error\"][\"code\"] == \"not_found\", j'"

echo "cli_doctor: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
