#!/usr/bin/env bash
# Meta's official Python SDK (facebook-business) against `convctl emulator`, unmodified.
# Creates tests/python/.venv (gitignored), installs the pinned SDK, starts the emulator from
# the built binary (CONVCTL_BIN, else target/debug/convctl, built when missing), runs
# sdk_conformance.py, and stops the emulator. Needs python3 with venv, and PyPI on first run.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$here/.venv"
sdk_version="26.0.3"

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import facebook_business, sys; sys.exit(facebook_business.__version__ != '$sdk_version')" 2>/dev/null; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "facebook-business==$sdk_version"
fi

bin="${CONVCTL_BIN:-$root/target/debug/convctl}"
if [ ! -x "$bin" ]; then
    (cd "$root" && cargo build --quiet --bin convctl)
fi

token="sdk-test-token"
secret="sdk-test-secret"
cap=40
# CONVCTL_TEST_STRICT=1 (scripts/test's second run): the emulator's strict profile.
strict=()
if [ "${CONVCTL_TEST_STRICT:-}" = "1" ]; then
    strict=(--strict)
fi
out="$(mktemp)"
# The day the emulator judges the version calendar by, as the Rust suite's (support/binary.rs):
# no check depends on the real date.
CONVCTL_TODAY="${CONVCTL_TODAY:-2026-12-06}" "$bin" emulator --listen 127.0.0.1:0 --token "$token" --app-secret "$secret" --cap "$cap" "${strict[@]}" >"$out" 2>&1 &
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

"$venv/bin/python" "$here/sdk_conformance.py" "$base" "$token" "$secret" "$cap"
