#!/usr/bin/env bash
# make cluster puts HAProxy in front of the Rasa servers.  Install Debian's
# haproxy package when it is missing (as scripts/setup-browser.sh does for
# Chromium); nothing is downloaded at run time.  The package's own service
# is not started: make cluster runs haproxy under its supervisor.
set -euo pipefail
if command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "make cluster needs HAProxy 2.6 or later: install the haproxy package" >&2
  exit 1
fi
echo "installing haproxy (Debian package) for make cluster"
export DEBIAN_FRONTEND=noninteractive
# policy-rc.d 101: the package's service is not started by the installation
had_policy=0; [ -e /usr/sbin/policy-rc.d ] && had_policy=1
[ "$had_policy" = 1 ] || { printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; }
trap '[ "$had_policy" = 1 ] || rm -f /usr/sbin/policy-rc.d' EXIT
apt-get install -y -q --no-install-recommends haproxy >/dev/null \
  || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends haproxy >/dev/null; }
