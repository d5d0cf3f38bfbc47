#!/usr/bin/env bash
# Main job: deploy the all-in-one MLflow stack (PostgreSQL + SeaweedFS + MLflow server with basic auth +
# the TLS proxy, self-signed for https://localhost) into a local systemd container with the site playbook,
# publish HTTPS on 127.0.0.1 only, and run a smoke test through it. Re-running it converges the same
# container again (changed=0).
#   MLFLOW_LOCAL_PORT=8443 scripts/deploy-local.sh        deploy / re-deploy, on Debian 12
#   scripts/deploy-local.sh --platform debian13           the same on another tested platform:
#                                                         debian12 (default), debian13, ubuntu2404
#   scripts/deploy-local.sh --destroy                     remove the container
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
source scripts/lib/env.sh
source tests/images/platforms.sh
name=mlflow-local
port=${MLFLOW_LOCAL_PORT:-8443}
platform=debian12
while [ $# -gt 0 ]; do
  case $1 in
    --destroy)
      docker rm -f "$name" >/dev/null 2>&1 || true; docker network rm "$name-net" >/dev/null 2>&1 || true
      echo "removed $name"; exit 0 ;;
    --platform) platform=${2:-}; shift 2 || { echo "--platform needs a name: ${PLATFORMS[*]}" >&2; exit 2; } ;;
    --platform=*) platform=${1#*=}; shift ;;
    *) echo "usage: $0 [--platform $(IFS='|'; echo "${PLATFORMS[*]}")] | --destroy" >&2; exit 2 ;;
  esac
done
platform_vars "$platform" >/dev/null || exit 2
mlflow_platform "$platform"
existing=$(docker container inspect -f '{{ index .Config.Labels "mlops.platform" }}' "$name" 2>/dev/null || true)
if [ -n "$existing" ] && [ "$existing" != "$platform" ]; then
  echo "$name runs $existing, not $platform: remove it first (scripts/deploy-local.sh --destroy)" >&2; exit 2
fi
command -v rsync >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rsync >/dev/null; }
scripts/lib/bootstrap.sh
scripts/lib/docker-engine.sh
scripts/lib/build-image.sh "$platform"
scripts/lib/wheelhouse.sh
mkdir -p .cache/local
secrets=.cache/local/secrets.yml
# Generated once (0600); a secret missing from an older file is added, existing ones are kept.
(umask 077; touch "$secrets"; python3 scripts/lib/local/lab.py secrets "$secrets")
if ! docker container inspect "$name" >/dev/null 2>&1; then
  docker network inspect "$name-net" >/dev/null 2>&1 || docker network create "$name-net" >/dev/null
  docker run -d --name "$name" --hostname "$name" --network "$name-net" --label "mlops.platform=$platform" \
    --cap-add SYS_ADMIN --cap-add NET_ADMIN --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
    --cgroupns=host -v /sys/fs/cgroup:/sys/fs/cgroup:rw --tmpfs /run --tmpfs /run/lock --tmpfs /tmp \
    -v "$MLFLOW_WHEELHOUSE:/opt/wheelhouse:ro" -v "$MLFLOW_APT_CACHE:/var/cache/apt/archives" \
    -p "127.0.0.1:$port:443" --stop-signal SIGRTMIN+3 "$MLFLOW_TEST_IMAGE" /lib/systemd/systemd >/dev/null
fi
[ "$(docker container inspect -f '{{.State.Running}}' "$name")" = true ] || docker start "$name" >/dev/null
inv=scripts/lib/local/inventory.yml
t0=$SECONDS
ansible-playbook -i "$inv" -e "@$secrets" scripts/lib/local/prepare.yml
ansible-playbook -i "$inv" -e "@$secrets" playbooks/site.yml
echo "converge: $((SECONDS - t0)) s"
# Smoke: a client on this machine, through the published HTTPS port (the proxy's self-signed certificate,
# verified), with the MLflow REST API, logged in as the admin (basic auth; the password is read from the
# secrets file, not passed on a command line).
cert=.cache/local/localhost.crt
docker cp "$name:/etc/nginx/mlflow-tls/localhost.crt" "$cert" >/dev/null
python3 scripts/lib/local/lab.py smoke "https://localhost:$port" "$secrets" "$cert"
# The real MLflow client on this machine (.cache/client-venv, the pinned version), through the same HTTPS
# port, with tests/clients/mlflow_roundtrip.py (the molecule scenarios' client too): a run with params and
# metrics, an 8 MB artifact up and back down (sha256 compared), a pyfunc model logged, registered and loaded
# by name. An empty environment but for HOME and the certificate (MLFLOW_TRACKING_SERVER_CERT_PATH): the
# admin login is in MLflow's credentials file ($HOME/.mlflow/credentials, 0600) in a throw-away home, so the
# password is on no command line, and no AWS_* variable reaches the client (artifacts can only go through
# the proxy).
client_python=$(scripts/lib/client-venv.sh)
client_home=$(mktemp -d "$here/.cache/local/client-home.XXXXXX")
trap 'rm -rf "$client_home"' EXIT
(umask 077; mkdir -p "$client_home/.mlflow"
 python3 scripts/lib/local/lab.py credentials "$secrets" "$client_home/.mlflow/credentials")
# MLflow's warnings and progress lines go to a file, shown only when the round trip fails.
if ! roundtrip=$(cd "$client_home" && env -i PATH=/usr/bin:/bin HOME="$client_home" LANG=C.UTF-8 \
    MLFLOW_TRACKING_SERVER_CERT_PATH="$here/$cert" \
    "$client_python" "$here/tests/clients/mlflow_roundtrip.py" "https://localhost:$port" \
    "deploy-local-$(date +%s)" 8 2>"$client_home/client.log"); then
  cat "$client_home/client.log" >&2; echo "smoke: the MLflow client's round trip failed" >&2; exit 1
fi
python3 scripts/lib/local/lab.py report "$roundtrip" "$("$client_python" -c 'import mlflow; print(mlflow.__version__)')"
echo "MLflow UI ($platform): https://localhost:$port  (self-signed: $cert; user admin, password and other secrets in $secrets; remove with: scripts/deploy-local.sh --destroy)"
