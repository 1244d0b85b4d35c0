#!/usr/bin/env bash
# The launcher a VM image runs at boot. Same environment names and defaults as the old suite:
#   HOST, PORT, SHARED_DIR, SERVICES_LOG (or SERVER_LOG), DISPLAY, XAUTHORITY,
#   JUPYTER_KERNEL_GATEWAY_APP_HOST/PORT/LOG, JUPYTER_KERNEL_NAME (and Kernel Gateway's KG_* names).
# With no DISPLAY it starts a private Xvfb (SANDBOX_XVFB_SCREEN, default 1920x1080x24), so
# `./start.sh` works on a bare machine. Runs in the foreground; SIGTERM stops everything it started.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)

export HOST=${HOST:-0.0.0.0}
export PORT=${PORT:-8765}
export SHARED_DIR=${SHARED_DIR:-/tmp/sandbox-server}
export JUPYTER_KERNEL_GATEWAY_APP_HOST=${JUPYTER_KERNEL_GATEWAY_APP_HOST:-0.0.0.0}
export JUPYTER_KERNEL_GATEWAY_APP_PORT=${JUPYTER_KERNEL_GATEWAY_APP_PORT:-8888}
export JUPYTER_KERNEL_GATEWAY_APP_LOG=${JUPYTER_KERNEL_GATEWAY_APP_LOG:-jupyter-kernel.log}
log_name=${SERVICES_LOG:-${SERVER_LOG:-sandbox-services.log}}
max_log_bytes=${SANDBOX_LOG_MAX_BYTES:-512000}

# Private by default, as the systemd unit's UMask=0077: what we and our children write is the user's alone
# (SANDBOX_SHARED_MODE=group|world widens SHARED_DIR for a share another uid reads).
umask 077
case "${SANDBOX_SHARED_MODE:-private}" in group) dir_mode=0750 ;; world) dir_mode=0755; umask 022 ;; *) dir_mode=0700 ;; esac
mkdir -p "$SHARED_DIR"
chmod "$dir_mode" "$SHARED_DIR" 2>/dev/null || true
case "$log_name" in /*) log=$log_name ;; *) log=$SHARED_DIR/$log_name ;; esac

say() { echo "start.sh: $*" >&2; }

# Runtime packages: installed when we are root on Debian, otherwise named (and we go on: the
# appliance reports what is missing in /health instead of refusing to start).
need=(runtime)
[ -z "${DISPLAY:-}" ] && need+=(xvfb)
[ -x "$here/tools/ensure-packages.sh" ] && { "$here/tools/ensure-packages.sh" "${need[@]}" || say "continuing without them"; }

binary=${SANDBOX_BINARY:-}
if [ -z "$binary" ]; then
  for b in "$here/sandbox" "$here/out/sandbox"; do [ -x "$b" ] && { binary=$b; break; }; done
fi
if [ -z "$binary" ]; then
  if command -v dotnet >/dev/null && [ -f "$here/build-aot.sh" ]; then
    say "building the appliance (out/sandbox is missing)"
    "$here/tools/ensure-packages.sh" build >&2 || true
    "$here/build-aot.sh" || { say "build failed"; exit 1; }
    binary=$here/out/sandbox
  else
    say "no sandbox binary next to start.sh and no .NET SDK to build one"; exit 1
  fi
fi

xvfb_pid=
if [ -z "${DISPLAY:-}" ]; then
  screen=${SANDBOX_XVFB_SCREEN:-1920x1080x24}
  fifo=$(mktemp -u); mkfifo "$fifo"
  Xvfb -displayfd 4 -noreset -nolisten tcp -screen 0 "$screen" 4>"$fifo" >>"$log" 2>&1 &
  xvfb_pid=$!
  read -r -t 20 num <"$fifo" || { say "Xvfb did not start (see $log)"; rm -f "$fifo"; exit 1; }
  rm -f "$fifo"
  export DISPLAY=:$num
  say "started Xvfb on $DISPLAY ($screen)"
else
  if [ -n "${XAUTHORITY:-}" ] && [ ! -r "$XAUTHORITY" ]; then
    say "XAUTHORITY=$XAUTHORITY is not readable; X access may be refused"
  fi
  if command -v xhost >/dev/null; then
    xhost "+SI:localuser:$(whoami)" >/dev/null 2>&1 || say "xhost could not grant $(whoami) access to $DISPLAY"
  fi
fi

# Rotation: the log moves to .1 once past the limit; checked at start and every minute.
rotate() { [ -f "$log" ] && [ "$(stat -c %s "$log" 2>/dev/null || echo 0)" -gt "$max_log_bytes" ] && mv -f "$log" "$log.1"; }
rotate

child= rotator=
stop() {
  [ -n "$child" ] && kill -TERM "$child" 2>/dev/null && wait "$child"
  [ -n "$rotator" ] && kill "$rotator" 2>/dev/null
  [ -n "$xvfb_pid" ] && kill -TERM "$xvfb_pid" 2>/dev/null
  exit 0
}
trap stop TERM INT

# The appliance writes to a pipe; a small loop appends to the log file and reopens it after rotation.
"$binary" "$@" > >(while IFS= read -r line; do printf '%s\n' "$line" >>"$log"; done) 2>&1 &
child=$!
( while kill -0 "$child" 2>/dev/null; do sleep 60; rotate; done ) &
rotator=$!
say "sandbox running (pid $child) on $HOST:$PORT, gateway on $JUPYTER_KERNEL_GATEWAY_APP_HOST:$JUPYTER_KERNEL_GATEWAY_APP_PORT, log $log"
wait "$child"
code=$?
kill "$rotator" 2>/dev/null
[ -n "$xvfb_pid" ] && kill -TERM "$xvfb_pid" 2>/dev/null
exit $code
