#!/usr/bin/env bash
# The browser tests drive Debian's Chromium through ChromeDriver.  Install
# both from the distribution's packages when they are missing (nothing is
# downloaded at test time).
set -euo pipefail
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "the browser tests need Chromium and ChromeDriver: install the chromium and chromium-driver packages" >&2
  exit 1
fi
echo "installing chromium and chromium-driver (Debian packages) for the browser tests"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q --no-install-recommends chromium chromium-driver >/dev/null \
  || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends chromium chromium-driver >/dev/null; }
