#!/bin/sh
# ci-keyring.sh CMD...: run CMD inside a private D-Bus session bus with an unlocked
# gnome-keyring (Secret Service), so real-keyring tests work headless and never touch
# the developer's own keyring. Installs gnome-keyring with apt-get when it is missing
# (Debian; needs root). Recipe: README "Keys and the keystore" and design/style.md §6.
set -eu
[ $# -gt 0 ] || { echo "usage: ci-keyring.sh CMD [ARGS...]" >&2; exit 2; }

need=""
command -v gnome-keyring-daemon >/dev/null 2>&1 || need="$need gnome-keyring"
command -v dbus-run-session >/dev/null 2>&1 || need="$need dbus-daemon"
if [ -n "$need" ]; then
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "ci-keyring.sh: missing:$need (install them, or run as root on Debian)" >&2
    exit 1
  fi
  echo "ci-keyring.sh: installing$need" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $need >/dev/null
fi

# A throwaway HOME: the keyring files land in $HOME/.local/share/keyrings. Go's caches
# are pinned to the caller's so the build does not start from scratch.
GOCACHE=${GOCACHE:-$(go env GOCACHE 2>/dev/null || true)}
GOMODCACHE=${GOMODCACHE:-$(go env GOMODCACHE 2>/dev/null || true)}
GOPATH=${GOPATH:-$(go env GOPATH 2>/dev/null || true)}
export GOCACHE GOMODCACHE GOPATH
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
export HOME="$tmp"
export XDG_RUNTIME_DIR="$tmp/run"
mkdir -m 700 "$XDG_RUNTIME_DIR"
unset DBUS_SESSION_BUS_ADDRESS

# Not exec: the trap must run to remove the throwaway HOME.
dbus-run-session -- sh -c '
  printf "%s" "ci-password" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  exec "$@"' sh "$@"
