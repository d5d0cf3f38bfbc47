#!/usr/bin/env bash
# Make sure a Docker engine answers. On Debian, as root, with none running, install docker.io
# and start dockerd in the background (CI machines have no systemd as PID 1).
set -euo pipefail
if docker info >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "No Docker engine answers and this is not root: start Docker yourself, then re-run." >&2; exit 1
fi
if ! command -v dockerd >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq docker.io >/dev/null
fi
if [ -d /run/systemd/system ] && systemctl start docker 2>/dev/null; then :; else
  nohup dockerd >/var/log/dockerd.log 2>&1 &
fi
for _ in $(seq 60); do docker info >/dev/null 2>&1 && exit 0; sleep 1; done
echo "dockerd did not answer within 60 s; see /var/log/dockerd.log" >&2; exit 1
