#!/usr/bin/env bash
# End-to-end: `omnio doctor` against a real S3 server (Ceph radosgw; moto when radosgw is missing):
# ok with the right credentials, a clear one-line failure with a non-zero exit for a dead port and
# for wrong credentials, and the --json error object of a missing object with its structured detail.
set -uo pipefail
OMNIO=${1:?usage: cli_doctor_s3.sh path/to/omnio}
env_file=${OMNIO_TEST_SERVERS_ENV:?run through ctest (fixture s3servers) or set OMNIO_TEST_SERVERS_ENV}
unset OMNIO_TEST_SERVERS_ENV
work=$(mktemp -d "${TMPDIR:-/tmp}/omnio-cli-doctor-s3.XXXXXX")
trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/../support/cli_check.sh"
val() { sed -n "s/^$1=//p" "$env_file"; }

ep=$(val OMNIO_TEST_S3_RGW) srv=rgw
if [[ -n $ep ]]; then
  export AWS_ACCESS_KEY_ID=$(val OMNIO_TEST_S3_RGW_ACCESS_KEY) AWS_SECRET_ACCESS_KEY=$(val OMNIO_TEST_S3_RGW_SECRET_KEY)
else
  ep=$(val OMNIO_TEST_S3_MOTO) srv=moto
  export AWS_ACCESS_KEY_ID=omnio-test AWS_SECRET_ACCESS_KEY=omnio-test-secret
fi
if [[ -z $ep ]]; then echo "SKIP: no S3 server: $(val OMNIO_TEST_S3_RGW_SKIP)"; exit 77; fi
export AWS_REGION=us-east-1 AWS_CONFIG_FILE=$work/none AWS_SHARED_CREDENTIALS_FILE=$work/none
b="omnio-doctor-$$"
"$OMNIO" -q --endpoint-url "$ep" mb "s3://$b" || { echo "FAIL: mb"; exit 1; }

check "doctor $srv ok" bash -c "'$OMNIO' --endpoint-url '$ep' doctor 's3://$b/' >'$work/ok.txt' && grep -q '^verdict: ok' '$work/ok.txt' && grep -q '^check: LIST s3://$b/ (max 1 key): ok' '$work/ok.txt'"
check "doctor names the endpoint source" grep -Eq "^  s3.endpoint +$ep +\[flag\]$" "$work/ok.txt"
check "doctor prints no secret" bash -c "! grep -q -- '$AWS_SECRET_ACCESS_KEY' '$work/ok.txt'"

# A dead port: fails fast, exit 1, one error line naming the endpoint and "connection refused".
dead=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
start=$(date +%s.%N)
expect_fail "doctor dead port" 1 "http://127.0.0.1:$dead.*connection refused" "$OMNIO" --endpoint-url "http://127.0.0.1:$dead" doctor "s3://$b/"
check "doctor dead port is fast" python3 -c "import sys; sys.exit(0 if $(date +%s.%N) - $start < 5 else 1)"
check "doctor dead port explains" bash -c "'$OMNIO' --endpoint-url 'http://127.0.0.1:$dead' doctor 's3://$b/' 2>/dev/null | grep -Eq '^  transport: +connect_refused$'"
check "doctor dead port --json" bash -c "'$OMNIO' --json --endpoint-url 'http://127.0.0.1:$dead' doctor 's3://$b/' 2>/dev/null | python3 -c '
import json, sys
j = json.load(sys.stdin)
e = j[\"check\"][\"error\"]
assert j[\"verdict\"] == \"failed\" and e[\"transport\"] == \"connect_refused\", j
assert e[\"endpoint\"] == \"http://127.0.0.1:$dead\" and e[\"attempts\"] == e[\"max_attempts\"] == 3, e
'"
# Wrong credentials: the service's code and request id are shown.
check "doctor wrong secret fails with the service code" bash -c "! AWS_SECRET_ACCESS_KEY=wrong '$OMNIO' --endpoint-url '$ep' doctor 's3://$b/' 2>/dev/null >'$work/bad.txt'; grep -q '^verdict: failed' '$work/bad.txt' && grep -Eq '^  service code: +SignatureDoesNotMatch' '$work/bad.txt' && grep -Eq '^  http status: +403' '$work/bad.txt'"

# --json error output of an ordinary command keeps the structured detail.
check "--json error of a missing object" bash -c "'$OMNIO' --json --endpoint-url '$ep' get 's3://$b/missing' - 2>&1 >/dev/null | python3 -c '
import json, sys
e = json.load(sys.stdin)[\"error\"]
assert e[\"code\"] == \"not_found\" and e[\"http_status\"] == 404 and e[\"service_code\"] == \"NoSuchKey\", e
assert e[\"request_id\"] and e[\"endpoint\"] == \"$ep\" and e[\"attempts\"] == 1, e
assert e[\"uri\"] == \"s3://$b/missing\" and e[\"operation\"] == \"GET\", e
'"
"$OMNIO" -q --endpoint-url "$ep" rb "s3://$b" || true

echo "cli_doctor_s3 ($srv): $pass passed, $fail failed"
[[ $fail -eq 0 ]]
