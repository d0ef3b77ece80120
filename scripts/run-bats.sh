#!/usr/bin/env bash
# Run the bats suites and close with their summary. Without a terminal bats
# prints TAP, which has no summary line; CI reads "N tests, M failures".
set -uo pipefail

out=$(mktemp)
trap 'rm -f "$out"' EXIT
bats --print-output-on-failure "$@" | tee "$out"
rc=${PIPESTATUS[0]}
total=$(grep -cE '^(ok|not ok) [0-9]+' "$out")
failed=$(grep -cE '^not ok [0-9]+' "$out")
skipped=$(grep -cE '^ok [0-9]+ .*# skip' "$out")
echo
echo "$total tests, $failed failures, $skipped skipped"
echo "$((total - failed)) passed, $failed failed"
[ "$total" -gt 0 ] || rc=1
exit "$rc"
