#!/usr/bin/env bash
# ansible-test sanity and units for the collection, offline-safe.
# The collection is copied (what `ansible-galaxy collection build` ships, plus tests/unit and tests/sanity) to
# a directory outside the checkout, as ansible_collections/mlops/mlflow where ansible-test expects it.
# The test harness (molecule/, scripts/, tests/unit_repo) is not part of the shipped collection.
set -euo pipefail
source "$(dirname "$0")/env.sh"
"$MLFLOW_REPO/scripts/bootstrap.sh"
# ansible-test bootstraps pip in its venvs with a script from ci-files.testing.ansible.com, which may be
# unreachable: pre-seed its cache with an equivalent that uses ensurepip and then PyPI.
pip_version=$(python - <<'PY'
import re, ansible_test, pathlib
src = (pathlib.Path(ansible_test.__file__).parent / "_internal/python_requirements.py").read_text()
print(re.search(r"pip='([0-9.]+)'", src).group(1))
PY
)
cache="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
if ! grep -qs "mlops.mlflow" "$cache"; then
  mkdir -p "$(dirname "$cache")"
  cat > "$cache" <<'PY'
# Stand-in for get-pip.py (written by mlops.mlflow scripts/ansible-test.sh): ensurepip, then pip itself.
import subprocess
import sys

subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]  # get-pip.py-only flags
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install"] + args))
PY
fi
# outside any git checkout (ansible-test honours .gitignore of enclosing repos), one per checkout
root="${MLFLOW_ANSIBLE_TEST_ROOT:-/var/tmp/mlops-mlflow-ansible-test-$(echo "$MLFLOW_REPO" | sha1sum | cut -c1-8)}"
dest="$root/ansible_collections/mlops/mlflow"
mkdir -p "$dest"
rsync -a --delete --delete-excluded --exclude .git --exclude .venv --exclude .cache --exclude scripts --exclude .ci \
  --exclude tests/images --exclude tests/output --exclude tests/unit_repo --exclude tests/standins --exclude molecule --exclude .config --exclude '__pycache__' --exclude .ruff_cache --exclude .pytest_cache "$MLFLOW_REPO/" "$dest/"
cd "$dest"
export ANSIBLE_COLLECTIONS_PATH="$root:$MLFLOW_REPO/.cache/collections"
what=${1:-all}
if [ "$what" = all ] || [ "$what" = sanity ]; then
  ansible-test sanity --venv --python 3.11 --color no
fi
if [ "$what" = all ] || [ "$what" = units ]; then
  ansible-test units --venv --python 3.11 --color no
fi
