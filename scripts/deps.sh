#!/usr/bin/env bash
# Installs what the test command needs on a fresh Debian machine: only the
# packages that are missing, so a warm machine pays nothing.
set -euo pipefail
pkgs=(protobuf-compiler cmake g++ make ninja-build libgtest-dev nlohmann-json3-dev libprotobuf-dev libssl-dev openjdk-17-jdk-headless junit5 clang libgnustep-base-dev curl)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Maven (the Android binding's JUnit and Robolectric runs) may come from
# outside Debian's packages; install Debian's only when there is none.
command -v mvn >/dev/null || missing+=(maven)
# A compose implementation validates deploy/compose.yaml (no daemon needed):
# Debian's docker-compose unless docker compose is there already.
docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null || missing+=(docker-compose)
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null \
    || { $SUDO apt-get update >/dev/null && $SUDO apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; }
fi
go mod download
