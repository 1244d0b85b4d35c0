#!/bin/bash
# The Python reference stack in the same image, for comparison only (tests/bench/oci_bench.py): the old
# suite's FastAPI server on PORT and `jupyter server` on JUPYTER_KERNEL_GATEWAY_APP_PORT, on a private Xvfb.
set -euo pipefail
export HOME=${HOME:-/var/lib/sandbox}
shared=${SHARED_DIR:-/tmp/sandbox-server}
mkdir -p "$shared"
fifo=$(mktemp -u /tmp/xvfb-fd.XXXXXX)
mkfifo "$fifo"
Xvfb -displayfd 4 -noreset -nolisten tcp -screen 0 "${SANDBOX_XVFB_SCREEN:-1280x800x24}" 4>"$fifo" >/dev/null 2>&1 &
read -r -t 20 num <"$fifo"
rm -f "$fifo"
export DISPLAY=:$num
# The old server binds 127.0.0.1 (it ran inside the VM); in a container it must listen on all addresses.
/usr/bin/python3 -c 'import runpy, sys, uvicorn
run = uvicorn.run
uvicorn.run = lambda app, **kw: run(app, **{**kw, "host": "0.0.0.0"})
sys.argv = ["old_suite_server.py", *sys.argv[1:]]
runpy.run_path("/opt/reference/old_suite_server.py", run_name="__main__")' "${PORT:-8765}" "$shared" >/dev/null 2>&1 &
/usr/bin/python3 -m jupyter_server --ServerApp.ip=0.0.0.0 --ServerApp.port="${JUPYTER_KERNEL_GATEWAY_APP_PORT:-8888}" \
  --ServerApp.token="${REFERENCE_TOKEN:-reference}" --ServerApp.open_browser=False --ServerApp.root_dir="$shared" \
  --ServerApp.port_retries=0 >/dev/null 2>&1 &
trap 'kill -TERM $(jobs -p) 2>/dev/null; wait; exit 0' TERM INT
wait
