#!/usr/bin/env bash
# interop.sh: checks the group KEL that make demo produces with signify-ts, an independent
# KERI implementation (interop/check-kel.mjs), and checks that the same check rejects a copy
# with one signature character changed. Needs node and npm (Debian: apt-get install nodejs
# npm); installs signify-ts from the npm registry into interop/node_modules (npm ci, pinned
# by interop/package-lock.json). INTEROP_DIR=dir keeps the files.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "interop: $tool not found (Debian: apt-get install nodejs npm)" >&2; exit 1; }
done
if [ -n "${INTEROP_DIR:-}" ]; then
  mkdir -p "$INTEROP_DIR"; dir=$(cd "$INTEROP_DIR" && pwd)
else
  dir=$(mktemp -d "${TMPDIR:-/tmp}/keremony-interop.XXXXXX"); trap 'rm -rf "$dir"' EXIT
fi

echo "interop: running the demo (log: $dir/demo.log)"
DEMO_DIR="$dir/demo" "$root/scripts/demo.sh" >"$dir/demo.log" 2>&1 || { tail -40 "$dir/demo.log"; echo "interop: the demo failed" >&2; exit 1; }
tail -1 "$dir/demo.log"
kel=$dir/demo/group.kel.cesr

cd "$root/interop"
if [ ! -d node_modules/signify-ts ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "interop: npm ci (signify-ts $(node -p 'require("./package.json").dependencies["signify-ts"]'))"
  npm ci --no-audit --no-fund --loglevel=error
fi
echo "interop: signify-ts $(node -p 'require("./node_modules/signify-ts/package.json").version') checks $kel"
node check-kel.mjs "$kel"

echo "interop: a copy with one signature character changed must be refused"
node check-kel.mjs --tamper "$kel" "$dir/tampered.kel.cesr"
if node check-kel.mjs "$dir/tampered.kel.cesr"; then
  echo "interop: FAILED: signify-ts accepted the tampered KEL" >&2; exit 1
fi
if "$dir/demo/keremony" verify "$dir/tampered.kel.cesr" >"$dir/tampered.verify.txt"; then
  echo "interop: FAILED: keremony verify accepted the tampered KEL" >&2; exit 1
fi
grep INVALID "$dir/tampered.verify.txt" | head -1
echo "interop: ok: signify-ts accepts the group KEL and refuses the tampered copy, as keremony verify does"
