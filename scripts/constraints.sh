#!/usr/bin/env bash
# Write roles/python_env/files/constraints/mlflow-VERSION.txt: every package the python_env role can install
# for that MLflow version (MLflow, the drivers of every store, the auth app's Flask-WTF, uvloop, httptools, the
# metrics exporter), resolved once by pip and pinned, so that the same inventory installs the same packages next
# month. The resolution is checked for the Python of every tested platform (binary wheels for 3.12, 3.13).
# Usage: scripts/constraints.sh VERSION [EXTRA REQUIREMENT...]   (extras: caps an old MLflow needs, e.g. for
# 2.20.3 "sqlalchemy<2.1" "numpy<3" "pandas<3" "pyarrow<20": its server breaks with SQLAlchemy 2.1)
set -euo pipefail
source "$(dirname "$0")/lib/env.sh"
source "$MLFLOW_REPO/tests/images/platforms.sh"
version=$1; shift
out="$MLFLOW_REPO/roles/python_env/files/constraints/mlflow-$version.txt"
py="$MLFLOW_REPO/.venv/bin/python"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
packages=("mlflow==$version" psycopg2-binary boto3 uvloop httptools 'Flask-WTF<2' pysftp 'paramiko<4' prometheus-flask-exporter "$@")
"$py" -m pip install -q --disable-pip-version-check --dry-run --ignore-installed --report "$work/r.json" "${packages[@]}"
{
  echo "# Constraints for MLflow $version (pip -c), written by scripts/constraints.sh $version $*"
  echo "# on $(date -u +%Y-%m-%d): every package the python_env role installs for this version, pinned."
  "$py" -c 'import json, sys
r = json.load(open(sys.argv[1]))
for name, version in sorted((i["metadata"]["name"].lower().replace("_", "-"), i["metadata"]["version"]) for i in r["install"]):
    print("%s==%s" % (name, version))' "$work/r.json"
} >"$out"
platforms=(--platform manylinux2014_x86_64)
for glibc in $(seq 17 39); do platforms+=(--platform "manylinux_2_${glibc}_x86_64"); done
for platform in "${PLATFORMS[@]}"; do
  platform_vars "$platform"
  # pysftp has no wheel: resolved above (pure Python); the binary check covers the rest
  "$py" -m pip install -q --disable-pip-version-check --dry-run --ignore-installed --target "$work/t" \
    --only-binary=:all: --python-version "$python" --implementation cp --abi "cp${python/./}" --abi abi3 --abi none \
    "${platforms[@]}" --report "$work/$python.json" -c "$out" "${packages[@]/pysftp}" 2>/dev/null
  "$py" -c 'import json, sys
pinned = {l.split("==")[0] for l in open(sys.argv[2]) if "==" in l}
loose = [i["metadata"]["name"] for i in json.load(open(sys.argv[1]))["install"]
         if i["metadata"]["name"].lower().replace("_", "-") not in pinned]
sys.exit("Python %s installs packages the constraints do not pin: %s" % (sys.argv[3], loose) if loose else 0)' \
    "$work/$python.json" "$out" "$python"
done
echo "$out: $(grep -c '==' "$out") packages, checked for Python ${PLATFORMS[*]}"
