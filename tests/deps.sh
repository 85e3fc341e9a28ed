#!/bin/sh
# deps.sh - make sure the Debian packages the project needs are installed.
#   tests/deps.sh [build|test|fuzz|all|deb]
# As root: installs what is missing with apt-get. Otherwise: names the
# missing packages in one line and fails.
set -eu
BUILD="gcc make pkg-config libpcap-dev libndpi-dev libhiredis-dev libconfig-dev zlib1g-dev libzstd-dev libsnappy-dev liblz4-dev"
TEST="python3 python3-jsonschema tshark clang libclang-rt-14-dev redis-server redis-tools time chromium"
case "${1:-build}" in
build) want="$BUILD $TEST" ;;
fuzz|all) want="$BUILD $TEST" ;;
deb) want="$BUILD debhelper dpkg-dev adduser man-db lintian" ;;   # tests/deb_check.sh
*) echo "usage: tests/deps.sh [build|fuzz|all|deb]" >&2; exit 2 ;;
esac
missing=""
for p in $want; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "scrapewatch: missing Debian packages:$missing (install them: sudo apt-get install$missing)" >&2
    exit 1
fi
echo "scrapewatch: installing Debian packages:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >&2
