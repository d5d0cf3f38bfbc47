# shellcheck shell=bash
# Sourced by the other scripts: tool venv on PATH and Ansible pointed at this checkout.
MLFLOW_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export MLFLOW_REPO
export PATH="$MLFLOW_REPO/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$MLFLOW_REPO/.cache/collections"
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false
export ANSIBLE_CONFIG="$MLFLOW_REPO/ansible.cfg"
export MLFLOW_WHEELHOUSE="$MLFLOW_REPO/.cache/wheelhouse"
# molecule installs the collection under $ANSIBLE_HOME/collections: keep that per checkout, or two clones
# (a CI clone and a work tree) overwrite each other's copy and one tests the other's code.
export ANSIBLE_HOME="$MLFLOW_REPO/.cache/ansible-home"
mlflow_platform() {  # mlflow_platform NAME: the test images and the apt cache of platform NAME (tests/images/platforms.sh)
  export MLFLOW_TEST_PLATFORM=$1
  export MLFLOW_TEST_IMAGE=mlops-mlflow-test:$1
  export MLFLOW_TEST_IMAGE_READY=mlops-mlflow-test:$1-ready
  # One apt archive cache per platform (mounted into its containers): the same file name can be another build.
  # And one per test lane (scripts/test.sh): apt in two scenarios' hosts at once would wait for each other's lock.
  export MLFLOW_APT_CACHE=$MLFLOW_REPO/.cache/apt-archives/$1${MLFLOW_APT_CACHE_LANE:+-lane-$MLFLOW_APT_CACHE_LANE}
  mkdir -p "$MLFLOW_APT_CACHE/partial"
}
mlflow_platform "${MLFLOW_TEST_PLATFORM:-debian12}"
