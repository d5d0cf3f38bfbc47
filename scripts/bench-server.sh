#!/usr/bin/env bash
# The seed guide's `mlflow server` against this collection's deployment as shipped, side by side, in one run
# on the deploy-local container (scripts/deploy-local.sh first): same container, same PostgreSQL, same S3
# store, same clients.
#   (a) guide       the guide's command line, started here in the container on port 5001 in a transient
#                   systemd unit (so its memory can be read), with the store's endpoint and keys from
#                   /etc/mlflow/mlflow.env, no auth, no uvicorn options; stopped once measured. It runs from
#                   the guide's own install, `pip install mlflow psycopg2-binary boto3` (same MLflow pin, from
#                   the wheelhouse), made once in the container at /opt/mlflow-guide-venv: without the
#                   collection's uvloop and httptools, uvicorn picks what the guide's users get (asyncio, h11).
#                   BENCH_GUIDE_VENV=/opt/mlflow/current runs it from the collection's venv instead.
#                     mlflow server --backend-store-uri postgresql+psycopg2://... --artifacts-destination
#                       s3://<bucket> --serve-artifacts --host 0.0.0.0 --port 5001 --workers 8
#                   (the guide's bare postgresql:// selects psycopg 3 with SQLAlchemy 2.1, which is not
#                   installed; the URI comes from the environment, MLFLOW_BACKEND_STORE_URI, so the
#                   database password is not in the process list)
#   (b) direct      the collection's server, 127.0.0.1:5000 in the container, basic auth on
#   (c) via proxy   the collection's server through the TLS proxy, from this machine: https://localhost:8443
# Per server: sequential log_metric p50/p90 (the real MlflowClient, 200 calls, one kept session), requests/s
# with 8 and with 16 concurrent clients (BENCH_SECONDS each), the unit's memory (MemoryCurrent) after that
# load. Then a BENCH_MB artifact up and down through the proxy from this machine (the MLflow client) against
# boto3 straight to the store inside the container. Clients for (a) and (b) run in the container with the
# server's venv; (c) uses the host client venv (scripts/lib/client-venv.sh). Logged in as the admin of
# .cache/local/secrets.yml: MLFLOW_TRACKING_USERNAME/PASSWORD passed by name to docker exec (b), MLflow's
# credentials file in a throw-away HOME (c); the password is on no command line.
#   scripts/bench-server.sh              the side by side, ~5 min
#   scripts/bench-server.sh --variants   then the collection's server restarted with other settings (direct,
#                                        latency and 8 clients only), ~1 min each; env file restored after
#   scripts/bench-server.sh --variants-only   the variants alone
# Environment: BENCH_CONTAINER (mlflow-local), MLFLOW_LOCAL_PORT (8443), BENCH_SECONDS (15), BENCH_MB (200).
# Results: one JSON object a line in .cache/local/bench/<UTC time>.jsonl and the report printed at the end in
# <UTC time>.txt next to it; both are kept (also what a run that stopped early had measured). Only the throw-away
# client home (the admin's credentials file) is removed on exit.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
source scripts/lib/env.sh
c=${BENCH_CONTAINER:-mlflow-local}; port=${MLFLOW_LOCAL_PORT:-8443}
secs=${BENCH_SECONDS:-15}; mb=${BENCH_MB:-200}; guide_port=5001; guide_unit=mlflow-bench-guide
guide_venv=${BENCH_GUIDE_VENV:-/opt/mlflow-guide-venv}
version=$(sed -n 's/^mlflow_version: *"\([^"]*\)".*/\1/p' roles/_common/defaults/main.yml)
variants=false; sides=true
case "${1:-}" in
  "") ;;
  --variants) variants=true ;;
  --variants-only) variants=true; sides=false ;;
  -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
  *) echo "usage: $0 [--variants | --variants-only | --help]" >&2; exit 2 ;;
esac
[ -n "$version" ] || { echo "no mlflow_version in roles/_common/defaults/main.yml" >&2; exit 1; }
secrets=$here/.cache/local/secrets.yml; cert=$here/.cache/local/localhost.crt
[ "$(docker container inspect -f '{{.State.Running}}' "$c" 2>/dev/null)" = true ] \
  || { echo "container $c is not running: scripts/deploy-local.sh first" >&2; exit 1; }
{ [ -r "$secrets" ] && [ -r "$cert" ]; } || { echo "no $secrets or $cert: scripts/deploy-local.sh first" >&2; exit 1; }
password=$(sed -n 's/^mlflow_auth_admin_password: *"\(.*\)"$/\1/p' "$secrets")
[ -n "$password" ] || { echo "no mlflow_auth_admin_password in $secrets" >&2; exit 1; }
client_python=$(scripts/lib/client-venv.sh)
# Kept: the measurements (and the report) of every run. Removed on exit: $work, the throw-away client home.
mkdir -p .cache/local/bench
results=$here/.cache/local/bench/$(date -u +%Y%m%dT%H%M%SZ).jsonl
report=${results%.jsonl}.txt
: >"$results"
work=$(mktemp -d "$here/.cache/local/bench.XXXXXX")
cleanup() {
  docker exec "$c" bash -c "systemctl stop $guide_unit 2>/dev/null; rm -f /root/bench-guide.env /root/bench_client.py
    if [ -f /root/mlflow.env.bench-orig ]; then
      cp -p /root/mlflow.env.bench-orig /etc/mlflow/mlflow.env && rm -f /root/mlflow.env.bench-orig && systemctl restart mlflow
    fi" || true
  rm -rf "$work"
  if [ -s "$results" ]; then echo "bench: results in $results" >&2; else rm -f "$results"; fi
}
trap cleanup EXIT
(umask 077; mkdir -p "$work/home/.mlflow"
 printf '[mlflow]\nmlflow_tracking_username = admin\nmlflow_tracking_password = %s\n' "$password" \
   > "$work/home/.mlflow/credentials")
docker cp scripts/lib/bench_client.py "$c:/root/bench_client.py" >/dev/null
echo "bench: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), containers running: $(docker ps -q | wc -l)"

record() {  # record SERVER KIND JSON
  python3 -c 'import json, sys; d = json.loads(sys.argv[3]); d.update(server=sys.argv[1], kind=sys.argv[2]); print(json.dumps(d))' \
    "$1" "$2" "$3" | tee -a "$results"
}
box_client() {  # box_client ARGS...: bench_client.py in the container with the server's venv, as the admin
  MLFLOW_TRACKING_USERNAME=admin MLFLOW_TRACKING_PASSWORD=$password \
    docker exec -w /tmp -e MLFLOW_TRACKING_USERNAME -e MLFLOW_TRACKING_PASSWORD "$c" \
    /opt/mlflow/current/bin/python /root/bench_client.py "$@"
}
host_client() {  # host_client ARGS...: bench_client.py on this machine, empty environment, credentials file
  (cd "$work/home" && env -i PATH=/usr/bin:/bin HOME="$work/home" LANG=C.UTF-8 MLFLOW_TRACKING_SERVER_CERT_PATH="$cert" \
    "$client_python" "$here/scripts/lib/bench_client.py" "$@")
}
memory() {  # memory UNIT: MemoryCurrent in bytes
  docker exec "$c" systemctl show -p MemoryCurrent --value "$1"
}
wait_health() {  # wait_health PORT
  docker exec "$c" bash -c "for _ in \$(seq 180); do
      /opt/mlflow/current/bin/python -c \"import urllib.request; urllib.request.urlopen('http://127.0.0.1:$1/health', timeout=2)\" 2>/dev/null && exit 0
      sleep 1; done; exit 1"
}
measure() {  # measure NAME UNIT CLIENT URL: latency, 8 and 16 clients, memory
  local name=$1 unit=$2 client=$3 url=$4 n
  record "$name" latency "$("$client" latency "$url" 200)"
  for n in 8 16; do record "$name" "load$n" "$("$client" load "$url" "$secs" "$n")"; done
  record "$name" memory "{\"bytes\": \"$(memory "$unit")\"}"  # a number, or [not set] without accounting
}

if $sides; then
# (a) the guide's command line, in a transient unit, on the same database and bucket.
docker exec -i "$c" bash -s "$guide_unit" "$guide_port" "$guide_venv" "$version" <<'SH'
set -eu
unit=$1; port=$2; venv=$3; version=$4
if [ ! -f "$venv/.bench-guide-$version" ] && [ "$venv" != /opt/mlflow/current ]; then
  echo "(a) guide: installing mlflow==$version psycopg2-binary boto3 into $venv (once)"
  rm -rf "$venv"; python3 -m venv "$venv"
  PIP_CONFIG_FILE=/dev/null "$venv/bin/pip" install -q --disable-pip-version-check --no-index --find-links /opt/wheelhouse \
    "mlflow==$version" psycopg2-binary boto3
  touch "$venv/.bench-guide-$version"
fi
env=/etc/mlflow/mlflow.env
(umask 077; grep -E '^(AWS_|MLFLOW_S3_|MLFLOW_BACKEND_STORE_URI=)' "$env" > /root/bench-guide.env)
dest=$(sed -n 's/^MLFLOW_ARTIFACTS_DESTINATION="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$env")
bucket=${dest#s3://}; bucket=${bucket%%/*}
mkdir -p /var/tmp/bench-guide
systemd-run --quiet --unit "$unit" --collect -p MemoryAccounting=yes -p EnvironmentFile=/root/bench-guide.env \
  -p WorkingDirectory=/var/tmp/bench-guide \
  "$venv/bin/mlflow" server --artifacts-destination "s3://$bucket" --serve-artifacts \
  --host 0.0.0.0 --port "$port" --workers 8
SH
t0=$SECONDS
wait_health "$guide_port" || { docker exec "$c" journalctl -u "$guide_unit" --no-pager | tail -30; exit 1; }
echo "(a) guide: up in $((SECONDS - t0)) s ($guide_venv; uvicorn loop and parser: $(docker exec "$c" "$guide_venv/bin/python" -c '
import importlib.util as u; print("uvloop" if u.find_spec("uvloop") else "asyncio", "httptools" if u.find_spec("httptools") else "h11")'))"
measure guide "$guide_unit" box_client "http://127.0.0.1:$guide_port"
docker exec "$c" systemctl stop "$guide_unit"
# (b) and (c): the collection's server as deployed.
measure direct mlflow box_client http://127.0.0.1:5000
measure proxy mlflow host_client "https://localhost:$port"
# Transfers: through the proxy from this machine vs boto3 straight to the store in the container.
record proxy transfer "$(host_client transfer "https://localhost:$port" "$mb")"
record s3 transfer "$(docker exec -w /tmp "$c" /opt/mlflow/current/bin/python /root/bench_client.py s3 /etc/mlflow/mlflow.env "$mb")"
fi

if $variants; then
  docker exec "$c" cp -p /etc/mlflow/mlflow.env /root/mlflow.env.bench-orig
  variant() {  # variant NAME KEY=VALUE...: the deployed env file with these lines replaced, restarted
    local name=$1; shift
    docker exec -i "$c" bash -s "$@" <<'SH'
set -eu
cp -p /root/mlflow.env.bench-orig /etc/mlflow/mlflow.env
for kv in "$@"; do k=${kv%%=*}; sed -i "/^$k=/d" /etc/mlflow/mlflow.env; echo "$k=\"${kv#*=}\"" >> /etc/mlflow/mlflow.env; done
systemctl restart mlflow
SH
    wait_health 5000
    record "$name" latency "$(box_client latency http://127.0.0.1:5000 200)"
    record "$name" load8 "$(box_client load http://127.0.0.1:5000 "$secs" 8)"
    record "$name" memory "{\"bytes\": \"$(memory mlflow)\"}"
  }
  variant "variant: as deployed" MLFLOW_WORKERS=4
  variant "variant: 2 workers" MLFLOW_WORKERS=2
  variant "variant: 8 workers" MLFLOW_WORKERS=8
  variant "variant: asyncio loop" "MLFLOW_UVICORN_OPTS=--loop asyncio"
  # uvicorn's default parser is httptools when installed, else h11 (pure Python): compare both when it is.
  if docker exec "$c" /opt/mlflow/current/bin/python -c 'import httptools' 2>/dev/null; then
    variant "variant: h11 parser" "MLFLOW_UVICORN_OPTS=--http h11"
  else
    echo "variants: httptools is not installed in the server's venv, uvicorn parses HTTP with h11"
  fi
fi

python3 scripts/lib/bench_report.py "$results" "$secs" "$mb" | tee "$report"
echo "bench: report in $report" >&2
