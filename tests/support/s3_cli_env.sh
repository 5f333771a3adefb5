# Sourced by the S3 CLI scripts after cli_check.sh: the servers of the s3servers fixture.
#   s3_server SRV    (RGW or MOTO) exports S3_EP and the server's AWS credentials and returns 0;
#                    prints "SKIP SRV: reason", counts it in $skipped and returns 1 if not started.
# Needs $env_file (the fixture's servers.env) and $work.
skipped=0
val() { sed -n "s/^$1=//p" "$env_file"; }
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
export AWS_CONFIG_FILE=$work/aws-config AWS_SHARED_CREDENTIALS_FILE=$work/aws-credentials
s3_server() {
  local srv=$1
  S3_EP=$(val "OMNIO_TEST_S3_$srv")
  if [[ -z $S3_EP ]]; then
    echo "SKIP $srv: $(val "OMNIO_TEST_S3_${srv}_SKIP")"; skipped=$((skipped + 1)); return 1
  fi
  if [[ $srv == RGW ]]; then
    export AWS_ACCESS_KEY_ID=$(val OMNIO_TEST_S3_RGW_ACCESS_KEY) AWS_SECRET_ACCESS_KEY=$(val OMNIO_TEST_S3_RGW_SECRET_KEY)
  else
    export AWS_ACCESS_KEY_ID=omnio-test AWS_SECRET_ACCESS_KEY=omnio-test-secret
  fi
  export S3_EP
}
