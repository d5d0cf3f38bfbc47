#!/usr/bin/env bash
# Build the systemd test image mlops-mlflow-test:debian12.
# Uses debian:bookworm from a registry when one answers; otherwise debootstraps a minimal
# Debian 12 from the apt mirror and imports it (no registry needed).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
image=${MLFLOW_TEST_IMAGE:-mlops-mlflow-test:debian12}
ctx="$here/tests/images/debian12"
if docker image inspect "$image" >/dev/null 2>&1 && [ -z "${REBUILD:-}" ]; then
  echo "image $image present"; exit 0
fi
base=debian:bookworm
if ! docker image inspect "$base" >/dev/null 2>&1 && ! timeout 60 docker pull -q "$base" >/dev/null 2>&1; then
  base=mlops-mlflow-test/debootstrap:12
  if ! docker image inspect "$base" >/dev/null 2>&1; then
    command -v debootstrap >/dev/null || { apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null; }
    mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
    rootfs=$(mktemp -d /var/tmp/mlflow-rootfs.XXXXXX)
    trap 'rm -rf "$rootfs"' EXIT
    echo "debootstrap bookworm from $mirror"
    debootstrap --variant=minbase --include=systemd,systemd-sysv,python3,sudo,dbus bookworm "$rootfs" "$mirror" >/dev/null
    tar -C "$rootfs" -c . | docker import - "$base" >/dev/null
  fi
fi
# Certificates the host trusts beyond Debian's bundle go into the image.
rm -rf "$ctx/ca" && mkdir -p "$ctx/ca"
cp /usr/local/share/ca-certificates/*.crt "$ctx/ca/" 2>/dev/null || true
docker build -q --build-arg BASE="$base" -t "$image" "$ctx"
echo "image $image built from $base"
