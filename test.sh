#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine: installs what the tests need (as root), publishes
# the AOT binary, runs the fast tests and the end-to-end tests against the published binary.
#   ./test.sh            everything
#   ./test.sh --no-e2e   only the fast (unit and in-process) tests
set -euo pipefail
cd "$(dirname "$0")"

e2e=1
for a in "$@"; do
  case "$a" in
    --no-e2e) e2e=0 ;;
    *) echo "usage: ./test.sh [--no-e2e]" >&2; exit 2 ;;
  esac
done

command -v dotnet >/dev/null || { echo "test.sh: the .NET 10 SDK (dotnet) is required" >&2; exit 1; }
tools/ensure-packages.sh test

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
status=0
# Reliability tests append their summary lines (requests served, faults survived, inputs tried, lost: 0) here.
export SANDBOX_FIGURES_FILE="$results/figures.txt"

run() {  # run NAME PROJECT: the runner's own exit code decides; the log keeps every test's line
  local name=$1 project=$2 rc
  echo "== $name"
  set +e
  dotnet test "$project" -c Release --logger "trx;LogFileName=$name.trx" --results-directory "$results" \
    --logger "console;verbosity=normal" >"$results/$name.log" 2>&1
  rc=$?
  set -e
  grep -E '^\s*(Passed|Failed|Skipped) |error (CS|MSB)|Test Run (Successful|Failed|Aborted)|^\s*(Total tests|Passed|Failed|Skipped):|^(fuzz|load|faults|summary)[: ]' \
    "$results/$name.log" || true
  if [ $rc -ne 0 ]; then
    status=1
    echo "== $name failed (exit $rc); the failing tests' messages:"
    grep -A40 -E '^\s+Failed ' "$results/$name.log" | head -300 || true
    echo "== the end of its log:"
    tail -20 "$results/$name.log"
  fi
}

run unit tests/Sandbox.Tests/Sandbox.Tests.csproj
if [ "$e2e" = 1 ]; then
  # The browser tests drive Debian's chromium with playwright-core (pinned in tests/browser/package-lock.json).
  if ! command -v npm >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" -lt 20 ]; then
    echo "test.sh: Node.js 20+ with npm is required for the browser tests (tests/browser)" >&2; exit 1
  fi
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error) >&2
  # npm install, not ci: the inspector's vite lists an optional package the registry answers 404 for, which npm ci
  # counts as a lock file out of sync; install keeps every locked version and skips the missing optional one.
  (cd tests/mcp && npm install --no-audit --no-fund --loglevel=error && git diff --quiet -- package-lock.json) >&2
  ./build-aot.sh
  run e2e tests/Sandbox.E2E/Sandbox.E2E.csproj
fi

if [ -s "$SANDBOX_FIGURES_FILE" ]; then
  echo "== figures"
  cat "$SANDBOX_FIGURES_FILE"
fi

# One closing line over all runs, in the plain form CI reads.
passed=0; failed=0; skipped=0
for f in "$results"/*.trx; do
  [ -f "$f" ] || continue
  c=$(grep -o '<Counters [^>]*>' "$f" | head -1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$c"); x=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$c")
  t=$(sed -n 's/.* total="\([0-9]*\)".*/\1/p' <<<"$c")
  n=$(( ${t:-0} - ${p:-0} - ${x:-0} ))   # xunit's skipped tests are neither passed nor failed
  passed=$((passed + ${p:-0})); failed=$((failed + ${x:-0})); skipped=$((skipped + ${n:-0}))
done
[ "$passed" -gt 0 ] || status=1
echo "$passed passed, $failed failed, $skipped skipped"
exit $status
