#!/usr/bin/env bash
# Runs every Go fuzz target for a short time (FUZZTIME, default 5s each).
set -euo pipefail
cd "$(dirname "$0")/.."
t="${FUZZTIME:-5s}"
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for f in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    echo "fuzz $pkg $f"
    out=$(go test -run '^$' -fuzz "^$f\$" -fuzztime "$t" "$pkg" 2>&1) || { echo "$out"; exit 1; }
  done
done
