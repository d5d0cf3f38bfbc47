#!/usr/bin/env bash
# Benchmark: db_upgrade's no-op path vs `mlflow db upgrade`, on a deployed host (a container made by
# scripts/deploy-local.sh or a molecule scenario). Prints the median of N runs of each.
#   scripts/bench-db-upgrade.sh [container] [runs]
set -euo pipefail
source "$(dirname "$0")/lib/env.sh"
c=${1:-mlflow-local}; n=${2:-5}
# the program db_upgrade sends to the MLflow interpreter
docker exec -i "$c" tee /root/db_upgrade_helper.py >/dev/null <"$MLFLOW_REPO/plugins/module_utils/mlflow_db_helper.py"
docker exec -i "$c" bash -s "$n" <<'SH'
set -eu
n=$1
set -a; . /etc/mlflow/mlflow.env; set +a
py=/opt/mlflow/current/bin/python
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
t() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); echo "$e - $s" | bc; }
command -v bc >/dev/null || { apt-get install -y -qq bc >/dev/null 2>&1; }
req=$(printf '{"uri": "%s", "apply": false}' "$MLFLOW_BACKEND_STORE_URI")
a=$(for _ in $(seq "$n"); do t bash -c "echo '$req' | $py /root/db_upgrade_helper.py"; done | median)
b=$(for _ in $(seq "$n"); do t /opt/mlflow/current/bin/mlflow db upgrade "$MLFLOW_BACKEND_STORE_URI"; done | median)
echo "db_upgrade no-op (module's helper, median of $n): ${a} s"
echo "mlflow db upgrade no-op (CLI, median of $n):     ${b} s"
SH
docker exec "$c" rm -f /root/db_upgrade_helper.py
