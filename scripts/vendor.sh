#!/usr/bin/env bash
# Vendor front-end libraries from the npm registry into static/vendor/ (committed).
# No build step on a fresh machine: the built files, their licence and version live in git,
# the way Django's admin vendors its own JavaScript. Re-run to upgrade (change the pin).
set -euo pipefail

HTMX_VERSION="2.0.11"

root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

vendor_npm() {
    # vendor_npm <package> <version> <dest-dir> <file-in-package>...
    local package="$1" version="$2" dest="$3"
    shift 3
    (cd "$work" && npm pack --silent "${package}@${version}" >/dev/null)
    local tarball
    tarball="$(ls "$work"/*.tgz | head -n 1)"
    mkdir -p "$work/x" "$dest"
    tar -xzf "$tarball" -C "$work/x"
    for file in "$@"; do
        cp "$work/x/package/$file" "$dest/"
    done
    cp "$work/x/package/LICENSE" "$dest/LICENSE"
    printf '%s@%s\n' "$package" "$version" >"$dest/VERSION"
    rm -rf "$work/x" "$tarball"
    echo "vendored ${package}@${version} -> ${dest#"$root"/}"
}

vendor_npm htmx.org "$HTMX_VERSION" "$root/static/vendor/htmx" dist/htmx.min.js
