#!/usr/bin/env bash
# Publishes the trimmed Native AOT appliance to out/sandbox.
set -euo pipefail
cd "$(dirname "$0")"
out=${OUT_DIR:-out}
dotnet publish Sandbox.csproj -c Release -r linux-x64 -o "$out/publish" -p:TreatWarningsAsErrors=true "$@" >&2
install -m 0755 "$out/publish/sandbox" "$out/sandbox"
echo "$out/sandbox ($(stat -c %s "$out/sandbox") bytes)" >&2
