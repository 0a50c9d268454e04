# tmux-lib.sh: drive keremony's TUI in a private tmux server (sourced by e2e.sh
# and screenshots.sh). Every wait polls the rendered screen for text; nothing
# waits on a fixed sleep.
#
# Set SOCK (tmux -L socket name) before sourcing; call tm_cleanup on exit.

TM_TIMEOUT=${TM_TIMEOUT:-30} # seconds per wait

tm() { tmux -L "$SOCK" "$@"; }

# tm_start NAME COLS ROWS COMMAND...: a detached session running COMMAND.
tm_start() {
  name=$1 cols=$2 rows=$3; shift 3
  tm new-session -d -s "$name" -x "$cols" -y "$rows" "$*"
  tm set-option -t "$name" remain-on-exit on >/dev/null
}

tm_screen() { tm capture-pane -p -t "$1"; }

# tm_wait NAME REGEX [SECONDS]: wait until the screen of NAME matches REGEX.
tm_wait() {
  name=$1 re=$2 limit=$(( ${3:-$TM_TIMEOUT} * 10 )) i=0
  while [ $i -lt $limit ]; do
    if tm_screen "$name" | grep -Eq -- "$re"; then return 0; fi
    sleep 0.1; i=$((i + 1))
  done
  echo "timeout: screen $name never showed /$re/" >&2
  tm_dump >&2
  return 1
}

# tm_keys NAME KEY...: send tmux key names (Enter, Escape, Tab, Space, C-c)
# or literal text.
tm_keys() { name=$1; shift; tm send-keys -t "$name" "$@"; }

# tm_type NAME TEXT: type TEXT literally.
tm_type() { tm send-keys -t "$1" -l "$2"; }

tm_dump() {
  for s in $(tm list-sessions -F '#S' 2>/dev/null); do
    echo "----- screen $s -----"; tm_screen "$s"
  done
}

tm_cleanup() { tm kill-server 2>/dev/null || true; }
