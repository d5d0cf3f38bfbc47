#!/usr/bin/env bash
# Build the systemd test images of one or more platforms (tests/images/platforms.sh):
#   mlops-mlflow-test:PLATFORM        bare: what a fresh host has, with systemd (tests/images/base)
#   mlops-mlflow-test:PLATFORM-ready  the bare image plus what every test host installs, baked once by
#                                     tests/images/bake.sh: the distribution's packages and the Python
#                                     environments (MLflow, the S3 stand-in, the laptop's client) from the wheelhouse
# Usage: scripts/lib/build-image.sh [--ready] [PLATFORM...|all]   (default: $MLFLOW_TEST_PLATFORM, debian12)
# Without --ready only the bare images are built (the main job, scripts/deploy-local.sh, deploys onto one).
# Each image is labelled with a hash of its inputs and rebuilt when they change (REBUILD=1 forces it).
# The base is the platform's registry image when a registry answers; otherwise a debootstrap of the archive,
# its Release file verified against the archive's keyring (platforms.sh says where each keyring comes from).
set -euo pipefail
source "$(dirname "$0")/env.sh"
here=$MLFLOW_REPO
source "$here/tests/images/platforms.sh"
ready_too=false
if [ "${1:-}" = --ready ]; then ready_too=true; shift; fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("$MLFLOW_TEST_PLATFORM")
[ "${targets[*]}" != all ] || targets=("${PLATFORMS[@]}")
ctx="$here/tests/images/base"
work=$(mktemp -d /var/tmp/mlflow-image.XXXXXX)
trap 'rm -rf "$work"' EXIT

inputs_hash() { cat "$@" | sha256sum | cut -c1-16; }
current() {  # current IMAGE HASH: the image exists, carries HASH and no rebuild is forced
  [ -z "${REBUILD:-}" ] && [ "$(docker image inspect -f '{{ index .Config.Labels "mlops.inputs" }}' "$1" 2>/dev/null)" = "$2" ]
}

ubuntu_keyring() {  # Ubuntu's archive keyring, from Debian 13's ubuntu-keyring package (apt verifies it)
  [ -s "$keyring" ] && return 0
  local debian13 ; debian13=$(base_image debian13)
  mkdir -p "$(dirname "$keyring")"
  docker run --rm -e DEBIAN_FRONTEND=noninteractive -v "$(dirname "$keyring"):/out" "$debian13" sh -ec \
    'apt-get update -qq && apt-get install -y -qq --no-install-recommends ubuntu-keyring >/dev/null
     cp /usr/share/keyrings/ubuntu-archive-keyring.gpg /out/'
  echo "Ubuntu archive keyring from Debian 13's ubuntu-keyring package: $keyring"
}

base_image() {  # base_image PLATFORM: print the image to build on (registry, else a verified debootstrap)
  ( platform_vars "$1"
    if docker image inspect "$registry" >/dev/null 2>&1 || timeout 60 docker pull -q "$registry" >/dev/null 2>&1; then
      echo "$registry"; exit 0
    fi
    local base="mlops-mlflow-test/debootstrap:$1"
    if ! docker image inspect "$base" >/dev/null 2>&1; then
      command -v debootstrap >/dev/null || { apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null; }
      [[ $1 != ubuntu* ]] || ubuntu_keyring >&2
      local rootfs="$work/rootfs-$1"
      echo "debootstrap $suite from $mirror, verified with $keyring" >&2
      debootstrap --variant=minbase --keyring="$keyring" --components="$components" \
        --include="systemd,systemd-sysv,python3,sudo,dbus,$include" "$suite" "$rootfs" "$mirror" \
        "/usr/share/debootstrap/scripts/$script" >"$work/debootstrap-$1.log" 2>&1 \
        || { tail -20 "$work/debootstrap-$1.log" >&2; exit 1; }
      tar -C "$rootfs" -c . | docker import - "$base" >/dev/null
      rm -rf "$rootfs"
    fi
    echo "$base" )
}

build_bare() {  # build_bare PLATFORM
  local image="mlops-mlflow-test:$1" base hash
  # (a change to this script alone rebuilds nothing: REBUILD=1)
  hash=$(echo "$1 $(inputs_hash "$ctx/Dockerfile" "$here/tests/images/platforms.sh")" | sha256sum | cut -c1-16)
  if current "$image" "$hash"; then echo "image $image current"; return 0; fi
  base=$(base_image "$1")
  # Certificates the host trusts beyond the distribution's bundle go into the image.
  rm -rf "$ctx/ca" && mkdir -p "$ctx/ca"
  cp /usr/local/share/ca-certificates/*.crt "$ctx/ca/" 2>/dev/null || true
  docker build -q --build-arg BASE="$base" --build-arg SOURCES="$sources" --label "mlops.inputs=$hash" -t "$image" "$ctx" >/dev/null
  echo "image $image built from $base"
}

build_ready() {  # build_ready PLATFORM: inputs are the bare image, the bake script and playbook, the wheelhouse's
  # requirements and what names and fills an environment (the python_env role's defaults, vars and constraints files)
  local image="mlops-mlflow-test:$1" ready="mlops-mlflow-test:$1-ready" req mlflow_req hash name t0=$SECONDS
  req="$here/tests/wheelhouse-requirements.txt"
  mlflow_req=$(grep -E '^mlflow==' "$req")
  local constraints="$here/roles/python_env/files/constraints/${mlflow_req/==/-}.txt"
  local packages; read -ra packages <<<"$(python "$here/tests/images/packages.py" "$vars")"
  hash=$(echo "$(docker image inspect -f '{{ .Id }}' "$image") ${packages[*]} $(inputs_hash "$here/tests/images/bake.sh" \
    "$here/tests/images/environments.yml" "$req" "$here"/tests/wheelhouse-requirements-mlflow-*.txt \
    "$here"/roles/python_env/{defaults,vars}/*.yml "$here"/roles/python_env/files/constraints/*.txt \
    "$here/roles/_common/defaults/main.yml")" | sha256sum | cut -c1-16)
  if current "$ready" "$hash"; then echo "image $ready current"; return 0; fi
  name="mlops-mlflow-bake-$1-$$"
  docker rm -f "$name" >/dev/null 2>&1 || true
  docker run -d --name "$name" -v "$MLFLOW_WHEELHOUSE:/opt/wheelhouse:ro" -v "$MLFLOW_APT_CACHE:/var/cache/apt/archives" \
    -v "$here/tests/images/bake.sh:/usr/local/sbin/mlops-bake:ro" -v "$constraints:/opt/mlflow-constraints.txt:ro" \
    "$image" sleep infinity >/dev/null
  docker exec "$name" /usr/local/sbin/mlops-bake "$mlflow_req" "${packages[@]}"
  # the MLflow environments, by the python_env role (Ansible's own strategy and docker connection)
  ANSIBLE_COLLECTIONS_PATH="$here/.cache/collections" ANSIBLE_STDOUT_CALLBACK=ansible.builtin.minimal \
    ANSIBLE_HOME="$work/ansible" ANSIBLE_LOG_PATH="$work/bake-$1.log" \
    ansible-playbook -i "$name," -c community.docker.docker -e mlflow_test_platform="$1" \
    "$here/tests/images/environments.yml" >"$work/bake-$1.out" 2>&1 \
    || { tail -40 "$work/bake-$1.out" >&2; docker rm -f "$name" >/dev/null; return 1; }
  docker exec "$name" sh -c 'apt-get clean && rm -rf /var/lib/apt/lists/* /root/.cache /root/.ansible /tmp/*'
  docker commit --change 'CMD ["/lib/systemd/systemd"]' --change "LABEL mlops.inputs=$hash" "$name" "$ready" >/dev/null
  docker rm -f "$name" >/dev/null
  echo "image $ready built in $((SECONDS - t0)) s ($(docker image inspect -f '{{ .Size }}' "$ready" | numfmt --to=iec))"
}

for platform in "${targets[@]}"; do
  mlflow_platform "$platform"
  platform_vars "$platform"
  build_bare "$platform"
  if $ready_too; then build_ready "$platform"; fi
done
