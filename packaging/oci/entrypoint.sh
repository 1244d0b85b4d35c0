#!/bin/bash
# Container entrypoint: starts a private Xvfb, then execs the appliance so that it becomes PID 1 (it reaps
# orphans and turns SIGTERM into a graceful shutdown; Xvfb becomes its child and ends with the container).
# Settings come from the environment as everywhere (PORT, JUPYTER_KERNEL_GATEWAY_APP_PORT, SHARED_DIR, ...);
# SANDBOX_XVFB_SCREEN picks the screen (default 1280x800x24); a DISPLAY given from outside is used as is.
set -euo pipefail
export HOME=${HOME:-/var/lib/sandbox}
export SHARED_DIR=${SHARED_DIR:-/tmp/sandbox-server}
mkdir -p "$SHARED_DIR"
if [ -z "${DISPLAY:-}" ]; then
  fifo=$(mktemp -u /tmp/xvfb-fd.XXXXXX)
  mkfifo "$fifo"
  Xvfb -displayfd 4 -noreset -nolisten tcp -screen 0 "${SANDBOX_XVFB_SCREEN:-1280x800x24}" 4>"$fifo" >/dev/null 2>&1 &
  read -r -t 20 num <"$fifo" || { echo "entrypoint: Xvfb did not start" >&2; exit 1; }
  rm -f "$fifo"
  export DISPLAY=:$num
fi
exec "${SANDBOX_BINARY:-/opt/sandbox/sandbox}" "$@"
