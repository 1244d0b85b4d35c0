#!/usr/bin/env bash
# Publishes the trimmed Native AOT appliance to out/sandbox and packs the install bundle
# out/sandbox-<version>-linux-x64.tar.gz (binary, start.sh, systemd units, install.sh).
#   ./build-aot.sh [--no-bundle] [extra dotnet publish arguments]
set -euo pipefail
cd "$(dirname "$0")"
out=${OUT_DIR:-out}
bundle=1
if [ "${1:-}" = --no-bundle ]; then bundle=0; shift; fi

dotnet publish Sandbox.csproj -c Release -r linux-x64 -o "$out/publish" -p:TreatWarningsAsErrors=true "$@" >&2
install -m 0755 "$out/publish/sandbox" "$out/sandbox"
echo "$out/sandbox ($(stat -c %s "$out/sandbox") bytes)" >&2

[ "$bundle" = 1 ] || exit 0
version=$(sed -n 's#.*<Version>\(.*\)</Version>.*#\1#p' Sandbox.csproj | head -1)
name=sandbox-$version-linux-x64
stage=$out/bundle/$name
rm -rf "$out/bundle"
install -d "$stage/tools" "$stage/packaging"
install -m 0755 "$out/sandbox" start.sh packaging/install.sh "$stage/"
install -m 0755 tools/ensure-packages.sh "$stage/tools/"
install -m 0644 packaging/sandbox.service packaging/sandbox-xvfb.service packaging/sandbox-user.service "$stage/packaging/"
install -m 0644 README.md "$stage/"
tar -C "$out/bundle" --owner=0 --group=0 --sort=name -czf "$out/$name.tar.gz" "$name"
echo "$out/$name.tar.gz ($(stat -c %s "$out/$name.tar.gz") bytes)" >&2
