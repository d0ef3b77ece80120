#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# The Lambda control and data plane API seen through curl: status codes,
# the FunctionConfiguration fields, errors of unknown functions, invocation
# headers (DryRun, LogType Tail, X-Husk-Report), code updates, and state
# that survives a restart of huskd.

load helpers

setup_file()
{
	husk_setup_file api
}

teardown_file()
{
	husk_teardown_file
}

teardown()
{
	husk_teardown_test
}

ARN_PREFIX=arn:aws:lambda:us-east-1:000000000000:function

@test "CreateFunction answers 201 with the whole FunctionConfiguration" {
	zip=$(husk_zip echo)
	husk_create api-create "$zip" '{"MemorySize": 256, "Timeout": 10,
		"EphemeralStorage": {"Size": 600}, "Description": "the echo",
		"Environment": {"Variables": {"GREETING": "hello", "EMPTY": ""}}}'
	echo "$HTTP_BODY"
	[ "$HTTP_STATUS" = 201 ]
	b=$HTTP_BODY
	[ "$(jq -r .FunctionName <<<"$b")" = api-create ]
	[ "$(jq -r .FunctionArn <<<"$b")" = "$ARN_PREFIX:api-create" ]
	[ "$(jq -r .Runtime <<<"$b")" = provided.al2023 ]
	[ "$(jq -r .Role <<<"$b")" = "$HUSK_ROLE" ]
	[ "$(jq -r .Handler <<<"$b")" = bootstrap ]
	[ "$(jq -r .Description <<<"$b")" = "the echo" ]
	[ "$(jq -r .CodeSha256 <<<"$b")" = "$(husk_sha256_b64 "$zip")" ]
	[ "$(jq -r .CodeSize <<<"$b")" = "$(stat -c %s "$zip")" ]
	[ "$(jq -r .MemorySize <<<"$b")" = 256 ]
	[ "$(jq -r .Timeout <<<"$b")" = 10 ]
	[ "$(jq -r .EphemeralStorage.Size <<<"$b")" = 600 ]
	[ "$(jq -cS .Environment.Variables <<<"$b")" = '{"EMPTY":"","GREETING":"hello"}' ]
	[ "$(jq -r .Version <<<"$b")" = '$LATEST' ]
	[[ "$(jq -r .RevisionId <<<"$b")" =~ ^[0-9a-f-]{36}$ ]]
	[[ "$(jq -r .LastModified <<<"$b")" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}\+0000$ ]]
	[ "$(husk_header Content-Type)" = application/json ]
}

@test "CreateFunction defaults: 128 MB, 3 s, 512 MB of /tmp" {
	husk_create_ok api-defaults echo
	[ "$(jq -r .MemorySize <<<"$HTTP_BODY")" = 128 ]
	[ "$(jq -r .Timeout <<<"$HTTP_BODY")" = 3 ]
	[ "$(jq -r .EphemeralStorage.Size <<<"$HTTP_BODY")" = 512 ]
}

@test "GetFunction and GetFunctionConfiguration return what CreateFunction did" {
	husk_create_ok api-get echo '{"MemorySize": 192}'
	created=$HTTP_BODY
	keys='{FunctionName, FunctionArn, Runtime, Role, Handler, CodeSha256, CodeSize,
		MemorySize, Timeout, Version, RevisionId, LastModified}'

	husk_api GET "$HUSK_API/api-get"
	echo "$HTTP_BODY"
	[ "$HTTP_STATUS" = 200 ]
	[ "$(jq -cS ".Configuration | $keys" <<<"$HTTP_BODY")" = "$(jq -cS "$keys" <<<"$created")" ]
	jq -e '.Code | type == "object"' <<<"$HTTP_BODY"

	husk_api GET "$HUSK_API/api-get/configuration"
	echo "$HTTP_BODY"
	[ "$HTTP_STATUS" = 200 ]
	[ "$(jq -cS "$keys" <<<"$HTTP_BODY")" = "$(jq -cS "$keys" <<<"$created")" ]
}

@test "GetFunction accepts the function's ARN and the \$LATEST qualifier" {
	husk_create_ok api-arn echo
	husk_api GET "$HUSK_API/$ARN_PREFIX:api-arn/configuration"
	[ "$HTTP_STATUS" = 200 ]
	[ "$(jq -r .FunctionName <<<"$HTTP_BODY")" = api-arn ]
	husk_api GET "$HUSK_API/api-arn/configuration?Qualifier=%24LATEST"
	[ "$HTTP_STATUS" = 200 ]
	husk_api GET "$HUSK_API/api-arn/configuration?Qualifier=7"
	husk_expect_error 404 ResourceNotFoundException
}

@test "ListFunctions lists every function with its configuration" {
	husk_create_ok api-list-a echo
	sha_a=$(jq -r .CodeSha256 <<<"$HTTP_BODY")
	husk_create_ok api-list-b probe '{"MemorySize": 320}'
	husk_api GET "$HUSK_API/"
	echo "$HTTP_BODY"
	[ "$HTTP_STATUS" = 200 ]
	[ "$(jq -r '.Functions[] | select(.FunctionName == "api-list-a") | .CodeSha256' \
		<<<"$HTTP_BODY")" = "$sha_a" ]
	[ "$(jq -r '.Functions[] | select(.FunctionName == "api-list-b") | .MemorySize' \
		<<<"$HTTP_BODY")" = 320 ]
	husk_api GET "$HUSK_API"
	[ "$HTTP_STATUS" = 200 ]
	jq -e '[.Functions[].FunctionName] | index("api-list-a") != null' <<<"$HTTP_BODY"
}

@test "ListFunctions pages through every function with MaxItems and Marker" {
	for i in 1 2 3; do
		husk_create_ok "api-page-$i" echo
	done
	husk_api GET "$HUSK_API/"
	all=$(jq -r '[.Functions[].FunctionName] | sort | join(" ")' <<<"$HTTP_BODY")
	seen=() marker= pages=0
	while :; do
		husk_api GET "$HUSK_API/?MaxItems=2${marker:+&Marker=$marker}"
		echo "page: $HTTP_BODY" | cut -c1-300
		[ "$HTTP_STATUS" = 200 ]
		[ "$(jq '.Functions | length' <<<"$HTTP_BODY")" -le 2 ]
		seen+=($(jq -r '.Functions[].FunctionName' <<<"$HTTP_BODY"))
		marker=$(jq -r '.NextMarker // empty' <<<"$HTTP_BODY")
		pages=$((pages + 1))
		[ "$pages" -le 20 ]
		[ -n "$marker" ] || break
	done
	[ "$pages" -ge 2 ]
	# Every function exactly once.
	[ "$(printf '%s\n' "${seen[@]}" | sort | tr '\n' ' ' | sed 's/ $//')" = "$all" ]
}

@test "GetFunction's Code.Location serves the code package" {
	zip=$(husk_zip probe)
	husk_create_ok api-location probe
	husk_api GET "$HUSK_API/api-location"
	url=$(jq -r .Code.Location <<<"$HTTP_BODY")
	echo "Location: $url"
	[[ "$url" == http://* ]]
	# Asked over TCP, the Location names the TCP endpoint.
	url=$(curl -sS --max-time 30 "http://127.0.0.1:$HUSK_PORT$HUSK_API/api-location" |
		jq -r .Code.Location)
	echo "Location over TCP: $url"
	curl -sS --max-time 30 -o "$BATS_TEST_TMPDIR/got.zip" "$url"
	cmp "$zip" "$BATS_TEST_TMPDIR/got.zip"
}

@test "code is stored encrypted at rest in the state directory" {
	stage=$BATS_TEST_TMPDIR/plain
	mkdir -p "$stage"
	marker="husk-plaintext-marker-$RANDOM$RANDOM"
	printf '#!/bin/sh\n# %s\nexit 0\n' "$marker" >"$stage/bootstrap"
	chmod 755 "$stage/bootstrap"
	# Stored, not deflated: the marker is in the zip's bytes as it is.
	(cd "$stage" && zip -q0X ../plain.zip bootstrap)
	grep -qa "$marker" "$BATS_TEST_TMPDIR/plain.zip"
	husk_create api-atrest "$BATS_TEST_TMPDIR/plain.zip"
	[ "$HTTP_STATUS" = 201 ]
	ls -la "$HUSK_STATE"
	refute grep -rqa "$marker" "$HUSK_STATE"
	# The key is root's alone.
	key=$(find "$HUSK_STATE" -name '*.key' | head -n 1)
	[ -n "$key" ]
	[ "$(stat -c %a "$key")" = 600 ]
}

@test "CreateFunction of an existing name is 409 and changes nothing" {
	husk_create_ok api-dup echo
	first=$HTTP_BODY
	husk_create api-dup "$(husk_zip probe)" '{"MemorySize": 512}'
	husk_expect_error 409 ResourceConflictException 'api-dup|exist'
	husk_api GET "$HUSK_API/api-dup/configuration"
	[ "$(jq -r .CodeSha256 <<<"$HTTP_BODY")" = "$(jq -r .CodeSha256 <<<"$first")" ]
	[ "$(jq -r .RevisionId <<<"$HTTP_BODY")" = "$(jq -r .RevisionId <<<"$first")" ]
	[ "$(jq -r .MemorySize <<<"$HTTP_BODY")" = 128 ]
}

@test "every verb on an unknown function is 404 ResourceNotFoundException" {
	body=$(jq -nc --arg z "$(base64 -w0 "$(husk_zip echo)")" '{ZipFile: $z}')
	husk_api GET "$HUSK_API/api-nosuch"
	husk_expect_error 404 ResourceNotFoundException api-nosuch
	husk_api GET "$HUSK_API/api-nosuch/configuration"
	husk_expect_error 404 ResourceNotFoundException api-nosuch
	husk_api PUT "$HUSK_API/api-nosuch/configuration" '{"MemorySize": 256}'
	husk_expect_error 404 ResourceNotFoundException api-nosuch
	husk_api PUT "$HUSK_API/api-nosuch/code" "$body"
	husk_expect_error 404 ResourceNotFoundException api-nosuch
	husk_api DELETE "$HUSK_API/api-nosuch"
	husk_expect_error 404 ResourceNotFoundException api-nosuch
	husk_invoke api-nosuch '{}'
	husk_expect_error 404 ResourceNotFoundException api-nosuch
	husk_invoke api-nosuch '{}' -H 'X-Amz-Invocation-Type: DryRun'
	husk_expect_error 404 ResourceNotFoundException api-nosuch
}

@test "Invoke answers 200 with the function's result" {
	husk_create_ok api-invoke echo
	husk_invoke api-invoke '{"hello": "world", "n": [1, 2, 3]}'
	echo "$HTTP_BODY"
	[ "$HTTP_STATUS" = 200 ]
	[ -z "$(husk_header X-Amz-Function-Error)" ]
	[ "$(jq -cS . <<<"$HTTP_BODY")" = '{"hello":"world","n":[1,2,3]}' ]
	# The ARN names the function as well as its name does.
	husk_invoke "$ARN_PREFIX:api-invoke" '"by arn"'
	[ "$HTTP_STATUS" = 200 ]
	[ "$HTTP_BODY" = '"by arn"' ]
}

@test "the compiled minimal function answers like the echo" {
	[ -x "$HUSK_BUILD/tests/functions/minimal/bootstrap" ] ||
		skip "minimal not built at $HUSK_BUILD/tests/functions/minimal/bootstrap"
	husk_create_ok api-minimal minimal
	husk_invoke api-minimal '{"compiled": true}'
	echo "$HTTP_BODY"
	[ "$HTTP_STATUS" = 200 ]
	[ -z "$(husk_header X-Amz-Function-Error)" ]
	[ "$(jq -c . <<<"$HTTP_BODY")" = '{"compiled":true}' ]
	husk_invoke api-minimal '[1, 2]'
	[ "$(jq -c . <<<"$HTTP_BODY")" = '[1,2]' ]
	refute husk_report_is_cold
}

@test "X-Husk-Report is a REPORT line; Init Duration only on the first invocation" {
	husk_create_ok api-report echo '{"MemorySize": 160}'
	re=$'^REPORT RequestId: [0-9a-f-]{36}\tDuration: [0-9.]+ ms\tBilled Duration: [0-9]+ ms\tMemory Size: 160 MB\tMax Memory Used: [0-9]+ MB'
	husk_invoke api-report '{}'
	first=$(husk_report)
	echo "first:  $first"
	[ "$HTTP_STATUS" = 200 ]
	tel=$'\tSyscalls: [0-9]+ \\([a-z0-9_]+ [0-9]+(, [a-z0-9_]+ [0-9]+)*\\)\tDenials: [0-9]+\tBytes In: [0-9]+\tBytes Out: [0-9]+\tProcesses: [0-9]+\tLost Events: [0-9]+'
	[[ "$first" =~ $re$'\tInit Duration: '[0-9.]+' ms'$'\tFreeze Duration: '[0-9.]+' us'$tel$ ]]
	husk_invoke api-report '{}'
	second=$(husk_report)
	echo "second: $second"
	[[ "$second" =~ $re$'\tFreeze Duration: '[0-9.]+' us'$tel$ ]]
	[[ "$second" != *"Init Duration"* ]]
	# Every invocation has its own request id.
	[ "$(cut -f1 <<<"$first")" != "$(cut -f1 <<<"$second")" ]
}

@test "DryRun answers 204 and runs nothing" {
	husk_create_ok api-dryrun marker
	husk_invoke api-dryrun '{}'
	[ "$(jq -r .count <<<"$HTTP_BODY")" = 1 ]
	husk_invoke api-dryrun '{}' -H 'X-Amz-Invocation-Type: DryRun'
	[ "$HTTP_STATUS" = 204 ]
	[ -z "$HTTP_BODY" ]
	husk_invoke api-dryrun '{}'
	echo "$HTTP_BODY"
	[ "$(jq -r .count <<<"$HTTP_BODY")" = 2 ]
}

@test "LogType Tail returns START, the function's output, END and REPORT" {
	husk_create_ok api-tail echo
	husk_invoke api-tail '{"x": 1}' -H 'X-Amz-Log-Type: Tail'
	[ "$HTTP_STATUS" = 200 ]
	log=$(husk_header X-Amz-Log-Result | base64 -d)
	echo "$log"
	id=$(husk_report | sed -n 's/^REPORT RequestId: \([0-9a-f-]*\).*/\1/p')
	[ -n "$id" ]
	grep -qx "START RequestId: $id Version: \$LATEST" <<<"$log"
	grep -qx "echo-function: handling $id" <<<"$log"
	grep -qx "END RequestId: $id" <<<"$log"
	grep -q "^REPORT RequestId: $id"$'\t' <<<"$log"
	# In that order.
	[ "$(grep -nE '^(START|echo-function|END|REPORT)' <<<"$log" | cut -d' ' -f1 | tr -d '\n')" = \
		"1:START2:echo-function:3:END4:REPORT" ]
	# Without the header there is no log.
	husk_invoke api-tail '{}'
	[ -z "$(husk_header X-Amz-Log-Result)" ]
}

@test "UpdateFunctionConfiguration changes the fields and the RevisionId" {
	husk_create_ok api-upconf probe
	before=$HTTP_BODY
	husk_api PUT "$HUSK_API/api-upconf/configuration" '{"MemorySize": 256, "Timeout": 7,
		"EphemeralStorage": {"Size": 1024}, "Environment": {"Variables": {"COLOR": "blue"}}}'
	echo "$HTTP_BODY"
	[ "$HTTP_STATUS" = 200 ]
	after=$HTTP_BODY
	[ "$(jq -r .MemorySize <<<"$after")" = 256 ]
	[ "$(jq -r .Timeout <<<"$after")" = 7 ]
	[ "$(jq -r .EphemeralStorage.Size <<<"$after")" = 1024 ]
	[ "$(jq -r .Environment.Variables.COLOR <<<"$after")" = blue ]
	[ "$(jq -r .CodeSha256 <<<"$after")" = "$(jq -r .CodeSha256 <<<"$before")" ]
	[ "$(jq -r .RevisionId <<<"$after")" != "$(jq -r .RevisionId <<<"$before")" ]
	[[ ! "$(jq -r .LastModified <<<"$after")" < "$(jq -r .LastModified <<<"$before")" ]]
	husk_api GET "$HUSK_API/api-upconf/configuration"
	[ "$(jq -cS '{MemorySize, Timeout, RevisionId}' <<<"$HTTP_BODY")" = \
		"$(jq -cS '{MemorySize, Timeout, RevisionId}' <<<"$after")" ]
	probe 'echo "$COLOR $AWS_LAMBDA_FUNCTION_MEMORY_SIZE"' api-upconf
	[ "$PROBE_OUT" = "blue 256" ]
}

@test "UpdateFunctionConfiguration with a stale RevisionId is 412 and changes nothing" {
	husk_create_ok api-precond echo
	rev=$(jq -r .RevisionId <<<"$HTTP_BODY")
	husk_api PUT "$HUSK_API/api-precond/configuration" \
		"$(jq -nc --arg r "$rev" '{MemorySize: 200, RevisionId: $r}')"
	[ "$HTTP_STATUS" = 200 ]
	husk_api PUT "$HUSK_API/api-precond/configuration" \
		"$(jq -nc --arg r "$rev" '{MemorySize: 300, RevisionId: $r}')"
	husk_expect_error 412 PreconditionFailedException
	husk_api GET "$HUSK_API/api-precond/configuration"
	[ "$(jq -r .MemorySize <<<"$HTTP_BODY")" = 200 ]
}

@test "UpdateFunctionCode changes the code, and the next invocation runs it in a new environment" {
	husk_create_ok api-upcode probe
	before=$HTTP_BODY
	probe 'readlink /proc/self/ns/pid' api-upcode
	old_env=$(husk_env_of_ns "$PROBE_OUT")
	echo "environment before the update: $old_env"

	zip=$(husk_zip echo)
	husk_api PUT "$HUSK_API/api-upcode/code" \
		"$(jq -nc --arg z "$(base64 -w0 "$zip")" '{ZipFile: $z}')"
	echo "$HTTP_BODY"
	[ "$HTTP_STATUS" = 200 ]
	[ "$(jq -r .CodeSha256 <<<"$HTTP_BODY")" = "$(husk_sha256_b64 "$zip")" ]
	[ "$(jq -r .CodeSize <<<"$HTTP_BODY")" = "$(stat -c %s "$zip")" ]
	[ "$(jq -r .RevisionId <<<"$HTTP_BODY")" != "$(jq -r .RevisionId <<<"$before")" ]

	# The echo now: the event comes back instead of the command's output.
	husk_invoke api-upcode '{"cmd": "echo old code"}'
	[ "$HTTP_BODY" = '{"cmd": "echo old code"}' ]
	husk_report_is_cold
	# The old version's environment is gone.
	husk_wait_for 10 eval '[ -z "$(husk_env_dirs "$old_env")" ]'
}

@test "DeleteFunction answers 204; the function is gone from every verb and the list" {
	husk_create_ok api-delete echo
	husk_invoke api-delete '{}'
	[ "$HTTP_STATUS" = 200 ]
	husk_delete api-delete
	[ "$HTTP_STATUS" = 204 ]
	[ -z "$HTTP_BODY" ]
	husk_api GET "$HUSK_API/api-delete"
	husk_expect_error 404 ResourceNotFoundException
	husk_invoke api-delete '{}'
	husk_expect_error 404 ResourceNotFoundException
	husk_api GET "$HUSK_API/"
	jq -e '[.Functions[].FunctionName] | index("api-delete") == null' <<<"$HTTP_BODY"
	husk_delete api-delete
	husk_expect_error 404 ResourceNotFoundException
	# The name can be used again.
	husk_create_ok api-delete probe
	probe 'echo again' api-delete
	[ "$PROBE_OUT" = again ]
}

@test "an unknown route is 404, a method the route does not take is 400" {
	husk_api GET /2015-03-31/nothing
	husk_expect_error 404 UnknownOperationException
	husk_api PATCH "$HUSK_API/"
	husk_expect_error 400 UnknownOperationException
}

@test "the API answers on TCP as on the Unix socket" {
	husk_create_ok api-tcp echo
	run curl -sS --max-time 60 -X POST --data-binary '{"via": "tcp"}' \
		"http://127.0.0.1:$HUSK_PORT$HUSK_API/api-tcp/invocations"
	[ "$status" = 0 ]
	[ "$output" = '{"via": "tcp"}' ]
}

@test "functions, their code and configuration survive a restart of huskd" {
	husk_create_ok api-restart probe '{"Environment": {"Variables": {"KEPT": "yes"}}}'
	created=$HTTP_BODY
	probe 'echo before' api-restart
	[ "$PROBE_OUT" = before ]

	husk_daemon_stop TERM
	[ "$HUSKD_STATUS" = 0 ] || [ -z "$HUSKD_STATUS" ]
	husk_check_leftovers
	husk_daemon_start

	husk_api GET "$HUSK_API/"
	echo "$HTTP_BODY"
	[ "$(jq -cS '.Functions[] | select(.FunctionName == "api-restart") |
		{CodeSha256, RevisionId, MemorySize, Environment}' <<<"$HTTP_BODY")" = \
		"$(jq -cS '{CodeSha256, RevisionId, MemorySize, Environment}' <<<"$created")" ]
	# Functions created earlier in this file are still there too.
	jq -e '[.Functions[].FunctionName] | index("api-create") != null' <<<"$HTTP_BODY"
	probe 'echo "after $KEPT"' api-restart
	[ "$PROBE_OUT" = "after yes" ]
	husk_report_is_cold
}
