#!/bin/sh
# Installs Debian's chromium for the browser tests when it is missing.
# make test calls it; CI runs as root. Under CI=true the browser tests fail
# (never skip) without /usr/bin/chromium.
set -eu
if [ -x /usr/bin/chromium ]; then
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "ensure-chromium: /usr/bin/chromium is missing; install it with: sudo apt-get install chromium" >&2
	exit 0 # the browser tests skip outside CI and fail under CI=true
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium
