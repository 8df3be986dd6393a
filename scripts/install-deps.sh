#!/usr/bin/env bash
# Installs the Debian 12 packages synack needs to build and test, if any is missing.
# python3-scapy installs for Debian's /usr/bin/python3: the attack tests call that one by its
# path, since the python3 first on a PATH may be another (pyenv, venv) without scapy.
# Another apt-get or dpkg (unattended-upgrades on a fresh machine, say) may hold the package
# locks: then this waits for it, up to 10 minutes, instead of failing.
set -euo pipefail
pkgs=(build-essential cmake clang libclang-rt-14-dev libcmocka-dev tshark iproute2 python3 pkg-config
      iputils-ping netcat-openbsd curl wrk
      hping3 python3-scapy tcpdump     # the attack tests (tests/interop/test_syn_flood.sh & co.)
      ethtool                          # test_trace_kernel_mss: veth offloads off
      radvd                            # router advertisements for test_ipv6.sh (SLAAC)
      valgrind                         # sockdiff_valgrind (tests/diff)
      liblwip-dev                      # make bench's lwip-tap subject (bench/lwip/)
      linux-perf                       # make bench's profile of synack over TAP
      libpcap-dev                      # synack trace reads captures through libpcap
      chromium)                        # test_trace_html.sh: the --html page, headless
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
wait_s=600
# apt-get waits for the dpkg locks itself with DPkg::Lock::Timeout (apt >= 1.9.11; Debian 12
# has 2.6), but `apt-get update` takes the lock of /var/lib/apt/lists without waiting: that
# one is retried here while its error says the lock is held.
apt=(apt-get -o "DPkg::Lock::Timeout=$wait_s")
deadline=$((SECONDS + wait_s))
until out=$("${apt[@]}" update -qq 2>&1); do
  if ! grep -q "Could not get lock" <<<"$out" || [ $SECONDS -ge $deadline ]; then
    echo "$out" >&2
    exit 1
  fi
  [ -n "${said:-}" ] || { echo "install-deps: waiting for another apt-get to finish" >&2; said=1; }
  sleep 2
done
"${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
