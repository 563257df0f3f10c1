#!/usr/bin/env bash
# Installs Debian's chromium for the browser tests when it is missing.
# Needs root (as CI and the development machines run); anyone else without a
# browser gets a hint, and the browser tests then skip (or fail under CI=true).
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || [ -n "${CHROMIUM:-}" ]; then
	exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
	echo "ensure-chromium: chromium is missing; install Debian's chromium package (or set CHROMIUM)" >&2
	exit 0
fi
echo "ensure-chromium: installing chromium" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2
apt-get install -y -q chromium >&2
