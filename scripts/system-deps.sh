#!/usr/bin/env bash
# Debian packages the app and its tests need: Pango/HarfBuzz for WeasyPrint (letters), DejaVu fonts,
# and for the tests Debian's chromium (browser tests) and poppler-utils (pdftoppm).
# Usage: scripts/system-deps.sh [--tests]. Installs only what is missing, with apt-get (as root or
# through sudo); elsewhere it says what to install and carries on.
set -uo pipefail
packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core)
[ "${1:-}" = "--tests" ] && packages+=(chromium poppler-utils)
"${PYTHON:-python3}" -c "import ensurepip" 2>/dev/null || packages+=(python3-venv)  # Debian splits venv out
command -v dpkg-query >/dev/null || exit 0  # not Debian: nothing to check here
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null; then
  echo "Please install: ${missing[*]} (or their equivalents for your system)." >&2
  exit 0
fi
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "Installing system packages: ${missing[*]}" >&2
$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
