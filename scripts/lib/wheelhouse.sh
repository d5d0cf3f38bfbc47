#!/usr/bin/env bash
# Build the shared wheelhouse (.cache/wheelhouse) from tests/wheelhouse-requirements.txt, once.
# Containers mount it read-only, so MLflow is downloaded once per machine, not once per test host.
# It serves the Python of every test platform (tests/images/platforms.sh): the tool venv's (3.11, Debian 12's)
# builds wheels, also for packages published only as source (pysftp); for the other platforms' Pythons (3.13 on
# Debian 13, 3.12 on Ubuntu 24.04) the binary wheels for x86_64 glibc are downloaded.
set -euo pipefail
source "$(dirname "$0")/env.sh"
source "$MLFLOW_REPO/tests/images/platforms.sh"
req="$MLFLOW_REPO/tests/wheelhouse-requirements.txt"
# Older MLflow versions the upgrade scenario starts from: wheels for the tool venv's Python (Debian 12's) only.
old_reqs=("$MLFLOW_REPO"/tests/wheelhouse-requirements-mlflow-*.txt)
pip=("$MLFLOW_REPO/.venv/bin/python" -m pip)
own=$("${pip[0]}" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
pythons=()
for platform in "${PLATFORMS[@]}"; do
  platform_vars "$platform"
  [ "$python" = "$own" ] || [[ " ${pythons[*]} " == *" $python "* ]] || pythons+=("$python")
done
stamp="$MLFLOW_WHEELHOUSE/.stamp-$(echo "${pythons[*]}" | cat - "$req" "${old_reqs[@]}" "$MLFLOW_REPO"/roles/python_env/files/constraints/*.txt | sha256sum | cut -c1-16)"
[ -f "$stamp" ] && exit 0
mkdir -p "$MLFLOW_WHEELHOUSE"
quiet() { "$@" 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }; test "${PIPESTATUS[0]}" = 0; }
quiet "${pip[@]}" wheel -q --disable-pip-version-check -r "$req" -w "$MLFLOW_WHEELHOUSE"
for old in "${old_reqs[@]}"; do
  quiet "${pip[@]}" wheel -q --disable-pip-version-check -r "$old" -w "$MLFLOW_WHEELHOUSE"
done
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
echo "wheelhouse: ${#wheels[@]} wheels for Python $own ${pythons[*]}, $(du -sh "$MLFLOW_WHEELHOUSE" | cut -f1)"
