#!/usr/bin/env bash
# Installs the Debian 12 packages synack needs to build and test, if any is missing.
set -euo pipefail
pkgs=(build-essential cmake clang libclang-rt-14-dev libcmocka-dev tshark iproute2 python3 pkg-config
      iputils-ping netcat-openbsd curl wrk)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]} (run as root, or install them)" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
