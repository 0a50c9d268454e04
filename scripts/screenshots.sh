#!/bin/sh
# screenshots.sh: docs/collect.png, docs/share-qr.png and docs/review.png from
# the real TUI.
# Runs e2e.sh with E2E_SHOTS set (tmux capture-pane -e keeps the colours),
# turns each capture into HTML with aha and photographs it with headless
# chromium. Needs tmux, aha, chromium and fonts-dejavu-core (Debian packages;
# installed with apt-get when missing and running as root).
set -eu
cd "$(dirname "$0")/.."
need=""
for p in tmux:tmux aha:aha chromium:chromium; do
  command -v "${p%%:*}" >/dev/null || need="$need ${p#*:}"
done
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf ] || need="$need fonts-dejavu-core"
if [ -n "$need" ]; then
  [ "$(id -u)" = 0 ] || { echo "screenshots: install$need" >&2; exit 1; }
  apt-get update -qq && apt-get install -y -qq --no-install-recommends $need
fi
SHOTS=$(mktemp -d)
trap 'rm -rf "$SHOTS"' EXIT
E2E_SHOTS="$SHOTS" ./scripts/e2e.sh
mkdir -p docs
for name in collect share review; do
  out=docs/$name.png
  [ "$name" = share ] && out=docs/share-qr.png
  {
    printf '<html><body style="margin:0;background:#1e1e1e">'
    printf '<pre style="font:15px/1 DejaVu Sans Mono,monospace;margin:10px;color:#d0d0d0">'
    aha --black --no-header < "$SHOTS/$name.ansi"
    printf '</pre></body></html>'
  } > "$SHOTS/$name.html"
  chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=760,390 \
    --screenshot="$PWD/$out" "file://$SHOTS/$name.html" 2>/dev/null
  echo "screenshots: wrote $out"
done
