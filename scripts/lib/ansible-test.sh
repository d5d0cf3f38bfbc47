#!/usr/bin/env bash
# ansible-test sanity and units for the collection, offline-safe.
# They run on the collection as it ships: `ansible-galaxy collection build` (galaxy.yml's build_ignore is the
# one list of what stays out), unpacked outside the checkout as ansible_collections/mlops/mlflow where
# ansible-test expects it, plus tests/unit and tests/sanity, which ansible-test needs and the tarball leaves out.
set -euo pipefail
source "$(dirname "$0")/env.sh"
"$MLFLOW_REPO/scripts/lib/bootstrap.sh"
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
# Stand-in for get-pip.py (written by mlops.mlflow scripts/lib/ansible-test.sh): ensurepip, then pip itself.
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
rm -rf "$dest" "$root/build" && mkdir -p "$dest" "$root/build"
ansible-galaxy collection build --output-path "$root/build" "$MLFLOW_REPO" >/dev/null
tar -xzf "$root"/build/mlops-mlflow-*.tar.gz -C "$dest"
rm -rf "$root/build"
tar -C "$MLFLOW_REPO" --exclude __pycache__ -cf - tests/unit tests/sanity | tar -C "$dest" -xf -
cd "$dest"
export ANSIBLE_COLLECTIONS_PATH="$root:$MLFLOW_REPO/.cache/collections"
what=${1:-all}
if [ "$what" = all ] || [ "$what" = sanity ]; then
  ansible-test sanity --venv --python 3.11 --color no
fi
if [ "$what" = all ] || [ "$what" = units ]; then
  ansible-test units --venv --python 3.11 --color no
fi
