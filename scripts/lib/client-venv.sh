#!/usr/bin/env bash
# Host-side MLflow client (.cache/client-venv): the MLflow pinned in roles/_common/defaults/main.yml
# (its dependencies bring pandas and scikit-learn), installed with --no-index from the shared wheelhouse
# into a venv of the Python that built the wheelhouse (3.11, Debian 12's). Rebuilt only when the pin
# changes. Prints the venv's python on stdout; used by deploy-local.sh's smoke test and bench-server.sh.
set -euo pipefail
# shellcheck source=scripts/lib/env.sh disable=SC1091
source "$(dirname "$0")/env.sh"
version=$(sed -n 's/^mlflow_version: *"\([^"]*\)".*/\1/p' "$MLFLOW_REPO/roles/_common/defaults/main.yml")
[ -n "$version" ] || { echo "client-venv: no mlflow_version in roles/_common/defaults/main.yml" >&2; exit 1; }
venv=$MLFLOW_REPO/.cache/client-venv
if [ ! -f "$venv/.mlflow-$version" ]; then
  "$MLFLOW_REPO/scripts/lib/wheelhouse.sh" >&2
  # the base interpreter of the tool venv (python3 on PATH after env.sh), the one that built the wheelhouse
  base_python=$(python3 -c 'import sys; print(getattr(sys, "_base_executable", sys.executable))')
  rm -rf "$venv"
  "$base_python" -m venv "$venv"
  PIP_CONFIG_FILE=/dev/null "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-index \
    --find-links "$MLFLOW_WHEELHOUSE" "mlflow==$version" 2>&1 \
    | { grep -v "is ignored: it is neither a file nor a directory" >&2 || true; }
  test "${PIPESTATUS[0]}" = 0
  touch "$venv/.mlflow-$version"
  echo "client venv: $venv (mlflow $version)" >&2
fi
echo "$venv/bin/python"
