#!/usr/bin/env bash
# Controller tooling: .venv with pinned tools, and the collections this one needs
# (taken from the `ansible` wheel on PyPI, since Galaxy may be unreachable), under
# .cache/collections next to a link to this checkout as mlops.mlflow.
# Source scripts/lib/env.sh afterwards (the other scripts do it for you).
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
cd "$here"
ANSIBLE_BUNDLE_VERSION=12.3.0
COLLECTIONS=(community/postgresql community/docker ansible/posix community/crypto)
# pip on some machines warns about every missing local index entry: keep real errors only.
quiet_pip() { "$@" 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }; return "${PIPESTATUS[0]}"; }
stamp=.venv/.bootstrap-$(cat requirements-dev.txt scripts/lib/bootstrap.sh | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' 2>/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
  fi
  # the base interpreter, also when python3 on PATH is this .venv's own (about to be replaced)
  base_python=$(python3 -c 'import sys; print(getattr(sys, "_base_executable", sys.executable))')
  rm -rf .venv
  "$base_python" -m venv .venv
  quiet_pip .venv/bin/pip install -q --upgrade pip
  quiet_pip .venv/bin/pip install -q -r requirements-dev.txt
  rm -rf .cache/collections && mkdir -p .cache/collections/ansible_collections/mlops .cache/dl
  quiet_pip .venv/bin/pip download -q --no-deps "ansible==$ANSIBLE_BUNDLE_VERSION" -d .cache/dl
  whl=$(ls .cache/dl/ansible-"$ANSIBLE_BUNDLE_VERSION"-*.whl)
  .venv/bin/python - "$whl" .cache/collections "${COLLECTIONS[@]}" <<'PY'
import sys, zipfile
whl, dest, wanted = sys.argv[1], sys.argv[2], sys.argv[3:]
prefixes = tuple("ansible_collections/%s/" % c for c in wanted)
with zipfile.ZipFile(whl) as z:
    z.extractall(dest, [n for n in z.namelist() if n.startswith(prefixes)])
PY
  touch "$stamp"
fi
ln -sfn "$here" .cache/collections/ansible_collections/mlops/mlflow
