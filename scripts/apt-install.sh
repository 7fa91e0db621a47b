#!/usr/bin/env bash
# Install Debian packages the project needs (scripts/setup-browser.sh,
# scripts/setup-haproxy.sh): `apt-install.sh WHAT-FOR PACKAGE...`.  Needs
# root and apt-get; a package's own service is never started by the
# installation (policy-rc.d 101): the project's supervisor runs what it needs.
set -euo pipefail
what_for=$1; shift
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "$what_for needs the Debian packages $*: install them" >&2
  exit 1
fi
echo "installing $* (Debian packages) for $what_for"
export DEBIAN_FRONTEND=noninteractive
had_policy=0; [ -e /usr/sbin/policy-rc.d ] && had_policy=1
[ "$had_policy" = 1 ] || { printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; }
trap '[ "$had_policy" = 1 ] || rm -f /usr/sbin/policy-rc.d' EXIT
apt-get install -y -q --no-install-recommends "$@" >/dev/null \
  || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "$@" >/dev/null; }
