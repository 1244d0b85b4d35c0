#!/usr/bin/env bash
# Installs the Debian packages a purpose needs, when we are root and they are missing; otherwise names them.
#   tools/ensure-packages.sh runtime|x11|kernels|video|xvfb|test|build ...
#   tools/ensure-packages.sh list-x11   prints a list instead (for image builders and the rootfs check)
# The lists are the documented dependencies (README "Dependencies"); keep them in sync.
set -euo pipefail

# runtime = the X client libraries (screenshots, actions, recording) + kernels + video + xhost.
# libxdamage1, libturbojpeg0: the live view's change detection and JPEG encoder (both optional: without
# them it reads the screen every frame interval / encodes with a slower managed encoder).
x11=(libx11-6 libxext6 libxfixes3 libxtst6 libxdamage1 libturbojpeg0)
kernels=(python3 python3-ipykernel)
video=(ffmpeg)
runtime=("${x11[@]}" "${kernels[@]}" "${video[@]}" x11-xserver-utils)
xvfb=(xvfb)
build=(gcc libc6-dev zlib1g-dev)
test=(xvfb x11-xserver-utils x11-utils x11-xkb-utils xdotool xfonts-base python3-ipykernel python3-jupyter-server
      python3-websocket python3-requests python3-xlib python3-venv python3-pil python3-tk python3-fastapi python3-uvicorn
      ffmpeg libx11-6 libxext6 libxfixes3 libxtst6 gcc libc6-dev zlib1g-dev procps psmisc
      debootstrap curl chromium libxdamage1 libturbojpeg0
      podman buildah runc runsc catatonit python3-jsonschema python3-yaml
      python3-flask
      at-spi2-core libatk-adaptor gtk-3-examples gir1.2-gtk-3.0 python3-gi python3-pyatspi python3-lxml zenity dbus dbus-bin
      qemu-system-x86 qemu-utils e2fsprogs
      openbox xclip wmctrl zenity xterm gtk-3-examples x11-utils
      sakura xdg-utils file dconf-gsettings-backend gsettings-desktop-schemas libglib2.0-bin)

want=()
for set in "$@"; do
  case "$set" in
    runtime) want+=("${runtime[@]}") ;;
    x11) want+=("${x11[@]}") ;;
    kernels) want+=("${kernels[@]}") ;;
    video) want+=("${video[@]}") ;;
    list-*) set_name=${set#list-}; eval "printf '%s\n' \"\${${set_name}[@]}\""; exit 0 ;;
    xvfb) want+=("${xvfb[@]}") ;;
    build) want+=("${build[@]}") ;;
    test) want+=("${test[@]}") ;;
    *) echo "ensure-packages: unknown set '$set'" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  # One line names what is installed; apt's own output goes to a log shown only when it fails.
  echo "installing: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt_log=$(mktemp /tmp/sandbox-apt.XXXXXX.log)
  if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$apt_log" 2>&1; then
    echo "ensure-packages: apt-get failed; its output:" >&2
    cat "$apt_log" >&2
    rm -f "$apt_log"
    exit 1
  fi
  rm -f "$apt_log"
else
  echo "missing Debian packages: ${missing[*]} (install them as root: apt-get install ${missing[*]})" >&2
  exit 1
fi
