#!/usr/bin/env bash
# What the test suite needs besides cargo, installed once (the README's test command runs this):
#   - the official Hyperliquid Python SDK (tests/python/requirements.txt), an independent client
#     the simulator is tested against, and Ray (same file), the cluster the sweep driver
#     tools/ray_sweep.py is tested on (tests/ray_sweep.rs);
#   - the TypeScript SDK @nktkas/hyperliquid (tests/ts/package.json and its lock), a second
#     independent client, with Node.js and npm (Debian's, when the machine has none);
#   - Debian's Chromium, the real browser the HTML report is tested in (tests/report.rs).
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check -r tests/python/requirements.txt

sudo=""
if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
apt_install() {
    $sudo apt-get install -y -qq "$@" >/dev/null 2>&1 || {
        $sudo apt-get update -qq >/dev/null
        $sudo apt-get install -y -qq "$@" >/dev/null
    }
}

if ! command -v npm >/dev/null 2>&1; then
    echo "installing Debian's nodejs and npm (for tests/ts)"
    apt_install nodejs npm
fi
npm ci --prefix tests/ts --silent --no-audit --no-fund

if ! command -v "${CHROMIUM:-/usr/bin/chromium}" >/dev/null 2>&1; then
    echo "installing Debian's chromium (for tests/report.rs)"
    apt_install chromium
fi
