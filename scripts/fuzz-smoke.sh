#!/usr/bin/env bash
# Runs every Go fuzz target for a bounded number of executions (FUZZTIME,
# default 80000x each: 3-13 s here). A count, not a duration: with a
# duration Go 1.26's fuzz coordinator can fail a target with a bare
# "context deadline exceeded" at the end of the time on a loaded machine
# (golang/go#75804, fixed in Go 1.27); a count has no deadline to race.
set -euo pipefail
cd "$(dirname "$0")/.."
t="${FUZZTIME:-80000x}"
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for f in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    echo "fuzz $pkg $f"
    out=$(go test -run '^$' -fuzz "^$f\$" -fuzztime "$t" "$pkg" 2>&1) || { echo "$out"; exit 1; }
  done
done
