#!/bin/sh
# Installs the Debian packages acto needs to build and test, when missing.
# As root it runs apt-get itself; otherwise it prints the exact command and
# fails, so `make test` never half-works on a machine without them.
#
#   install-deps.sh          what building needs (make bench, make demo)
#   install-deps.sh --test   and what the tests need besides (make test):
#                            Chromium, to render acto-trace's HTML report
#                            (about 30 s to install, 25 packages).
set -eu

PACKAGES="cmake pkg-config gcc libuv1-dev libmsgpack-dev libcmocka-dev
          libcurl4-openssl-dev"
TEST_PACKAGES="chromium"

case "${1:-}" in
    --test) PACKAGES="$PACKAGES $TEST_PACKAGES" ;;
    "") ;;
    *) echo "usage: install-deps.sh [--test]" >&2; exit 2 ;;
esac

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "install-deps: not a Debian system; make sure these are installed:" \
         "$PACKAGES" >&2
    exit 0
fi

missing=""
for p in $PACKAGES; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
        *"install ok installed"*) ;;
        *) missing="$missing $p" ;;
    esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "acto needs:$missing" >&2
    echo "Install them with: sudo apt-get install -y$missing" >&2
    exit 1
fi

echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# A fresh machine's package lists are empty until the first update.
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing
