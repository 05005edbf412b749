#!/usr/bin/env bash
# The Debian packages the test suite needs (browser tests, PDF rendering, OCR). `make test`
# runs this first: as root it installs what is missing; otherwise it stops at once with the
# exact apt-get line to run, so the README's two commands stay the whole set-up.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

PACKAGES=(
  chromium                                  # browser tests (Playwright drives Debian's build)
  libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core   # WeasyPrint
  tesseract-ocr tesseract-ocr-eng           # OCR of scanned documents
  poppler-utils                             # pdftoppm: looking at generated PDFs
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "The test suite needs these Debian packages (or your system's equivalents): ${missing[*]}" >&2
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "The test suite needs Debian packages that are not installed. Run:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
echo "Installing Debian packages the tests need: ${missing[*]}"
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
