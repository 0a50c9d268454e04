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
# Tells tests that every keyring entry they leave behind is thrown away.
export KEREMONY_THROWAWAY_KEYRING=1

# Not exec: the trap must run to remove the throwaway HOME. The daemon claims
# org.freedesktop.secrets a moment after --unlock returns; the inner shell waits
# for that (a call made earlier would D-Bus-activate a second, locked daemon),
# runs CMD, then stops the process owning the name on this private bus (it
# normally exits with the bus, but not if the bus goes away while it starts).
dbus-run-session -- sh -c '
  printf "%s" "ci-password" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  owner() {
    dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
      org.freedesktop.DBus.GetConnectionUnixProcessID string:org.freedesktop.secrets 2>/dev/null |
      awk "/uint32/ { print \$2 }"
  }
  pid=""
  if command -v dbus-send >/dev/null 2>&1; then
    i=0
    while pid=$(owner); [ -z "$pid" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
    [ -n "$pid" ] || { echo "ci-keyring.sh: gnome-keyring did not start" >&2; exit 1; }
  else
    sleep 1
  fi
  rc=0; "$@" || rc=$?
  [ -z "$pid" ] || kill "$pid" 2>/dev/null || true
  exit $rc' sh "$@"
