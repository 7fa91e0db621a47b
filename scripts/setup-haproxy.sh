#!/usr/bin/env bash
# make cluster puts HAProxy (2.6 or later) in front of the Rasa servers.
# Install Debian's haproxy package when it is missing; nothing is
# downloaded at run time.  Its service is not started: make cluster runs
# haproxy under its own supervisor.
set -euo pipefail
if command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ]; then
  exit 0
fi
exec "$(dirname "$0")/apt-install.sh" "make cluster" haproxy
