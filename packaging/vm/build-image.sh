#!/usr/bin/env bash
# Builds a bootable VM image of the appliance (or of the Python reference stack, for comparison):
# a Debian bookworm minbase root + linux-image-cloud-amd64 + systemd + Xvfb + the runtime packages
# (tools/ensure-packages.sh x11 + kernels) + the bundle through install.sh --root, written to an ext4
# disk with `mkfs.ext4 -d` (no loop mounts), booted by direct kernel boot with a serial console.
#
#   packaging/vm/build-image.sh [--variant appliance|reference] [--bundle out/sandbox-*-linux-x64.tar.gz]
#                               [--out DIR] [--format raw|qcow2]
# As root, with debootstrap, e2fsprogs (and qemu-utils for qcow2). Writes DIR (default out/vm, or
# out/vm-reference) with disk.img (or disk.qcow2), vmlinuz, initrd.img, run.sh and image.json.
# The prepared root is cached in $SANDBOX_VM_CACHE (default /var/cache/sandbox-vm) keyed by its
# package list and this script's base setup, so only the first build downloads; the mirror is
# $SANDBOX_DEBIAN_MIRROR (default http://deb.debian.org/debian).
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
variant=appliance bundle= out= format=raw
while [ $# -gt 0 ]; do
  case "$1" in
    --variant) variant=$2; shift ;;
    --bundle) bundle=$2; shift ;;
    --out) out=$2; shift ;;
    --format) format=$2; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "build-image: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
case "$variant" in appliance|reference) ;; *) echo "build-image: --variant must be appliance or reference" >&2; exit 2 ;; esac
case "$format" in raw|qcow2) ;; *) echo "build-image: --format must be raw or qcow2" >&2; exit 2 ;; esac
[ "$(id -u)" -eq 0 ] || { echo "build-image: run as root" >&2; exit 1; }
for t in debootstrap mkfs.ext4 tar; do command -v $t >/dev/null || { echo "build-image: $t is missing (tools/ensure-packages.sh test)" >&2; exit 1; }; done
if [ -z "$out" ]; then [ "$variant" = appliance ] && out=$here/out/vm || out=$here/out/vm-reference; fi
if [ "$variant" = appliance ] && [ -z "$bundle" ]; then
  bundle=$(ls "$here"/out/sandbox-*-linux-x64.tar.gz 2>/dev/null | head -1)
  [ -n "$bundle" ] || { echo "build-image: no bundle in out/ (run ./build-aot.sh)" >&2; exit 1; }
fi

cache=${SANDBOX_VM_CACHE:-/var/cache/sandbox-vm}
mirror=${SANDBOX_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# Both images carry the same base: kernel, systemd, Xvfb and the appliance's runtime packages (the X
# client libraries and ipykernel), so the difference between them is the serving stack alone.
base=(systemd systemd-sysv linux-image-cloud-amd64 xvfb $("$here/tools/ensure-packages.sh" list-x11) $("$here/tools/ensure-packages.sh" list-kernels))
reference=(python3-fastapi python3-uvicorn python3-pil python3-xlib python3-jupyter-server)
# Bump when the base setup below changes (it is part of the cached root).
setup_version=1
key=$(printf '%s\n' bookworm minbase $setup_version "${base[@]}" | sha256sum | cut -c1-12)
base_tar=$cache/vmroot-bookworm-$key.tar
ref_key=$(printf '%s\n' "$key" "${reference[@]}" | sha256sum | cut -c1-12)
ref_tar=$cache/vmroot-bookworm-ref-$ref_key.tar

work=$(mktemp -d /tmp/sandbox-vm.XXXXXX)
cleanup() {
  set +e
  for m in "$work"/*/proc; do mountpoint -q "$m" 2>/dev/null && umount -l "$m"; done
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$cache"

apt_in() {  # apt_in ROOT PACKAGES... : installs into a root, quietly, logging to $work/apt.log
  local r=$1; shift
  mount -t proc proc "$r/proc"
  chroot "$r" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >>"$work/apt.log" 2>&1 \
    || { umount "$r/proc"; tail -30 "$work/apt.log" >&2; exit 1; }
  umount "$r/proc"
  chroot "$r" apt-get clean
}

if [ ! -f "$base_tar" ]; then
  echo "build-image: building the base root (${base[*]})" >&2
  r=$work/base
  debootstrap --variant=minbase bookworm "$r" "$mirror" >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
  # A small initrd: only what mounts a virtio disk (the cloud kernel builds these as modules).
  install -d "$r/etc/initramfs-tools/conf.d"
  echo 'MODULES=list' >"$r/etc/initramfs-tools/conf.d/sandbox.conf"
  printf '%s\n' virtio_pci virtio_blk ext4 >"$r/etc/initramfs-tools/modules"
  chroot "$r" apt-get update -qq >>"$work/apt.log" 2>&1
  apt_in "$r" "${base[@]}"
  rm -rf "$r"/var/lib/apt/lists/* "$r"/usr/share/doc/* "$r"/usr/share/man/* "$r"/usr/share/info/*
  tar -C "$r" -cf "$base_tar.tmp" . && mv "$base_tar.tmp" "$base_tar"
  rm -rf "$r"
fi
src_tar=$base_tar
if [ "$variant" = reference ]; then
  if [ ! -f "$ref_tar" ]; then
    echo "build-image: adding the reference stack (${reference[*]})" >&2
    r=$work/ref; mkdir -p "$r"; tar -C "$r" -xf "$base_tar"
    chroot "$r" apt-get update -qq >>"$work/apt.log" 2>&1
    apt_in "$r" "${reference[@]}"
    rm -rf "$r"/var/lib/apt/lists/* "$r"/usr/share/doc/* "$r"/usr/share/man/*
    tar -C "$r" -cf "$ref_tar.tmp" . && mv "$ref_tar.tmp" "$ref_tar"
    rm -rf "$r"
  fi
  src_tar=$ref_tar
fi

root=$work/root
mkdir -p "$root"
tar -C "$root" -xf "$src_tar"
base_bytes=$(du -sb "$root" | cut -f1)

# --- the system: nothing starts at boot that the appliance does not need ---
echo sandbox-vm >"$root/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 sandbox-vm\n' >"$root/etc/hosts"
echo '/dev/vda / ext4 rw,noatime 0 0' >"$root/etc/fstab"
rm -f "$root/etc/machine-id"; chroot "$root" systemd-machine-id-setup >/dev/null 2>&1
# The guest's address for QEMU's user-mode network (static: no DHCP round trip on the boot path).
install -d "$root/etc/systemd/network"
cat >"$root/etc/systemd/network/10-qemu-user.network" <<'NET'
[Match]
Name=en* eth*
[Network]
Address=10.0.2.15/24
Gateway=10.0.2.2
LinkLocalAddressing=no
IPv6AcceptRA=no
NET
# virtio_net is loaded by the initrd with the disk's modules, so the root needs no module loading
# (systemd-modules-load and udev each cost seconds of CPU under TCG).
grep -qx virtio_net "$root/etc/initramfs-tools/modules" || {
  echo virtio_net >>"$root/etc/initramfs-tools/modules"
  chroot "$root" update-initramfs -u -k all >"$work/initramfs.log" 2>&1 || { cat "$work/initramfs.log" >&2; exit 1; }
}
chroot "$root" systemctl enable systemd-networkd.service >/dev/null 2>&1
# Masked: udev (/dev comes from devtmpfs; the initrd loaded the drivers), logind (needs D-Bus, absent),
# the gettys (the serial console shell below is for tests only), timers, and the early-boot units that
# load modules, mount debug filesystems or manage state a throw-away guest does not keep.
for u in systemd-udevd.service systemd-udevd-control.socket systemd-udevd-kernel.socket systemd-udev-trigger.service \
         systemd-udev-settle.service systemd-networkd-wait-online.service systemd-logind.service getty.target \
         systemd-timesyncd.service apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service \
         fstrim.timer systemd-tmpfiles-clean.timer systemd-pstore.service systemd-hwdb-update.service \
         systemd-journal-catalog-update.service systemd-update-utmp.service systemd-update-utmp-runlevel.service \
         ldconfig.service modprobe@configfs.service modprobe@dm_mod.service modprobe@fuse.service modprobe@loop.service \
         modprobe@drm.service modprobe@efi_pstore.service systemd-modules-load.service kmod-static-nodes.service \
         sys-kernel-debug.mount sys-kernel-tracing.mount sys-kernel-config.mount sys-fs-fuse-connections.mount \
         dev-hugepages.mount dev-mqueue.mount proc-sys-fs-binfmt_misc.automount systemd-binfmt.service \
         systemd-network-generator.service systemd-remount-fs.service systemd-journal-flush.service \
         systemd-random-seed.service systemd-sysusers.service systemd-repart.service systemd-firstboot.service \
         systemd-machine-id-commit.service systemd-boot-system-token.service systemd-pcrphase.service \
         systemd-pcrphase-sysinit.service systemd-tmpfiles-setup-dev.service systemd-sysctl.service; do
  ln -sf /dev/null "$root/etc/systemd/system/$u"
done
chroot "$root" systemctl set-default multi-user.target >/dev/null 2>&1
# A root shell on the serial console, only when the kernel command line says sandbox.console
# (run.sh with SANDBOX_VM_CONSOLE=1: the boot test and the benchmark read the guest through it).
cat >"$root/etc/systemd/system/sandbox-console.service" <<'UNIT'
[Unit]
Description=Root shell on the serial console (tests; only with sandbox.console on the kernel command line)
ConditionKernelCommandLine=sandbox.console
DefaultDependencies=no
After=sysinit.target
[Service]
ExecStart=/bin/sh
StandardInput=tty-force
StandardOutput=tty
StandardError=tty
TTYPath=/dev/ttyS0
TTYReset=yes
Environment=PS1=
Restart=always
[Install]
WantedBy=multi-user.target
UNIT
chroot "$root" systemctl enable sandbox-console.service >/dev/null 2>&1

# --- the serving stack ---
if [ "$variant" = appliance ]; then
  mkdir -p "$work/bundle"; tar -C "$work/bundle" -xzf "$bundle"
  "$work"/bundle/*/install.sh --root "$root" --display-mode xvfb >/dev/null
  # An emulated guest (TCG, a loaded host) starts ipykernel tens of times slower than hardware does:
  # give kernels time rather than failing their first connection.
  cat >>"$root/etc/default/sandbox" <<'ENV'
SANDBOX_KERNEL_START_TIMEOUT_MS=600000
SANDBOX_KERNEL_INFO_TIMEOUT_MS=300000
ENV
  stack_bytes=$(du -sb "$root/opt/sandbox" | cut -f1)
else
  install -D -m 0755 "$here/tests/bench/reference/old_suite_server.py" "$root/opt/reference/old_suite_server.py"
  install -m 0644 "$here/packaging/sandbox-xvfb.service" "$root/etc/systemd/system/"
  chroot "$root" useradd --system --create-home --home-dir /var/lib/sandbox --shell /usr/sbin/nologin sandbox
  cat >"$root/etc/systemd/system/reference-server.service" <<'UNIT'
[Unit]
Description=Python reference: the old suite's FastAPI screenshot server (uvicorn)
Requires=sandbox-xvfb.service
After=sandbox-xvfb.service
[Service]
User=sandbox
Environment=DISPLAY=:0 REFERENCE_HOST=0.0.0.0
ExecStartPre=/bin/mkdir -p /tmp/sandbox-server
ExecStart=/usr/bin/python3 /opt/reference/old_suite_server.py 8765 /tmp/sandbox-server
[Install]
WantedBy=multi-user.target
UNIT
  cat >"$root/etc/systemd/system/reference-kernels.service" <<'UNIT'
[Unit]
Description=Python reference: jupyter server as the kernel gateway
After=sandbox-xvfb.service
[Service]
User=sandbox
Environment=DISPLAY=:0
WorkingDirectory=/var/lib/sandbox
ExecStart=/usr/bin/python3 -m jupyter_server --ip=0.0.0.0 --port=8888 --no-browser --ServerApp.token= --ServerApp.password= --ServerApp.disable_check_xsrf=True --ServerApp.allow_remote_access=True
[Install]
WantedBy=multi-user.target
UNIT
  chroot "$root" systemctl enable sandbox-xvfb.service reference-server.service reference-kernels.service >/dev/null 2>&1
  stack_bytes=$(( $(du -sb "$root" | cut -f1) - $(tar -tvf "$base_tar" | awk '{s+=$3} END {print s}') ))
fi

# --- the disk, kernel and initrd ---
mkdir -p "$out"
rm -f "$out/disk.img" "$out/disk.qcow2"
cp "$(ls "$root"/boot/vmlinuz-* | head -1)" "$out/vmlinuz"
cp "$(ls "$root"/boot/initrd.img-* | head -1)" "$out/initrd.img"
used=$(du -sm "$root" | cut -f1)
size_mb=$(( used + used / 4 + 256 ))
mkfs.ext4 -q -F -L sandbox-root -E root_owner=0:0 -d "$root" "$out/disk.img" "${size_mb}M"
disk=disk.img
if [ "$format" = qcow2 ]; then
  qemu-img convert -O qcow2 "$out/disk.img" "$out/disk.qcow2" && rm -f "$out/disk.img"; disk=disk.qcow2
fi
install -m 0755 "$here/packaging/vm/run.sh" "$out/run.sh"
sed -i "s#^disk_name=.*#disk_name=$disk#" "$out/run.sh"
root_bytes=$(du -sb "$root" | cut -f1)
cat >"$out/image.json" <<JSON
{"variant": "$variant", "disk": "$disk", "format": "$format", "root_bytes": $root_bytes, "base_root_bytes": $base_bytes,
 "stack_bytes": $stack_bytes, "disk_file_bytes": $(stat -c %s "$out/$disk"), "disk_allocated_bytes": $(( $(stat -c %b "$out/$disk") * 512 )),
 "kernel": "$(basename "$(ls "$root"/boot/vmlinuz-* | head -1)")", "key": "$key"}
JSON
echo "build-image: $out/$disk ($variant, root $(( root_bytes / 1048576 )) MB, stack $(( stack_bytes / 1048576 )) MB)" >&2
