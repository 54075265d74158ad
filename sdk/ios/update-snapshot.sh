#!/usr/bin/env bash
# Accepts the current Objective-C API of sdk/mobile as the reviewed one:
# regenerates sdk/ios/api-snapshot/. Run it on purpose when the API changed
# and commit the snapshot with the change, so reviewers see the API diff.
set -euo pipefail
cd "$(dirname "$0")/../.."
rm -rf sdk/ios/api-snapshot
bash sdk/ios/gen-api.sh sdk/ios/api-snapshot
git status --short -- sdk/ios/api-snapshot
echo "snapshot updated: review 'git diff sdk/ios/api-snapshot' and commit it with the API change"
