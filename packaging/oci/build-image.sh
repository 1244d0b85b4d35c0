#!/usr/bin/env bash
# Builds the OCI image without a Docker daemon: a Debian bookworm `debootstrap --variant=minbase` root with
# the runtime packages (tools/ensure-packages.sh runtime + xvfb) and xdotool, the bundle installed with
# install.sh --root, a non-root user (uid 1000) and an entrypoint that starts the private display and execs
# the appliance as PID 1; committed with buildah as localhost/sandbox:<version>. No registry is used.
#
#   packaging/oci/build-image.sh [BUNDLE.tar.gz]            (as root; needs debootstrap and buildah)
#   packaging/oci/build-image.sh --reference                 the Python reference stack in the same base
#                                                            (localhost/sandbox-reference:<version>), for comparison
# The package root is cached as a tarball in $SANDBOX_ROOTFS_CACHE (default /var/cache/sandbox-test), keyed by
# the suite, variant and package list, so only the first build downloads. Prints the image's name and size.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
cache=${SANDBOX_ROOTFS_CACHE:-/var/cache/sandbox-test}
mirror=${SANDBOX_DEBIAN_MIRROR:-http://deb.debian.org/debian}
version=$(sed -n 's#.*<Version>\(.*\)</Version>.*#\1#p' "$here/Sandbox.csproj" | head -1)
reference=0
bundle=
for a in "$@"; do
  case "$a" in
    --reference) reference=1 ;;
    *) bundle=$(readlink -f "$a") ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "build-image: needs root (debootstrap, buildah mount)" >&2; exit 1; }

packages=$("$here/tools/ensure-packages.sh" list-runtime; "$here/tools/ensure-packages.sh" list-xvfb; echo xdotool)
# The old suite's stack from Debian: FastAPI + uvicorn + Pillow + python-xlib, and jupyter_server for kernels.
reference_packages="python3-fastapi python3-uvicorn python3-pil python3-xlib python3-jupyter-server"
if [ "$reference" = 1 ]; then
  image=localhost/sandbox-reference:$version
else
  if [ -z "$bundle" ]; then bundle=$(ls "$here"/out/sandbox-"$version"-linux-x64.tar.gz 2>/dev/null || true); fi
  [ -f "$bundle" ] || { echo "build-image: no bundle; run ./build-aot.sh first or pass BUNDLE.tar.gz" >&2; exit 1; }
  image=localhost/sandbox:$version
fi
key=$(printf '%s\n' bookworm minbase oci-1 $packages | sha256sum | cut -c1-12)
base=$cache/oci-rootfs-bookworm-$key.tar
ref_key=$(printf '%s\n' "$key" $reference_packages | sha256sum | cut -c1-12)
ref=$cache/oci-rootfs-bookworm-reference-$ref_key.tar

work=$(mktemp -d /tmp/sandbox-oci.XXXXXX)
ctr=
cleanup() {
  local rc=$?
  set +e
  mountpoint -q "$work/build/proc" 2>/dev/null && umount -l "$work/build/proc"
  [ -n "$ctr" ] && buildah rm "$ctr" >/dev/null 2>&1
  rm -rf "$work"
  exit $rc
}
trap cleanup EXIT

# Installs packages into $work/build (apt lists fetched when missing), then trims and packs it into $1.
install_and_pack() {
  local out=$1; shift
  mount -t proc proc "$work/build/proc"
  chroot "$work/build" sh -c 'ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1 || apt-get update -qq' >"$work/apt.log" 2>&1
  chroot "$work/build" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" \
    >>"$work/apt.log" 2>&1 || { umount "$work/build/proc"; tail -20 "$work/apt.log" >&2; exit 1; }
  umount "$work/build/proc"
  # What an image never needs: package lists and caches, documentation, manuals, translations.
  chroot "$work/build" apt-get clean
  rm -rf "$work/build"/var/lib/apt/lists/* "$work/build"/usr/share/doc/* "$work/build"/usr/share/man/* \
         "$work/build"/usr/share/info/* "$work/build"/var/cache/debconf/*-old "$work/build"/var/log/*.log
  find "$work/build/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name 'locale.alias' -exec rm -rf {} + 2>/dev/null || true
  tar -C "$work/build" -cf "$out.tmp" . && mv "$out.tmp" "$out"
  rm -rf "$work/build"
}

mkdir -p "$cache"
if [ ! -f "$base" ]; then
  echo "build-image: building the minbase root ($(echo $packages))" >&2
  debootstrap --variant=minbase bookworm "$work/build" "$mirror" >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
  install_and_pack "$base" $packages
fi
rootfs=$base
if [ "$reference" = 1 ]; then
  if [ ! -f "$ref" ]; then
    echo "build-image: adding the reference stack ($reference_packages)" >&2
    mkdir -p "$work/build" && tar -C "$work/build" -xf "$base"
    install_and_pack "$ref" $reference_packages
  fi
  rootfs=$ref
fi

# Nothing to do when an image from the same inputs exists (the E2E tests call this before every run).
inputs=$( { echo "$key $reference"; if [ -n "$bundle" ]; then sha256sum "$bundle"; fi; cat "$0" "$here/packaging/oci/"*.sh; \
  if [ "$reference" = 1 ]; then cat "$here/tests/bench/reference/old_suite_server.py"; fi; } | sha256sum | cut -c1-16)
if [ "$(podman image inspect --format '{{index .Labels "sandbox.inputs"}}' "$image" 2>/dev/null)" = "$inputs" ]; then
  echo "image: $image $(podman image inspect --format '{{.Size}}' "$image") bytes (up to date)"
  exit 0
fi

ctr=$(buildah from scratch)
mnt=$(buildah mount "$ctr")
tar -C "$mnt" -xf "$rootfs"
# A fixed uid, so Kubernetes' runAsUser and the image agree.
chroot "$mnt" useradd --uid 1000 --user-group --create-home --home-dir /var/lib/sandbox --shell /usr/sbin/nologin sandbox
if [ "$reference" = 1 ]; then
  install -d "$mnt/opt/reference"
  install -m 0644 "$here/tests/bench/reference/old_suite_server.py" "$mnt/opt/reference/"
  install -m 0755 "$here/packaging/oci/reference-entrypoint.sh" "$mnt/opt/reference/entrypoint.sh"
  entry=/opt/reference/entrypoint.sh
else
  mkdir -p "$work/bundle"
  tar -C "$work/bundle" -xzf "$bundle"
  "$work"/bundle/*/install.sh --root "$mnt" --display-mode dm --no-enable >/dev/null
  install -m 0755 "$here/packaging/oci/entrypoint.sh" "$mnt/opt/sandbox/entrypoint.sh"
  entry=/opt/sandbox/entrypoint.sh
fi
# Bytecode for every Python module (kernels import IPython, jedi, zmq ...): the non-root user cannot write
# __pycache__ under /usr/lib, so without it every kernel start would compile them again (seconds).
chroot "$mnt" python3 -m compileall -q -j 0 /usr/lib/python3/dist-packages /usr/lib/python3.11 >/dev/null 2>&1 || true
buildah umount "$ctr" >/dev/null

buildah config \
  --entrypoint "[\"$entry\"]" --cmd '' \
  --user 1000:1000 --workingdir /var/lib/sandbox \
  --port 8765 --port 8888 \
  --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --env HOST=0.0.0.0 --env PORT=8765 \
  --env JUPYTER_KERNEL_GATEWAY_APP_HOST=0.0.0.0 --env JUPYTER_KERNEL_GATEWAY_APP_PORT=8888 \
  --env SHARED_DIR=/tmp/sandbox-server --env HOME=/var/lib/sandbox \
  --stop-signal SIGTERM \
  --label sandbox.inputs="$inputs" --label org.opencontainers.image.title=sandbox --label org.opencontainers.image.version="$version" \
  "$ctr"
# The image this one replaces (same tag, older inputs) would stay behind untagged, ~0.7 GB per rebuild: removed
# (unless a container still uses it).
previous=$(podman image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
buildah commit --quiet --rm "$ctr" "$image" >/dev/null
ctr=
if [ -n "$previous" ] && [ "$previous" != "$(podman image inspect --format '{{.Id}}' "$image" 2>/dev/null)" ]; then
  podman rmi "$previous" >/dev/null 2>&1 || true
fi
size=$(podman image inspect --format '{{.Size}}' "$image" 2>/dev/null || buildah inspect --format '{{.Size}}' "$image" 2>/dev/null || echo 0)
echo "image: $image $size bytes"
