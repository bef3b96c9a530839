#!/usr/bin/env bash
# The browser test drives Debian's Chromium (Playwright's own browser download cannot work offline).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else
  echo "Chromium is missing and this user cannot install it: run 'apt-get install chromium' as root." >&2; exit 1
fi
echo "Installing Debian's chromium for the browser test..." >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
