# shellcheck shell=bash
# Sourced by the other scripts: tool venv on PATH and Ansible pointed at this checkout.
MLFLOW_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export MLFLOW_REPO
export PATH="$MLFLOW_REPO/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$MLFLOW_REPO/.cache/collections"
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false
export ANSIBLE_CONFIG="$MLFLOW_REPO/ansible.cfg"
export MLFLOW_WHEELHOUSE="$MLFLOW_REPO/.cache/wheelhouse"
export MLFLOW_TEST_IMAGE=${MLFLOW_TEST_IMAGE:-mlops-mlflow-test:debian12}
# molecule installs the collection under $ANSIBLE_HOME/collections: keep that per checkout, or two clones
# (a CI clone and a work tree) overwrite each other's copy and one tests the other's code.
export ANSIBLE_HOME="$MLFLOW_REPO/.cache/ansible-home"
export MLFLOW_TEST_IMAGE_READY=${MLFLOW_TEST_IMAGE_READY:-$MLFLOW_TEST_IMAGE-ready}
