#!/usr/bin/env bash
# The Debian packages the test suite needs (browser tests, PDF rendering, OCR). `make test`
# runs this first: as root it installs what is missing; otherwise it stops at once with the
# exact apt-get line to run, so the README's two commands stay the whole set-up.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

# `system_deps.sh run` installs what the running product needs; the default (tests) adds the
# browser and the PDF rasterizer.
PACKAGES=(
  libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core   # WeasyPrint
  tesseract-ocr tesseract-ocr-eng           # OCR of scanned documents
)
if [ "${1:-test}" = "test" ]; then
  PACKAGES+=(
    chromium                                # browser tests (Playwright drives Debian's build)
    poppler-utils                           # pdftoppm: looking at generated PDFs
  )
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "CredEx needs these Debian packages (or your system's equivalents): ${missing[*]}" >&2
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "CredEx needs Debian packages that are not installed. Run:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
echo "Installing the Debian packages CredEx needs: ${missing[*]}"
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
