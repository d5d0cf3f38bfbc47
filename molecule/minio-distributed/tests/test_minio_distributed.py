"""Four MinIO hosts in distributed mode: the volume list, the unit and the service on each host.

What is checked: every host renders the same distributed volume list in MinIO's ellipsis form, its unit
runs `minio server $MINIO_OPTS $MINIO_VOLUMES` as minio-user with both drives writable in the sandbox,
the service is started on all four and answers /minio/health/live by host name from each host.

What cannot be run here: the MinIO binary itself (dl.min.io is unreachable from the test machines).
The binary is a STAND-IN (tests/standins/minio) that parses the volume list the way MinIO does
(expands the ellipses, requires this host among the endpoints, at least 4 drives) and serves S3 from
SeaweedFS, per host. Erasure coding, quorum and data spread across the four hosts are MinIO's own behaviour
and are NOT exercised by this scenario.
"""

import json

import pytest
from mlflow_checks import group_names

testinfra_hosts = group_names("mlflow_artifacts")

VOLUMES = "http://mlflow-md-{1...4}:9000/srv/minio/data{1...2}"
ENDPOINTS = ["http://mlflow-md-%d:9000/srv/minio/data%d" % (h, d) for h in range(1, 5) for d in range(1, 3)]


def test_distributed_volume_list_in_the_env_file(host):
    env = host.file("/etc/default/minio")
    assert (env.user, env.group, env.mode) == ("root", "minio-user", 0o640)
    assert 'MINIO_VOLUMES="%s"' % VOLUMES in env.content_string
    assert 'MINIO_OPTS="--address :9000 --console-address :9001"' in env.content_string


def test_unit_runs_minio_server_with_both_drives_writable(host):
    unit = host.file("/etc/systemd/system/minio.service").content_string
    assert "ExecStart=/usr/local/bin/minio server $MINIO_OPTS $MINIO_VOLUMES" in unit
    assert "ReadWritePaths=/var/lib/minio /srv/minio/data1 /srv/minio/data2" in unit
    assert "User=minio-user" in unit and "ProtectSystem=strict" in unit and "Restart=on-failure" in unit
    assert "(distributed)" in unit


def test_service_started_and_enabled_as_minio_user(host):
    svc = host.service("minio")
    assert svc.is_running and svc.is_enabled
    main_pid = host.check_output("systemctl show -p MainPID --value minio")
    assert host.check_output("ps -o user= -p %s", main_pid) == "minio-user"


@pytest.mark.parametrize("drive", ["/srv/minio/data1", "/srv/minio/data2"])
def test_binary_read_eight_endpoints_with_this_host_among_them(host, drive):
    marker = json.loads(host.file("%s/.standin-minio.json" % drive).content_string)
    assert marker["mode"] == "distributed"
    assert marker["endpoints"] == ENDPOINTS


def test_every_node_answers_health_by_name(host):
    code = (
        "import urllib.request\n"
        "for n in range(1, 5):\n"
        "    print(urllib.request.urlopen('http://mlflow-md-%d:9000/minio/health/live' % n, timeout=10).status)\n"
    )
    cmd = host.run("python3 -c %s", code)
    assert cmd.rc == 0, cmd.stderr
    assert cmd.stdout.split() == ["200"] * 4
