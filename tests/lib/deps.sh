#!/usr/bin/env bash
# tests/lib/deps.sh: install the Debian 12 packages that building, the demo
# and the tests need. Installs only what is missing, so a second run is quick
# and works offline.
set -euo pipefail

PACKAGES=(
  gcc make clang libclang-rt-14-dev
  postgresql-15 postgresql-server-dev-15 postgresql-15-pgtap postgresql-15-cron libpq-dev
  libpcap-dev libxxhash-dev libmaxminddb-dev mmdb-bin libmaxmind-db-writer-perl libssl-dev zlib1g-dev
  libcmocka-dev tshark tcpdump python3 valgrind libsisimai-perl
  chromium python3-pil fonts-dejavu-core
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "spamhints: missing Debian packages: ${missing[*]}" >&2
  echo "spamhints: run this as root (or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "spamhints: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
