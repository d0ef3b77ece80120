#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# The real aws CLI (Debian's /usr/bin/aws, whatever else is first in PATH)
# against huskd with --endpoint-url: what function authors run.

load helpers

setup_file()
{
	[ -x /usr/bin/aws ] || skip "Debian's awscli is not installed (/usr/bin/aws)"
	husk_setup_file awscli
	mkdir -p "$HUSK_TMP/aws-home"
	export AWS_HOME_DIR=$HUSK_TMP/aws-home
}

teardown_file()
{
	husk_teardown_file
}

setup()
{
	[ -x /usr/bin/aws ] || skip "Debian's awscli is not installed (/usr/bin/aws)"
}

teardown()
{
	husk_teardown_test
}

# The CLI with dummy credentials and no user configuration; no retries, so
# that an error shows at once.
awsl()
{
	env -u AWS_PROFILE HOME="$AWS_HOME_DIR" \
		AWS_ACCESS_KEY_ID=AKIDHUSKTEST AWS_SECRET_ACCESS_KEY=husk-test-secret \
		AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE="$AWS_HOME_DIR/config" \
		AWS_SHARED_CREDENTIALS_FILE="$AWS_HOME_DIR/credentials" AWS_MAX_ATTEMPTS=1 \
		AWS_EC2_METADATA_DISABLED=true AWS_PAGER= \
		/usr/bin/aws --endpoint-url "http://127.0.0.1:$HUSK_PORT" --no-cli-pager \
		--output json --cli-read-timeout 120 lambda "$@"
}

create_fn()
{
	local name=$1 dir=$2
	shift 2
	awsl create-function --function-name "$name" --runtime provided.al2023 \
		--role "$HUSK_ROLE" --handler bootstrap --zip-file "fileb://$(husk_zip "$dir")" "$@"
}

@test "aws lambda create-function" {
	zip=$(husk_zip echo)
	run create_fn cli-create echo --memory-size 256 --timeout 9 \
		--environment 'Variables={STAGE=test}'
	echo "$output"
	[ "$status" = 0 ]
	[ "$(jq -r .FunctionName <<<"$output")" = cli-create ]
	[ "$(jq -r .FunctionArn <<<"$output")" = \
		arn:aws:lambda:us-east-1:000000000000:function:cli-create ]
	[ "$(jq -r .Runtime <<<"$output")" = provided.al2023 ]
	[ "$(jq -r .CodeSha256 <<<"$output")" = "$(husk_sha256_b64 "$zip")" ]
	[ "$(jq -r .CodeSize <<<"$output")" = "$(stat -c %s "$zip")" ]
	[ "$(jq -r .MemorySize <<<"$output")" = 256 ]
	[ "$(jq -r .Timeout <<<"$output")" = 9 ]
	[ "$(jq -r .Environment.Variables.STAGE <<<"$output")" = test ]
	[ "$(jq -r .Version <<<"$output")" = '$LATEST' ]
}

@test "aws lambda create-function of an existing name fails with ResourceConflictException" {
	run create_fn cli-dup echo
	[ "$status" = 0 ]
	run create_fn cli-dup echo
	echo "$output"
	[ "$status" != 0 ]
	[[ "$output" == *ResourceConflictException* ]]
}

@test "aws lambda invoke" {
	run create_fn cli-invoke echo
	[ "$status" = 0 ]
	out=$BATS_TEST_TMPDIR/out.json
	run awsl invoke --function-name cli-invoke --cli-binary-format raw-in-base64-out \
		--payload '{"from": "aws-cli", "n": 42}' "$out"
	echo "$output"
	[ "$status" = 0 ]
	[ "$(jq -r .StatusCode <<<"$output")" = 200 ]
	[ "$(jq -r '.FunctionError // ""' <<<"$output")" = "" ]
	[ "$(jq -r .ExecutedVersion <<<"$output")" = '$LATEST' ]
	[ "$(jq -cS . "$out")" = '{"from":"aws-cli","n":42}' ]
}

@test "aws lambda invoke --log-type Tail" {
	run create_fn cli-tail echo
	[ "$status" = 0 ]
	run awsl invoke --function-name cli-tail --cli-binary-format raw-in-base64-out \
		--payload '{}' --log-type Tail "$BATS_TEST_TMPDIR/out.json"
	echo "$output"
	[ "$status" = 0 ]
	log=$(jq -r .LogResult <<<"$output" | base64 -d)
	echo "$log"
	grep -q '^START RequestId: ' <<<"$log"
	grep -q '^echo-function: handling ' <<<"$log"
	grep -q '^END RequestId: ' <<<"$log"
	grep -q '^REPORT RequestId: ' <<<"$log"
}

@test "aws lambda invoke of a failing function shows FunctionError" {
	run create_fn cli-error error
	[ "$status" = 0 ]
	out=$BATS_TEST_TMPDIR/out.json
	run awsl invoke --function-name cli-error --cli-binary-format raw-in-base64-out \
		--payload '{}' "$out"
	echo "$output"
	cat "$out"
	[ "$status" = 0 ]
	[ "$(jq -r .StatusCode <<<"$output")" = 200 ]
	[ "$(jq -r .FunctionError <<<"$output")" = Unhandled ]
	[ "$(jq -r .errorType "$out")" = TestHandlerError ]
}

@test "aws lambda get-function and get-function-configuration" {
	run create_fn cli-get echo --memory-size 192
	[ "$status" = 0 ]
	created=$output
	run awsl get-function --function-name cli-get
	echo "$output"
	[ "$status" = 0 ]
	[ "$(jq -r .Configuration.FunctionName <<<"$output")" = cli-get ]
	[ "$(jq -r .Configuration.MemorySize <<<"$output")" = 192 ]
	[ "$(jq -r .Configuration.CodeSha256 <<<"$output")" = "$(jq -r .CodeSha256 <<<"$created")" ]
	run awsl get-function-configuration --function-name cli-get
	echo "$output"
	[ "$status" = 0 ]
	[ "$(jq -r .RevisionId <<<"$output")" = "$(jq -r .RevisionId <<<"$created")" ]
}

@test "aws lambda list-functions" {
	run create_fn cli-list-1 echo
	[ "$status" = 0 ]
	run create_fn cli-list-2 probe
	[ "$status" = 0 ]
	run awsl list-functions
	echo "$output"
	[ "$status" = 0 ]
	jq -e '[.Functions[].FunctionName] | index("cli-list-1") != null and
		index("cli-list-2") != null' <<<"$output"
}

@test "aws lambda update-function-configuration" {
	run create_fn cli-upconf probe
	[ "$status" = 0 ]
	rev=$(jq -r .RevisionId <<<"$output")
	run awsl update-function-configuration --function-name cli-upconf --memory-size 384 \
		--timeout 11 --environment 'Variables={MODE=updated}' --ephemeral-storage Size=2048
	echo "$output"
	[ "$status" = 0 ]
	[ "$(jq -r .MemorySize <<<"$output")" = 384 ]
	[ "$(jq -r .Timeout <<<"$output")" = 11 ]
	[ "$(jq -r .EphemeralStorage.Size <<<"$output")" = 2048 ]
	[ "$(jq -r .Environment.Variables.MODE <<<"$output")" = updated ]
	[ "$(jq -r .RevisionId <<<"$output")" != "$rev" ]
	run awsl get-function-configuration --function-name cli-upconf
	[ "$(jq -r .MemorySize <<<"$output")" = 384 ]
	# The running function sees the new configuration.
	run awsl invoke --function-name cli-upconf --cli-binary-format raw-in-base64-out \
		--payload '{"cmd": "echo $MODE $AWS_LAMBDA_FUNCTION_MEMORY_SIZE"}' \
		"$BATS_TEST_TMPDIR/out.json"
	[ "$status" = 0 ]
	[ "$(jq -r .out "$BATS_TEST_TMPDIR/out.json")" = "updated 384" ]
}

@test "aws lambda update-function-code" {
	run create_fn cli-upcode echo
	[ "$status" = 0 ]
	zip=$(husk_zip probe)
	run awsl update-function-code --function-name cli-upcode --zip-file "fileb://$zip"
	echo "$output"
	[ "$status" = 0 ]
	[ "$(jq -r .CodeSha256 <<<"$output")" = "$(husk_sha256_b64 "$zip")" ]
	run awsl invoke --function-name cli-upcode --cli-binary-format raw-in-base64-out \
		--payload '{"cmd": "echo probe now"}' "$BATS_TEST_TMPDIR/out.json"
	[ "$status" = 0 ]
	[ "$(jq -r .out "$BATS_TEST_TMPDIR/out.json")" = "probe now" ]
}

@test "aws lambda delete-function" {
	run create_fn cli-delete echo
	[ "$status" = 0 ]
	run awsl delete-function --function-name cli-delete
	echo "$output"
	[ "$status" = 0 ]
	run awsl get-function --function-name cli-delete
	echo "$output"
	[ "$status" != 0 ]
	[[ "$output" == *ResourceNotFoundException* ]]
	run awsl list-functions
	jq -e '[.Functions[].FunctionName] | index("cli-delete") == null' <<<"$output"
}
