#!/usr/bin/env bash
# STAND-IN builder for the conda tests (see build.py): the installer, its checksum and the local
# channel go to .cache/conda-standin. Rebuilt only when these files or the wheelhouse change.
set -euo pipefail
source "$(dirname "$0")/../../../scripts/lib/env.sh"
here="$MLFLOW_REPO/tests/standins/conda"
out="$MLFLOW_REPO/.cache/conda-standin"
stamp="$out/.stamp-$( (cat "$here"/*; ls "$MLFLOW_WHEELHOUSE") | sha256sum | cut -c1-16)"
# Served inside the container by a DynamicUser web server: readable by everyone whatever the caller's umask.
fix_modes() { chmod -R a+rX "$out"; }
[ -f "$stamp" ] && { fix_modes; exit 0; }
[ -x /usr/bin/python3.11 ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3.11 >/dev/null; }
python "$here/build.py" "$out" "$MLFLOW_WHEELHOUSE"
touch "$stamp"
fix_modes
