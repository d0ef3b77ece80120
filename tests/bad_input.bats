#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Requests huskd must refuse: malformed JSON, missing or out-of-range
# fields, hostile code packages (path traversal, escaping links, a zip bomb,
# not a zip) and oversized or malformed invocation payloads. Every refusal is
# a 400-class error whose message names the problem, and a refused create
# leaves neither a function nor extracted code behind.

load helpers

setup_file()
{
	husk_setup_file badinput
	husk_create_ok bad-echo echo
}

teardown_file()
{
	husk_teardown_file
}

teardown()
{
	husk_teardown_test
}

# What the run directory holds for extracted code, to compare before and after.
code_dirs()
{
	find "$HUSK_RUN" -mindepth 1 -maxdepth 2 -printf '%P\n' | sort
}

# reject_create NAME STATUS TYPE REGEX BODY|@FILE: CreateFunction must fail
# so, and leave no function and no code behind.
reject_create()
{
	local name=$1 status=$2 type=$3 re=$4 body=$5 before after

	before=$(code_dirs)
	husk_api POST "$HUSK_API" "$body"
	echo "answer: $HTTP_STATUS $(husk_header X-Amzn-ErrorType) ${HTTP_BODY:0:400}"
	husk_expect_error "$status" "$type" "$re"
	husk_api GET "$HUSK_API/$name"
	[ "$HTTP_STATUS" = 404 ] || {
		echo "function $name exists after a refused create: $HTTP_BODY" >&2
		return 1
	}
	after=$(code_dirs)
	[ "$before" = "$after" ] || {
		echo "code left in $HUSK_RUN/code: before '$before', after '$after'" >&2
		return 1
	}
}

# A create request for NAME with the defaults and JQ applied to it.
create_body()
{
	local name=$1 jqprog=$2 f

	f=$(husk_create_req "$name" "$(husk_zip echo)")
	jq "$jqprog" "$f" >"$f.tmp"
	mv "$f.tmp" "$f"
	echo "@$f"
}

# A create request with the zip at path ZIP.
create_body_zip()
{
	echo "@$(husk_create_req "$1" "$2")"
}

# mkzip OUT KIND: hostile packages, written with python's zipfile.
mkzip()
{
	python3 - "$1" "$2" <<'PY'
import sys, zipfile, zlib

out, kind = sys.argv[1], sys.argv[2]
boot = b"#!/bin/sh\nexit 0\n"

def add(z, name, data, mode=0o100755):
    zi = zipfile.ZipInfo(name)
    zi.create_system = 3
    zi.external_attr = mode << 16
    zi.compress_type = zipfile.ZIP_DEFLATED
    z.writestr(zi, data)

with zipfile.ZipFile(out, "w") as z:
    add(z, "bootstrap", boot)
    if kind == "dotdot":
        add(z, "../escaped", b"out of the package\n", 0o100644)
    elif kind == "dotdot-deep":
        add(z, "lib/../../escaped", b"out of the package\n", 0o100644)
    elif kind == "absolute":
        add(z, "/tmp/husk-absolute-entry", b"absolute\n", 0o100644)
    elif kind == "symlink-up":
        add(z, "lib/up", b"../../../../etc/passwd", 0o120777)
    elif kind == "symlink-abs":
        add(z, "shadow", b"/etc/shadow", 0o120777)
    elif kind == "bomb":
        # 300 MB of zeros deflate to about 300 KB: more than the 250 MB a
        # package may unpack to, without writing it anywhere here.
        zi = zipfile.ZipInfo("bomb.bin")
        zi.compress_type = zipfile.ZIP_DEFLATED
        chunk = bytes(1 << 20)
        with z.open(zi, "w", force_zip64=True) as f:
            for _ in range(300):
                f.write(chunk)
    elif kind == "inner":
        # Subdirectories and links that stay inside: a valid package.
        add(z, "lib/", b"", 0o40755)
        add(z, "lib/real.txt", b"inside\n", 0o100644)
        add(z, "lib/link", b"real.txt", 0o120777)
        add(z, "top", b"lib/real.txt", 0o120777)
        # As npm lays out node_modules/.bin: up one level, still inside.
        add(z, "lib/up", b"../bootstrap", 0o120777)
    else:
        sys.exit("unknown kind " + kind)
PY
}

@test "malformed JSON is 400 InvalidRequestContentException" {
	reject_create bad-json 400 InvalidRequestContentException 'json|pars' \
		'{"FunctionName": "bad-json", "Runtime": '
}

@test "a body that is not a JSON object is 400" {
	reject_create bad-array 400 InvalidRequestContentException 'object' '["bad-array"]'
}

@test "a missing FunctionName is 400 naming it" {
	reject_create bad-noname 400 InvalidParameterValueException FunctionName \
		"$(create_body bad-noname 'del(.FunctionName)')"
}

@test "a missing Role is 400 naming it" {
	reject_create bad-norole 400 InvalidParameterValueException Role \
		"$(create_body bad-norole 'del(.Role)')"
}

@test "a missing Runtime is 400 naming it" {
	reject_create bad-noruntime 400 InvalidParameterValueException Runtime \
		"$(create_body bad-noruntime 'del(.Runtime)')"
}

@test "a missing Code or Code.ZipFile is 400 naming it" {
	reject_create bad-nocode 400 InvalidParameterValueException Code \
		"$(create_body bad-nocode 'del(.Code)')"
	reject_create bad-nocode 400 InvalidParameterValueException ZipFile \
		"$(create_body bad-nocode '.Code = {}')"
}

@test "MemorySize out of range or not a number is 400 naming it" {
	for v in 127 10241 0 -1 '"256"' 256.5; do
		reject_create bad-mem 400 InvalidParameterValueException MemorySize \
			"$(create_body bad-mem ".MemorySize = $v")"
	done
}

@test "Timeout out of range is 400 naming it" {
	for v in 0 901 -5; do
		reject_create bad-timeout 400 InvalidParameterValueException Timeout \
			"$(create_body bad-timeout ".Timeout = $v")"
	done
}

@test "EphemeralStorage out of range is 400 naming it" {
	for v in 511 10241; do
		reject_create bad-eph 400 InvalidParameterValueException EphemeralStorage \
			"$(create_body bad-eph ".EphemeralStorage = {Size: $v}")"
	done
}

@test "a bad function name is 400 naming it" {
	long=$(printf 'a%.0s' $(seq 65))
	for n in 'bad name' 'bad/name' 'bad!' "$long" ''; do
		before=$(code_dirs)
		husk_api POST "$HUSK_API" \
			"$(create_body badname ".FunctionName = $(jq -nc --arg n "$n" '$n')")"
		echo "name '$n': $HTTP_STATUS ${HTTP_BODY:0:300}"
		husk_expect_error 400 InvalidParameterValueException 'FunctionName|name'
		[ "$(code_dirs)" = "$before" ]
	done
	husk_api GET "$HUSK_API/"
	[ "$(jq '[.Functions[].FunctionName] | length' <<<"$HTTP_BODY")" = 1 ]
}

@test "an unsupported runtime is 400 naming it" {
	reject_create bad-runtime 400 InvalidParameterValueException 'python3.12|runtime' \
		"$(create_body bad-runtime '.Runtime = "python3.12"')"
}

@test "a reserved or malformed environment variable is 400 naming it" {
	reject_create bad-env 400 InvalidParameterValueException AWS_REGION \
		"$(create_body bad-env '.Environment = {Variables: {AWS_REGION: "mars-1"}}')"
	reject_create bad-env 400 InvalidParameterValueException '1BAD' \
		"$(create_body bad-env '.Environment = {Variables: {"1BAD": "x"}}')"
	reject_create bad-env 400 InvalidParameterValueException 'NUM' \
		"$(create_body bad-env '.Environment = {Variables: {NUM: 5}}')"
}

@test "ZipFile that is not base64 is 400" {
	reject_create bad-b64 400 InvalidParameterValueException 'base64' \
		"$(create_body bad-b64 '.Code.ZipFile = "!!! not base64 ***"')"
}

@test "ZipFile that is not a zip is 400" {
	reject_create bad-notzip 400 InvalidParameterValueException 'zip' \
		"$(create_body bad-notzip ".Code.ZipFile = \"$(echo 'just some text, no zip' | base64 -w0)\"")"
}

@test "a zip entry with .. is refused" {
	zip=$BATS_TEST_TMPDIR/dotdot.zip
	mkzip "$zip" dotdot
	reject_create bad-dotdot 400 InvalidParameterValueException '\.\./escaped|\.\.' \
		"$(create_body_zip bad-dotdot "$zip")"
	[ ! -e "$HUSK_RUN/escaped" ]
	[ ! -e "$HUSK_RUN/code/escaped" ]
	mkzip "$zip" dotdot-deep
	reject_create bad-dotdot 400 InvalidParameterValueException '\.\.' \
		"$(create_body_zip bad-dotdot "$zip")"
	[ ! -e "$HUSK_RUN/code/escaped" ]
}

@test "a zip entry with an absolute path is refused" {
	zip=$BATS_TEST_TMPDIR/abs.zip
	mkzip "$zip" absolute
	reject_create bad-abs 400 InvalidParameterValueException 'absolute|husk-absolute-entry' \
		"$(create_body_zip bad-abs "$zip")"
	[ ! -e /tmp/husk-absolute-entry ]
}

@test "a symbolic link that leaves the package is refused" {
	zip=$BATS_TEST_TMPDIR/link.zip
	mkzip "$zip" symlink-up
	reject_create bad-link 400 InvalidParameterValueException 'link|lib/up' \
		"$(create_body_zip bad-link "$zip")"
	mkzip "$zip" symlink-abs
	reject_create bad-link 400 InvalidParameterValueException 'link|shadow' \
		"$(create_body_zip bad-link "$zip")"
}

@test "a package whose links stay inside is accepted (the checks above are not blanket refusals)" {
	zip=$BATS_TEST_TMPDIR/inner.zip
	mkzip "$zip" inner
	husk_create bad-inner "$zip"
	echo "$HTTP_STATUS ${HTTP_BODY:0:300}"
	[ "$HTTP_STATUS" = 201 ]
	husk_delete bad-inner
	[ "$HTTP_STATUS" = 204 ]
}

@test "a zip bomb (300 MB of zeros) is refused past 250 MB" {
	zip=$BATS_TEST_TMPDIR/bomb.zip
	mkzip "$zip" bomb
	ls -l "$zip"
	[ "$(stat -c %s "$zip")" -lt $((2 << 20)) ]
	reject_create bad-bomb 400 InvalidParameterValueException '250|262144000|large|size|bytes' \
		"$(create_body_zip bad-bomb "$zip")"
}

@test "UpdateFunctionCode with a hostile zip is refused and keeps the old code" {
	husk_api GET "$HUSK_API/bad-echo/configuration"
	before=$HTTP_BODY
	zip=$BATS_TEST_TMPDIR/dotdot.zip
	mkzip "$zip" dotdot
	dirs=$(code_dirs)
	husk_api PUT "$HUSK_API/bad-echo/code" "$(jq -nc --arg z "$(base64 -w0 "$zip")" '{ZipFile: $z}')"
	husk_expect_error 400 InvalidParameterValueException '\.\.'
	[ "$(code_dirs)" = "$dirs" ]
	husk_api GET "$HUSK_API/bad-echo/configuration"
	[ "$(jq -cS '{CodeSha256, RevisionId}' <<<"$HTTP_BODY")" = \
		"$(jq -cS '{CodeSha256, RevisionId}' <<<"$before")" ]
	husk_invoke bad-echo '{"still": "echo"}'
	[ "$HTTP_BODY" = '{"still": "echo"}' ]
}

@test "UpdateFunctionConfiguration out of range is refused and changes nothing" {
	husk_api PUT "$HUSK_API/bad-echo/configuration" '{"MemorySize": 99999}'
	husk_expect_error 400 InvalidParameterValueException MemorySize
	husk_api PUT "$HUSK_API/bad-echo/configuration" '{"Timeout": 0}'
	husk_expect_error 400 InvalidParameterValueException Timeout
	husk_api PUT "$HUSK_API/bad-echo/configuration" '{"Timeout": '
	husk_expect_error 400 InvalidRequestContentException
	husk_api GET "$HUSK_API/bad-echo/configuration"
	[ "$(jq -r .MemorySize <<<"$HTTP_BODY")" = 128 ]
	[ "$(jq -r .Timeout <<<"$HTTP_BODY")" = 3 ]
}

@test "an invocation payload over 6 MB is 413 RequestTooLargeException" {
	f=$BATS_TEST_TMPDIR/big.json
	# A JSON string of 6291457 bytes: one byte over the limit.
	{ printf '"'; head -c 6291455 /dev/zero | tr '\0' x; printf '"'; } >"$f"
	[ "$(stat -c %s "$f")" = 6291457 ]
	husk_invoke bad-echo "@$f"
	husk_expect_error 413 RequestTooLargeException
	# huskd is fine afterwards.
	husk_invoke bad-echo '{"after": "big"}'
	[ "$HTTP_BODY" = '{"after": "big"}' ]
}

@test "an invocation payload of exactly 6 MB is accepted" {
	f=$BATS_TEST_TMPDIR/max.json
	{ printf '"'; head -c 6291454 /dev/zero | tr '\0' y; printf '"'; } >"$f"
	[ "$(stat -c %s "$f")" = 6291456 ]
	husk_invoke bad-echo "@$f"
	[ "$HTTP_STATUS" = 200 ]
	[ -z "$(husk_header X-Amz-Function-Error)" ]
	[ "${#HTTP_BODY}" = 6291456 ]
}

@test "an invocation payload that is not JSON is 400 InvalidRequestContentException" {
	husk_invoke bad-echo '{"unterminated": '
	husk_expect_error 400 InvalidRequestContentException 'json'
	husk_invoke bad-echo 'plain text'
	husk_expect_error 400 InvalidRequestContentException 'json'
}

@test "bad invocation headers are 400" {
	husk_invoke bad-echo '{}' -H 'X-Amz-Invocation-Type: Sometimes'
	husk_expect_error 400 InvalidParameterValueException 'Invocation-Type|InvocationType'
	husk_invoke bad-echo '{}' -H 'X-Amz-Log-Type: Everything'
	husk_expect_error 400 InvalidParameterValueException 'Log-Type|LogType'
}
