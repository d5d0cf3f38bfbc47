#!/usr/bin/env bash
# Benchmark the tracking server's settings on a deployed host (default: the mlflow-local container of
# scripts/deploy-local.sh): for each variant it rewrites the env file, restarts the service, waits for
# /health, then measures sequential log_metric latency on one kept-alive connection, throughput with
# 8 concurrent clients for a fixed time, and the service's memory. Restores the deployed env file at the end.
#   scripts/bench-server.sh [container] [seconds-per-throughput-run]
set -euo pipefail
c=${1:-mlflow-local}; secs=${2:-15}
docker exec "$c" cp -p /etc/mlflow/mlflow.env /root/mlflow.env.bench-orig
trap 'docker exec "$c" bash -c "cp -p /root/mlflow.env.bench-orig /etc/mlflow/mlflow.env && systemctl restart mlflow"' EXIT
docker exec -i "$c" tee /root/bench_client.py >/dev/null <<'PY'
import json, statistics, sys, threading, time, requests
base, secs = sys.argv[1], float(sys.argv[2])
s = requests.Session()
exp = s.post(base + "/api/2.0/mlflow/experiments/create", json={"name": "bench-%f" % time.time()}).json()["experiment_id"]
def new_run(sess):
    return sess.post(base + "/api/2.0/mlflow/runs/create", json={"experiment_id": exp}).json()["run"]["info"]["run_id"]
def log(sess, run, i):
    r = sess.post(base + "/api/2.0/mlflow/runs/log-metric", json={"run_id": run, "key": "m", "value": i, "timestamp": int(time.time() * 1000), "step": i})
    r.raise_for_status()
run = new_run(s)
lat = []
for i in range(200):
    t = time.perf_counter(); log(s, run, i); lat.append((time.perf_counter() - t) * 1000)
count = [0]; lock = threading.Lock(); stop = time.monotonic() + secs
def worker():
    sess = requests.Session(); r = new_run(sess); n = 0
    while time.monotonic() < stop:
        log(sess, r, n); n += 1
    with lock: count[0] += n
threads = [threading.Thread(target=worker) for _ in range(8)]
[t.start() for t in threads]; [t.join() for t in threads]
print(json.dumps({"seq_ms_median": round(statistics.median(lat), 1), "seq_ms_p90": round(sorted(lat)[180], 1), "rps_8_clients": round(count[0] / secs, 1)}))
PY
printf '%-34s %10s %10s %12s %10s\n' variant "seq ms p50" "seq ms p90" "req/s (8c)" "memory MB"
variant() {  # variant NAME KEY=VALUE...
  local name=$1; shift
  docker exec -i "$c" bash -s "$@" <<'SH'
set -eu
cp -p /root/mlflow.env.bench-orig /etc/mlflow/mlflow.env
for kv in "$@"; do k=${kv%%=*}; sed -i "/^$k=/d" /etc/mlflow/mlflow.env; echo "$k=\"${kv#*=}\"" >> /etc/mlflow/mlflow.env; done
systemctl restart mlflow
for _ in $(seq 120); do /opt/mlflow/venv/bin/python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5000/health', timeout=2)" 2>/dev/null && break; sleep 1; done
sleep 5
SH
  local out mem
  out=$(docker exec "$c" env -i PATH=/usr/bin:/bin /opt/mlflow/venv/bin/python /root/bench_client.py http://127.0.0.1:5000 "$secs")
  mem=$(docker exec "$c" systemctl show -p MemoryCurrent --value mlflow)
  python3 -c "import json,sys; d=json.loads(sys.argv[2]); m=sys.argv[3]; m=int(m)//2**20 if m.isdigit() else m; print('%-34s %10s %10s %12s %10s' % (sys.argv[1], d['seq_ms_median'], d['seq_ms_p90'], d['rps_8_clients'], m))" "$name" "$out" "$mem"
}
variant "4 workers, uvloop (default)" MLFLOW_WORKERS=4
variant "4 workers, asyncio loop" MLFLOW_WORKERS=4 "MLFLOW_UVICORN_OPTS=--loop asyncio"
variant "8 workers, uvloop" MLFLOW_WORKERS=8
variant "2 workers, uvloop" MLFLOW_WORKERS=2
variant "4 workers, uvloop, job runner on" MLFLOW_WORKERS=4 MLFLOW_SERVER_ENABLE_JOB_EXECUTION=true
