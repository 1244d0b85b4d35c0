#!/usr/bin/env bash
# Installs the Sandbox bundle, for image builders. Run from the unpacked bundle, as root.
#   ./install.sh [--root DIR] [--prefix /opt/sandbox] [--user sandbox] [--display-mode xvfb|dm|user]
#                [--display :0] [--xauthority PATH] [--shared-dir /tmp/sandbox-server] [--no-enable]
#                [--generate-token]
# --root installs into an image's root filesystem (systemctl is then told --root, nothing is started).
# --generate-token writes a random SANDBOX_TOKEN into /etc/default/sandbox (mode 0600, root's) and says
# where; the value is never printed. Clients then send 'Authorization: Bearer <token>'.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=/ prefix=/opt/sandbox user=sandbox mode=xvfb display=:0 xauth= shared=/tmp/sandbox-server enable=1 gen_token=0
while [ $# -gt 0 ]; do
  case "$1" in
    --root) root=$2; shift ;;
    --prefix) prefix=$2; shift ;;
    --user) user=$2; shift ;;
    --display-mode) mode=$2; shift ;;
    --display) display=$2; shift ;;
    --xauthority) xauth=$2; shift ;;
    --shared-dir) shared=$2; shift ;;
    --no-enable) enable=0 ;;
    --generate-token) gen_token=1 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
case "$mode" in xvfb|dm|user) ;; *) echo "install.sh: --display-mode must be xvfb, dm or user" >&2; exit 2 ;; esac
[ "$(id -u)" -eq 0 ] || { echo "install.sh: run as root" >&2; exit 1; }

dest=${root%/}$prefix
install -d -m 0755 "$dest" "$dest/tools"
install -m 0755 "$here/sandbox" "$here/start.sh" "$dest/"
install -m 0755 "$here/tools/ensure-packages.sh" "$dest/tools/"
[ -f "$here/README.md" ] && install -m 0644 "$here/README.md" "$dest/"

# The service user, unless the image already has it (or a desktop user is named).
if [ "$mode" != user ] && ! chroot "$root" id -u "$user" >/dev/null 2>&1; then
  chroot "$root" useradd --system --create-home --home-dir "/var/lib/$user" --shell /usr/sbin/nologin "$user"
fi

# Environment for the unit. In xvfb mode the display is sandbox-xvfb.service's :0.
# It may hold the token: 0600 and root's (systemd reads it as root before dropping to the service user).
env_file=${root%/}/etc/default/sandbox
install -d "$(dirname "$env_file")"
token_line=
[ -f "$env_file" ] && token_line=$(grep -E '^SANDBOX_TOKEN=' "$env_file" || true)
[ "$gen_token" = 1 ] && token_line="SANDBOX_TOKEN=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
( umask 077
{
  echo "# Sandbox appliance environment (docs/configuration.md). Written by install.sh."
  echo "SHARED_DIR=$shared"
  [ "$mode" = dm ] && echo "DISPLAY=$display"
  [ "$mode" = xvfb ] && echo "DISPLAY=:0"
  [ -n "$xauth" ] && echo "XAUTHORITY=$xauth"
  if [ -n "$token_line" ]; then echo "$token_line"; fi
} >"$env_file.new" )
chmod 0600 "$env_file.new"
mv -f "$env_file.new" "$env_file"
if [ "$gen_token" = 1 ]; then echo "install.sh: a new SANDBOX_TOKEN is in $env_file (readable by root only)"; fi

# The shared directory is made at every boot (it is usually on tmpfs) by start.sh; for a persistent
# location create it now, owned by the service user.
case "$shared" in
  /tmp/*) ;;
  *) install -d -m 0700 "${root%/}$shared"; [ "$mode" != user ] && chroot "$root" chown "$user:" "$shared" || true ;;
esac

if [ "$mode" = user ]; then
  install -D -m 0644 "$here/packaging/sandbox-user.service" "${root%/}/etc/systemd/user/sandbox.service"
  sed -i "s#/opt/sandbox#$prefix#g" "${root%/}/etc/systemd/user/sandbox.service"
  [ "$enable" = 1 ] && systemctl --root="$root" --global enable sandbox.service
else
  install -D -m 0644 "$here/packaging/sandbox.service" "${root%/}/etc/systemd/system/sandbox.service"
  sed -i -e "s#/opt/sandbox#$prefix#g" -e "s#^User=.*#User=$user#" -e "s#^Group=.*#Group=$user#" \
    "${root%/}/etc/systemd/system/sandbox.service"
  units=(sandbox.service)
  # Headless: Xvfb on :0 as its own unit, started before the appliance (sandbox-xvfb.service).
  if [ "$mode" = xvfb ]; then
    install -D -m 0644 "$here/packaging/sandbox-xvfb.service" "${root%/}/etc/systemd/system/sandbox-xvfb.service"
    sed -i -e "s#^User=.*#User=$user#" -e "s#^Group=.*#Group=$user#" "${root%/}/etc/systemd/system/sandbox-xvfb.service"
    units+=(sandbox-xvfb.service)
  fi
  if [ "$enable" = 1 ]; then
    if [ "$root" = / ] && [ -d /run/systemd/system ]; then
      systemctl daemon-reload && systemctl enable "${units[@]}"
    else
      systemctl --root="$root" enable "${units[@]}" 2>/dev/null || {
        mkdir -p "${root%/}/etc/systemd/system/multi-user.target.wants"
        for u in "${units[@]}"; do ln -sf "/etc/systemd/system/$u" "${root%/}/etc/systemd/system/multi-user.target.wants/$u"; done
      }
    fi
  fi
fi
echo "installed Sandbox in $dest (mode $mode)"
