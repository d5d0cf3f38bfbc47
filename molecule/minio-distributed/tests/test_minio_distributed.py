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


# --- MLflow's own MinIO user, made on the first host by mlops.mlflow.minio_user through the admin API ---------------

USER, USER_SECRET = "molecule-md-mlflow-user", "molecule-md-user-pw-T6k2p9Wd"
ATTACH_LOG = "STAND-IN MinIO: policy attach answered madmin-encrypted (argon2id + AES-GCM)"
USER_S3 = (
    "import sys, boto3\n"
    "from botocore.config import Config\n"
    "from botocore.exceptions import ClientError\n"
    "s3 = boto3.client('s3', endpoint_url='http://mlflow-md-1:9000', region_name='us-east-1',\n"
    "    aws_access_key_id=sys.argv[1], aws_secret_access_key=sys.argv[2],\n"
    "    config=Config(s3={'addressing_style': 'path'}, retries={'max_attempts': 1}))\n"
    "s3.list_objects_v2(Bucket='mlflow-artifacts', MaxKeys=1)\n"
    "print('list ok')\n"
    "try:\n"
    "    s3.create_bucket(Bucket='not-mlflows-bucket')\n"
    "    print('create-bucket allowed')\n"
    "except ClientError as error:\n"
    "    print('create-bucket refused', error.response['Error']['Code'])\n"
)


@pytest.fixture
def first_host(host):
    if host.backend.get_hostname() != "mlflow-md-1":
        pytest.skip("the role makes MLflow's user from the first MinIO host (run_once)")
    return host


def test_the_role_installed_argon2_for_the_admin_client(first_host):
    """python3-argon2 is not in the test image: the role installed it (MinIO's attach answer is argon2id)."""
    status = first_host.check_output("dpkg-query -W -f '${Status}' python3-argon2")
    assert status == "install ok installed"
    assert first_host.run("python3 -c 'import argon2.low_level, cryptography, boto3'").rc == 0


def test_the_attach_was_answered_encrypted_once_and_the_user_has_the_policy(first_host):
    """The module attached the policy once (converge; the idempotence run attached nothing) and read the stand-in's
    encrypted answer: it fails unless that answer decrypts and lists the policy."""
    journal = first_host.check_output("journalctl -u minio --no-pager -o cat")
    assert journal.count(ATTACH_LOG) == 1, journal[-2000:]
    state = json.loads(first_host.file("/srv/minio/data1/.standin-seaweedfs/iam.json").content_string)
    assert state["users"][USER]["policies"] == ["mlflow-mlflow-artifacts"]
    assert state["users"][USER]["status"] == "enabled"


def test_the_user_keys_list_the_bucket_and_nothing_more(first_host):
    cmd = first_host.run("python3 -c %s %s %s", USER_S3, USER, USER_SECRET)
    assert cmd.rc == 0, cmd.stderr
    lines = cmd.stdout.splitlines()
    assert lines[0] == "list ok" and lines[1].startswith("create-bucket refused"), lines
