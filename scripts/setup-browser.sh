#!/usr/bin/env bash
# The browser tests drive Debian's Chromium through ChromeDriver.  Install
# both from the distribution's packages when they are missing (nothing is
# downloaded at test time).
set -euo pipefail
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
  exit 0
fi
exec "$(dirname "$0")/apt-install.sh" "the browser tests" chromium chromium-driver
