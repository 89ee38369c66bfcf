#!/usr/bin/env bash
# Meta's official Node.js SDK (facebook-nodejs-business-sdk) against `convctl emulator`, unmodified.
# Installs the pinned SDK into tests/node/node_modules (gitignored; no lock file is written),
# starts the emulator from the built binary (CONVCTL_BIN, else target/debug/convctl, built when
# missing), runs sdk_conformance.js, and stops the emulator. Needs node and npm, and the npm
# registry on first run. The emulator runs strict (--strict) when CONVCTL_TEST_STRICT=1.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
sdk_version="24.0.1"

installed="$(node -e "try { console.log(require('$here/node_modules/facebook-nodejs-business-sdk/package.json').version) } catch (e) {}" 2>/dev/null || true)"
if [ "$installed" != "$sdk_version" ]; then
    npm install --prefix "$here" --no-save --no-package-lock --no-audit --no-fund --silent \
        "facebook-nodejs-business-sdk@$sdk_version"
fi

bin="${CONVCTL_BIN:-$root/target/debug/convctl}"
if [ ! -x "$bin" ]; then
    (cd "$root" && cargo build --quiet --bin convctl)
fi

token="node-sdk-test-token"
strict=()
if [ "${CONVCTL_TEST_STRICT:-}" = "1" ]; then
    strict=(--strict)
fi
out="$(mktemp)"
# The day the emulator judges the version calendar by, as the Rust suite's (support/binary.rs):
# no check depends on the real date.
CONVCTL_TODAY="${CONVCTL_TODAY:-2026-12-06}" "$bin" emulator --listen 127.0.0.1:0 --token "$token" "${strict[@]}" >"$out" 2>&1 &
pid=$!
cleanup() {
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rm -f "$out"
}
trap cleanup EXIT

base=""
for _ in $(seq 1 100); do
    base="$(sed -n 's/^listening on //p' "$out" | head -n 1)"
    [ -n "$base" ] && break
    if ! kill -0 "$pid" 2>/dev/null; then
        cat "$out" >&2
        echo "error: the emulator did not start" >&2
        exit 1
    fi
    sleep 0.1
done
if [ -z "$base" ]; then
    echo "error: the emulator did not print its address within 10 s" >&2
    exit 1
fi

(cd "$here" && node "$here/sdk_conformance.js" "$base" "$token")
