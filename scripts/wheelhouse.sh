#!/usr/bin/env bash
# Build the shared wheelhouse (.cache/wheelhouse) from tests/wheelhouse-requirements.txt, once.
# Containers mount it read-only, so MLflow is downloaded once per machine, not once per test host.
set -euo pipefail
source "$(dirname "$0")/env.sh"
req="$MLFLOW_REPO/tests/wheelhouse-requirements.txt"
stamp="$MLFLOW_WHEELHOUSE/.stamp-$(sha256sum "$req" | cut -c1-16)"
[ -f "$stamp" ] && exit 0
mkdir -p "$MLFLOW_WHEELHOUSE"
# The containers run Debian 12's Python 3.11; the wheels are built with the tool venv's Python 3.11.
"$MLFLOW_REPO/.venv/bin/python" -m pip wheel -q --disable-pip-version-check -r "$req" -w "$MLFLOW_WHEELHOUSE" 2>&1 \
  | { grep -v "is ignored: it is neither a file nor a directory" || true; }
test "${PIPESTATUS[0]}" = 0
touch "$stamp"
wheels=("$MLFLOW_WHEELHOUSE"/*)
echo "wheelhouse: ${#wheels[@]} wheels, $(du -sh "$MLFLOW_WHEELHOUSE" | cut -f1)"
