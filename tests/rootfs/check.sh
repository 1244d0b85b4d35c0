#!/usr/bin/env bash
# Minimal-rootfs check: proves the documented runtime dependency list.
#
# A Debian bookworm `debootstrap --variant=minbase` root gets only the documented runtime packages
# (tools/ensure-packages.sh: x11 + kernels; video is left out), the bundle is installed into it with
# install.sh --root, and the appliance runs inside it (chroot) against an Xvfb started outside.
# Checked: /health is ok with the display connected, a screenshot decodes to the painted scene, and,
# when the gateway is built in, one kernel execution returns its result.
#
#   tests/rootfs/check.sh BUNDLE.tar.gz      (as root; needs debootstrap, Xvfb, /usr/bin/python3)
# The prepared root is cached in $SANDBOX_ROOTFS_CACHE (default /var/cache/sandbox-test), keyed by
# the package list, so only the first run downloads.
set -euo pipefail
bundle=$(readlink -f "$1")
here=$(cd "$(dirname "$0")/../.." && pwd)
cache=${SANDBOX_ROOTFS_CACHE:-/var/cache/sandbox-test}
mirror=${SANDBOX_DEBIAN_MIRROR:-http://deb.debian.org/debian}
packages=$("$here/tools/ensure-packages.sh" list-x11; "$here/tools/ensure-packages.sh" list-kernels)
key=$(printf '%s\n' bookworm minbase $packages | sha256sum | cut -c1-12)
tarball=$cache/rootfs-bookworm-$key.tar
[ "$(id -u)" -eq 0 ] || { echo "rootfs check: needs root"; exit 1; }

work=$(mktemp -d /tmp/sandbox-rootfs.XXXXXX)
root=$work/root
xvfb_pid= app_pid=
cleanup() {
  local rc=$?
  set +e
  [ -n "$app_pid" ] && kill -TERM "$app_pid" 2>/dev/null && sleep 0.5
  [ -n "$app_pid" ] && kill -KILL "$app_pid" 2>/dev/null
  [ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2>/dev/null
  for m in tmp/.X11-unix dev proc; do mountpoint -q "$root/$m" 2>/dev/null && umount -l "$root/$m"; done
  rm -rf "$work"
  exit $rc
}
trap cleanup EXIT

mkdir -p "$cache"
if [ ! -f "$tarball" ]; then
  echo "rootfs: building the minbase root ($(echo $packages))"
  debootstrap --variant=minbase bookworm "$work/build" "$mirror" >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log"; exit 1; }
  mount -t proc proc "$work/build/proc"
  chroot "$work/build" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $packages \
    >"$work/apt.log" 2>&1 || { umount "$work/build/proc"; tail -20 "$work/apt.log"; exit 1; }
  umount "$work/build/proc"
  chroot "$work/build" apt-get clean
  tar -C "$work/build" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
  rm -rf "$work/build"
fi

mkdir -p "$root"
tar -C "$root" -xf "$tarball"
echo "rootfs: $(du -sh "$root" | cut -f1) root with: $(echo $packages)"

# The bundle goes in the way an image builder would put it.
mkdir -p "$work/bundle"
tar -C "$work/bundle" -xzf "$bundle"
"$work"/bundle/*/install.sh --root "$root" --display-mode dm --no-enable --shared-dir /var/lib/sandbox-shared >/dev/null
test -x "$root/opt/sandbox/sandbox"
test -f "$root/etc/systemd/system/sandbox.service"

# Nothing from the host may leak in: the libraries the binary loads must come from the root itself.
for lib in libX11.so.6 libXext.so.6 libXfixes.so.3 libXtst.so.6; do
  chroot "$root" sh -c "ls /usr/lib/x86_64-linux-gnu/$lib >/dev/null" || { echo "rootfs: $lib missing in the root"; exit 1; }
done

# Xvfb outside, its socket shared into the root.
read_fd=$work/displayfd; mkfifo "$read_fd"
Xvfb -displayfd 3 -noreset -nolisten tcp -screen 0 1280x720x24 3>"$read_fd" >/dev/null 2>&1 &
xvfb_pid=$!
read -r -t 20 num <"$read_fd"
DISPLAY=:$num /usr/bin/python3 "$here/tests/Shared/paint_root.py" "${SANDBOX_SCENES:-$here/tests/fixtures}/office.png"

mkdir -p "$root/tmp/.X11-unix"
mount --bind /tmp/.X11-unix "$root/tmp/.X11-unix"
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"

port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
gport=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# As the service user install.sh made, who owns SHARED_DIR (the appliance refuses a SHARED_DIR of another user).
chroot --userspec=sandbox:sandbox "$root" env -i PATH=/usr/bin:/bin DISPLAY=:$num HOST=127.0.0.1 PORT=$port SHARED_DIR=/var/lib/sandbox-shared \
  JUPYTER_KERNEL_GATEWAY_APP_HOST=127.0.0.1 JUPYTER_KERNEL_GATEWAY_APP_PORT=$gport HOME=/var/lib/sandbox \
  /opt/sandbox/sandbox >"$work/appliance.log" 2>&1 &
app_pid=$!

/usr/bin/python3 "$here/tests/rootfs/probe.py" "$port" "$gport" "$root/var/lib/sandbox-shared" \
  "${SANDBOX_SCENES:-$here/tests/fixtures}/office.png" || { echo "--- appliance log"; cat "$work/appliance.log"; exit 1; }
echo "rootfs check: passed"
