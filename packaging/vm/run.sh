#!/usr/bin/env bash
# Boots the Sandbox VM image in this directory with QEMU, in the foreground (written by
# packaging/vm/build-image.sh). The guest's 8765 and 8888 are forwarded to 127.0.0.1:$SANDBOX_VM_PORT
# and 127.0.0.1:$SANDBOX_VM_KG_PORT (defaults 18765/18888); the serial console is this terminal
# (stdin/stdout). SIGTERM or SIGINT stops the guest. The disk is used in snapshot mode unless
# SANDBOX_VM_PERSIST=1, so several guests can boot one image and every boot starts clean.
#   SANDBOX_VM_ACCEL   tcg (default; KVM guests stall in early boot on nested hosts) or kvm
#   SANDBOX_VM_MEMORY  MiB (default 1024)      SANDBOX_VM_CPUS  (default 2)
#   SANDBOX_VM_CPU     QEMU CPU model (default Nehalem under TCG, host under KVM)
#   SANDBOX_VM_CONSOLE=1  a root shell on the serial console (tests, benchmarks)
#   SANDBOX_VM_APPEND  extra kernel command line
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
disk_name=disk.img
port=${SANDBOX_VM_PORT:-18765}
kg_port=${SANDBOX_VM_KG_PORT:-18888}
accel=${SANDBOX_VM_ACCEL:-tcg}
format=raw; case "$disk_name" in *.qcow2) format=qcow2 ;; esac
snapshot=on; [ "${SANDBOX_VM_PERSIST:-0}" = 1 ] && snapshot=off
append="root=/dev/vda rw console=ttyS0,115200 quiet loglevel=3 systemd.show_status=false fsck.mode=skip net.ifnames=0 clocksource=hpet"
[ "${SANDBOX_VM_CONSOLE:-0}" = 1 ] && append="$append sandbox.console"
append="$append ${SANDBOX_VM_APPEND:-}"
# TCG: a named x86-64-v2 model (SSE4.2, no AVX). QEMU 7.2's "max" adds its new AVX emulation, and a guest
# running the reference stack crashed QEMU with it (general protection fault in a vCPU thread).
cpu=${SANDBOX_VM_CPU:-Nehalem}; [ "$accel" = kvm ] && cpu=${SANDBOX_VM_CPU:-host}

# A background job's stdin would be /dev/null: hand the console ours explicitly.
exec {stdin}<&0
qemu-system-x86_64 -machine q35,accel="$accel" -cpu "$cpu" -smp "${SANDBOX_VM_CPUS:-2}" -m "${SANDBOX_VM_MEMORY:-1024}" \
  -nodefaults -no-user-config -display none -serial stdio -monitor none -no-reboot \
  -kernel "$here/vmlinuz" -initrd "$here/initrd.img" -append "$append" \
  -drive file="$here/$disk_name",format=$format,if=virtio,snapshot=$snapshot,cache=unsafe \
  -netdev user,id=net0,hostfwd=tcp:127.0.0.1:$port-:8765,hostfwd=tcp:127.0.0.1:$kg_port-:8888 \
  -device virtio-net-pci,netdev=net0 \
  -device virtio-rng-pci <&"$stdin" &
qemu=$!
stop() { kill -TERM "$qemu" 2>/dev/null; wait "$qemu"; exit 0; }
trap stop TERM INT HUP
wait "$qemu"
