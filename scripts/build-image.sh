#!/usr/bin/env bash
# Build the systemd test images:
#   mlops-mlflow-test:debian12        bare Debian 12 with systemd: what a fresh host has (tests/images/debian12)
#   mlops-mlflow-test:debian12-ready  the bare image plus what every test host installs, baked once by
#                                     tests/images/bake.sh: Debian packages and the Python environments (MLflow,
#                                     the S3 stand-in, the laptop's client) from the wheelhouse
# Without --ready only the bare image is built (the main job, scripts/deploy-local.sh, deploys onto it).
# Each image is labelled with a hash of its inputs and rebuilt when they change (REBUILD=1 forces it).
# The base is debian:bookworm from a registry when one answers; otherwise a debootstrap of the apt mirror.
set -euo pipefail
source "$(dirname "$0")/env.sh"
here=$MLFLOW_REPO
image=${MLFLOW_TEST_IMAGE:-mlops-mlflow-test:debian12}
ready=${MLFLOW_TEST_IMAGE_READY:-$image-ready}
ctx="$here/tests/images/debian12"

inputs_hash() { cat "$@" | sha256sum | cut -c1-16; }
current() {  # current IMAGE HASH: the image exists, carries HASH and no rebuild is forced
  [ -z "${REBUILD:-}" ] && [ "$(docker image inspect -f '{{ index .Config.Labels "mlops.inputs" }}' "$1" 2>/dev/null)" = "$2" ]
}

base_hash=$(inputs_hash "$ctx/Dockerfile" "$0")
if current "$image" "$base_hash"; then
  echo "image $image current"
else
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
  docker build -q --build-arg BASE="$base" --label "mlops.inputs=$base_hash" -t "$image" "$ctx" >/dev/null
  echo "image $image built from $base"
fi

[ "${1:-}" = --ready ] || exit 0
# The ready image: inputs are the bare image, the bake script and the wheelhouse's requirements (MLflow's pin).
req="$here/tests/wheelhouse-requirements.txt"
mlflow_req=$(grep -E '^mlflow==' "$req")
ready_hash=$(echo "$(docker image inspect -f '{{ .Id }}' "$image") $(inputs_hash "$here/tests/images/bake.sh" "$req")" | sha256sum | cut -c1-16)
if current "$ready" "$ready_hash"; then
  echo "image $ready current"; exit 0
fi
t0=$SECONDS
name="mlops-mlflow-bake-$$"
docker rm -f "$name" >/dev/null 2>&1 || true
apt_cache=${MLFLOW_APT_CACHE:-$here/.cache/apt-archives}
mkdir -p "$apt_cache/partial"
docker run --name "$name" -v "$MLFLOW_WHEELHOUSE:/opt/wheelhouse:ro" -v "$apt_cache:/var/cache/apt/archives" \
  -v "$here/tests/images/bake.sh:/usr/local/sbin/mlops-bake:ro" "$image" /usr/local/sbin/mlops-bake "$mlflow_req"
docker commit --change 'CMD ["/lib/systemd/systemd"]' --change "LABEL mlops.inputs=$ready_hash" "$name" "$ready" >/dev/null
docker rm "$name" >/dev/null
echo "image $ready built in $((SECONDS - t0)) s ($(docker image inspect -f '{{ .Size }}' "$ready" | numfmt --to=iec))"
