#!/bin/bash
# STAND-IN, NOT MINIFORGE. A self-extracting installer built by tests/standins/conda/build.py for the
# conda contract test. It takes Miniforge's batch options (-b -p PREFIX) and installs a base
# environment holding Python @PYTHON_VERSION@ (a conda package made from Debian 12's Python) and a
# STAND-IN `conda` command that only implements what roles/python_env calls (`conda create`).
set -euo pipefail
usage() { echo "usage: $0 -b [-p PREFIX] [-u]   (stand-in of the Miniforge installer)"; }
PREFIX="$HOME/miniforge3"; BATCH=0; UPDATE=0
while getopts "bp:uh" opt; do
  case "$opt" in
    b) BATCH=1 ;;
    p) PREFIX=$OPTARG ;;
    u) UPDATE=1 ;;
    h) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
[ "$BATCH" = 1 ] || { echo "this stand-in only runs in batch mode (-b)" >&2; exit 2; }
case "$PREFIX" in /*) ;; *) echo "ERROR: PREFIX must be an absolute path: $PREFIX" >&2; exit 1 ;; esac
if [ -e "$PREFIX" ] && [ "$UPDATE" = 0 ]; then
  # Miniforge's message and behaviour
  echo "ERROR: File or directory already exists: '$PREFIX'" >&2
  echo "If you want to update an existing installation, use the -u option." >&2
  exit 1
fi
command -v bzip2 >/dev/null || { echo "ERROR: bzip2 is needed to extract the packages" >&2; exit 1; }
# Unpack inside the prefix, as Miniforge does: /tmp is often mounted noexec.
mkdir -p "$PREFIX"
tmp="$PREFIX/_standin_installer"
rm -rf "$tmp" && mkdir "$tmp"
trap 'rm -rf "$tmp"' EXIT
echo "PREFIX=$PREFIX"
echo "Unpacking payload ..."
skip=$(awk '/^__PAYLOAD_BELOW__$/ { print NR + 1; exit 0 }' "$0")
tail -n +"$skip" "$0" | tar -x -C "$tmp"
mkdir "$tmp/boot"
tar -xjf "$tmp"/base-channel/linux-64/python-*.tar.bz2 -C "$tmp/boot"
"$tmp/boot/bin/python3" -I "$tmp/install_base.py" "$PREFIX" "$tmp"
echo "installation finished."
exit 0
# shellcheck disable=SC2317  # the tar payload's marker, never run: awk above finds the line after it
__PAYLOAD_BELOW__
