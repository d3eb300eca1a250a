#!/bin/sh
# Installs Debian's chromium for the browser tests (tests/browser), only when it is missing.
# The browser comes from the distribution's package archive: no tool is ever allowed to download one.
set -eu

CHROMIUM=${CHROMIUM_PATH:-/usr/bin/chromium}

if [ -x "$CHROMIUM" ]; then
  echo "chromium already installed: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends chromium fonts-dejavu-core

"$CHROMIUM" --version
