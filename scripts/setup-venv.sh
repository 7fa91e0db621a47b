#!/usr/bin/env bash
# Build .venv with Python 3.10 (Rasa 3.6 supports 3.8-3.10) and install
# the pinned dependencies.  Called by the Makefile; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

is_310() { "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' >/dev/null 2>&1; }

find_python310() {
  local candidates=(python3.10)
  if command -v pyenv >/dev/null 2>&1; then
    candidates+=("$(pyenv root)"/versions/3.10*/bin/python3.10)
  fi
  candidates+=("$HOME"/.pyenv/versions/3.10*/bin/python3.10 /root/.pyenv/versions/3.10*/bin/python3.10
               /usr/local/bin/python3.10 /usr/bin/python3.10)
  for candidate in "${candidates[@]}"; do
    if is_310 "$candidate"; then echo "$candidate"; return 0; fi
    # a pyenv shim only answers when its version is selected
    if PYENV_VERSION="$(ls "$HOME/.pyenv/versions" 2>/dev/null | grep '^3\.10' | tail -1)" is_310 "$candidate"; then
      PYENV_VERSION="$(ls "$HOME/.pyenv/versions" | grep '^3\.10' | tail -1)" "$candidate" -c 'import sys; print(sys.executable)'
      return 0
    fi
  done
  return 1
}

if [ ! -x .venv/bin/python ] || ! is_310 .venv/bin/python; then
  py=$(find_python310) || { echo "Python 3.10 is needed (Rasa 3.6 runs on 3.8-3.10). Install python3.10 and run make again." >&2; exit 1; }
  echo "building .venv with $py"
  rm -rf .venv
  "$py" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check "pip<24.1" "setuptools<71" wheel
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
touch .venv/.installed
echo ".venv is ready ($(.venv/bin/python --version))"
