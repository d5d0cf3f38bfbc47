#!/usr/bin/env bash
# Build the shared wheelhouse (.cache/wheelhouse) from tests/wheelhouse-requirements.txt, once.
# Containers mount it read-only, so MLflow is downloaded once per machine, not once per test host.
# It serves every test platform's Python: 3.11 (Debian 12, also the tool venv's, which builds wheels for
# packages published only as source, such as pysftp) and, as binary wheels for x86_64 glibc, 3.13 (Debian 13)
# and 3.12 (Ubuntu 24.04). Keep the list in step with tests/images/platforms.sh.
set -euo pipefail
source "$(dirname "$0")/env.sh"
req="$MLFLOW_REPO/tests/wheelhouse-requirements.txt"
pythons=(3.12 3.13)
stamp="$MLFLOW_WHEELHOUSE/.stamp-$(cat "$req" "$0" | sha256sum | cut -c1-16)"
[ -f "$stamp" ] && exit 0
mkdir -p "$MLFLOW_WHEELHOUSE"
quiet() { "$@" 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }; test "${PIPESTATUS[0]}" = 0; }
pip=("$MLFLOW_REPO/.venv/bin/python" -m pip)
quiet "${pip[@]}" wheel -q --disable-pip-version-check -r "$req" -w "$MLFLOW_WHEELHOUSE"
platforms=(--platform manylinux2014_x86_64)
for glibc in $(seq 17 39); do platforms+=(--platform "manylinux_2_${glibc}_x86_64"); done
for py in "${pythons[@]}"; do
  abi=cp${py/./}
  # The wheels built above (pure Python) are found through --find-links; the rest are PyPI's binary wheels.
  quiet "${pip[@]}" download -q --disable-pip-version-check --only-binary=:all: --python-version "$py" \
    --implementation cp --abi "$abi" --abi abi3 --abi none "${platforms[@]}" \
    --find-links "$MLFLOW_WHEELHOUSE" -d "$MLFLOW_WHEELHOUSE" -r "$req"
done
rm -f "$MLFLOW_WHEELHOUSE"/.stamp-*
touch "$stamp"
wheels=("$MLFLOW_WHEELHOUSE"/*)
echo "wheelhouse: ${#wheels[@]} wheels for Python 3.11 ${pythons[*]}, $(du -sh "$MLFLOW_WHEELHOUSE" | cut -f1)"
