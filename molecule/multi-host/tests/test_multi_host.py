"""Three hosts: PostgreSQL, MinIO and the MLflow server, each on its own container.

The MinIO binary is a STAND-IN (tests/standins/minio: MinIO's command line and health endpoints in
front of SeaweedFS, which checks every signature against the root credentials), installed by the minio role through mlflow_minio_binary_src
because the real binary cannot be downloaded on the test machines. The unit, env file, user and
sandbox are the role's; every S3 request below is real S3 protocol traffic.
"""

import json
import os

import pytest
from mlflow_checks import (
    BUCKET_SCOPED_ACCESS,
    ENV_FILE,
    ENV_PYTHON,
    FILES,
    ansible_log,
    assert_no_secret_anywhere,
    assert_run_artifact_in_bucket,
    assert_run_rows_in_postgresql,
    assert_sandboxed_process,
    default_ipv4,
    group_hosts,
    group_names,
    private_key_lines,
    run_env_script,
    run_roundtrip,
    sql,
    tls_handshake,
    unit_exposure,
)

testinfra_hosts = group_names("mlflow_server")

PG_CONNECT = os.path.join(FILES, "pg_connect.py")
S3_PROBE = os.path.join(FILES, "s3_probe.py")
CA = "/etc/ssl/mlflow-test-ca.pem"  # the test CA of MinIO's certificate (prepare.yml)


@pytest.fixture(scope="module")
def db_host():
    return group_hosts("mlflow_db")[0]


@pytest.fixture(scope="module")
def minio_host():
    return group_hosts("mlflow_artifacts")[0]


DB_CA = "/etc/mlflow/db-ca.pem"  # mlflow_db_ssl_ca as the server role copies it (the same test CA)
VERIFY_FULL = ("sslmode=verify-full", "sslrootcert=%s" % DB_CA)


def connect_as_mlflow(host, python, password, *options, db_address="mlflow-mh-db"):
    """A login to the MLflow database as mlflow, from the host, with libpq options: "CONNECTED ssl=on|off", or
    "REFUSED <error>"."""
    return run_env_script(host, PG_CONNECT, db_address, password, *options, what="pg_connect.py", python=python)


def test_endpoint_is_derived_from_the_artifact_host(host):
    content = host.file(ENV_FILE).content_string
    assert 'MLFLOW_S3_ENDPOINT_URL="https://mlflow-mh-minio:9000"' in content
    assert 'AWS_CA_BUNDLE="%s"' % CA in content


def test_server_host_connects_to_postgresql_over_verified_tls(host, hostvars):
    assert connect_as_mlflow(host, ENV_PYTHON, hostvars["mlflow_db_password"], *VERIFY_FULL) == "CONNECTED ssl=on"


def test_postgresql_refuses_the_server_host_without_tls(host, hostvars):
    out = connect_as_mlflow(host, ENV_PYTHON, hostvars["mlflow_db_password"], "sslmode=disable")
    assert out.startswith("REFUSED") and "no pg_hba.conf entry" in out and "no encryption" in out, out


def test_the_certificate_check_is_real_another_name_is_refused(host, db_host, hostvars):
    # The same server, reached by its address instead of the name in its certificate: verify-full refuses it.
    address = default_ipv4(db_host)
    out = connect_as_mlflow(host, ENV_PYTHON, hostvars["mlflow_db_password"], *VERIFY_FULL, db_address=address)
    assert out.startswith("REFUSED") and 'server certificate for "mlflow-mh-db"' in out, out
    assert 'does not match host name "%s"' % address in out, out


def test_mlflow_connects_with_verify_full_and_every_session_is_encrypted(host, db_host, roundtrip):
    assert "sslmode=verify-full&sslrootcert=%s" % DB_CA in host.file(ENV_FILE).content_string
    sessions = sql(
        db_host,
        "SELECT count(*) FILTER (WHERE s.ssl), count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) "
        "WHERE a.usename = 'mlflow'",
        db="postgres",
    )
    encrypted, total = (int(n) for n in sessions.split("|"))
    assert total > 0 and encrypted == total, sessions


def test_other_host_is_refused_even_with_the_right_password(minio_host, hostvars):
    # A client on the MinIO host: psycopg2 from the mounted wheelhouse in a throwaway venv.
    setup = minio_host.run(
        "test -x /root/pgclient/bin/python || (python3 -m venv /root/pgclient && "
        "/root/pgclient/bin/pip install -q --no-index --find-links /opt/wheelhouse psycopg2-binary)"
    )
    assert setup.rc == 0, setup.stderr
    out = connect_as_mlflow(minio_host, "/root/pgclient/bin/python", hostvars["mlflow_db_password"])
    assert out.startswith("REFUSED") and "no pg_hba.conf entry" in out, out


def test_pg_hba_admits_only_the_server_address(db_host, host):
    server_ip = default_ipv4(host)
    hba_path = sql(db_host, "SHOW hba_file", db="postgres")
    rules = [
        line.split()
        for line in db_host.file(hba_path).content_string.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert not [r for r in rules if "trust" in r and r[0] != "local"], rules
    mlflow_rules = [r for r in rules if r[0].startswith("host") and r[1] == "mlflow"]
    # hostssl only (mlflow_postgresql_require_tls): the server's address, over TLS.
    assert [(r[0], r[3]) for r in mlflow_rules] == [("hostssl", "%s/32" % server_ip)], mlflow_rules


@pytest.fixture(scope="module")
def roundtrip(host):
    # No proxy in front: MLflow 3.17 hands the client presigned URLs of the store, so it must trust MinIO's CA.
    return run_roundtrip(host, "http://mlflow-mh-server:5000", env={"REQUESTS_CA_BUNDLE": CA})


def test_client_round_trip_goes_through_the_proxy(roundtrip):
    assert roundtrip["artifact_uri"].startswith("mlflow-artifacts:/"), roundtrip


def test_artifacts_are_in_the_minio_bucket(host, roundtrip):
    assert_run_artifact_in_bucket(host, roundtrip)


def test_rows_are_in_postgresql_on_the_db_host(db_host, roundtrip):
    assert_run_rows_in_postgresql(db_host, roundtrip)


def test_minio_runs_as_its_user_with_secrets_only_in_the_env_file(minio_host, hostvars):
    svc = minio_host.service("minio")
    assert svc.is_running and svc.is_enabled
    main_pid = minio_host.check_output("systemctl show -p MainPID --value minio")
    assert minio_host.check_output("ps -o user= -p %s", main_pid) == "minio-user"
    assert minio_host.user("minio-user").shell == "/usr/sbin/nologin"
    env = minio_host.file("/etc/default/minio")
    assert (env.user, env.group, env.mode) == ("root", "minio-user", 0o640)
    assert 'MINIO_VOLUMES="/var/lib/minio/data"' in env.content_string
    secret = hostvars["mlflow_minio_root_password"]
    # what MinIO got from systemd: the password with " \ $ % # and spaces, exactly (mlops.mlflow.env_value)
    environ = minio_host.check_output("tr '\\0' '\\n' < /proc/%s/environ", main_pid).splitlines()
    assert "MINIO_ROOT_PASSWORD=" + secret in environ
    unit = minio_host.file("/etc/systemd/system/minio.service").content_string
    for text in (unit, minio_host.check_output("ps -eo args"), minio_host.check_output("systemctl show minio")):
        assert secret not in text
    for line in (
        "NoNewPrivileges=true",
        "ProtectSystem=strict",
        "ProtectHome=true",
        "PrivateTmp=true",
        "Restart=on-failure",
        "ReadWritePaths=/var/lib/minio /var/lib/minio/data",
        "SystemCallFilter=@system-service",
        "MemoryDenyWriteExecute=true",
    ):
        assert line in unit
    assert_sandboxed_process(minio_host, "minio")


def test_every_unit_the_collection_writes_scores_below_2(host, minio_host):
    """systemd-analyze security exposure (docs/security.md, "systemd sandboxing"): MLflow and MinIO units."""
    assert_sandboxed_process(host, "mlflow")
    assert unit_exposure(host, "mlflow.service") < 2.0
    assert unit_exposure(minio_host, "minio.service") < 2.0


def test_minio_wrote_to_its_data_directory_inside_the_sandbox(minio_host):
    marker = json.loads(minio_host.file("/var/lib/minio/data/.standin-minio.json").content_string)
    assert marker["mode"] == "single" and marker["endpoints"] == ["/var/lib/minio/data"]


def test_large_artifact_upload_throughput(host):
    """Only with MLFLOW_ROUNDTRIP_MB set: a large artifact through the proxy; the client's report (with
    upload_seconds) is written to the file MLFLOW_ROUNDTRIP_REPORT names."""
    size = int(os.environ.get("MLFLOW_ROUNDTRIP_MB", "0"))
    if not size:
        pytest.skip("set MLFLOW_ROUNDTRIP_MB to measure")
    report = run_roundtrip(host, "http://mlflow-mh-server:5000", size)
    assert report["size_bytes"] == size * 1024 * 1024, report
    with open(os.environ["MLFLOW_ROUNDTRIP_REPORT"], "w") as handle:
        json.dump(report, handle)


def test_minio_serves_tls_with_the_provided_certificate_and_its_key_leaks_nowhere(host, minio_host):
    """mlflow_minio_tls_cert/_key from the controller: the handshake by name verifies against the test CA, the key is
    root:minio-user 0640, and its base64 lines are in no Ansible output (every run prints its diffs) or journal."""
    assert tls_handshake(host, "mlflow-mh-minio", 9000, "TLSv1_2", CA) == "TLSv1.2"
    key = minio_host.file("/etc/minio/certs/private.key")
    assert (key.user, key.group, key.mode) == ("root", "minio-user", 0o640)
    key_lines = private_key_lines(minio_host, key.path)
    assert_no_secret_anywhere(minio_host, key_lines, ansible_log())


def test_mlflow_has_its_own_minio_user_limited_to_the_bucket(host, hostvars):
    """The minio role made mlflow_s3_access_key a MinIO user through the admin API (mlops.mlflow.minio_user), with a
    policy for the bucket only; the server holds those keys, never the root credentials."""
    env = host.file(ENV_FILE).content_string
    assert 'AWS_ACCESS_KEY_ID="molecule-mlflow-minio-user"' in env
    assert hostvars["mlflow_minio_root_user"] not in env
    root = {"accessKey": hostvars["mlflow_minio_root_user"], "secretKey": hostvars["mlflow_minio_root_password"]}
    admin_file = "/root/probe-minio-root.json"  # the probe's root keys, for this test only
    host.run_expect(
        [0],
        "umask 077; printf '%%s' %s > %s",
        json.dumps({"identities": [{"name": "admin", "credentials": [root]}]}),
        admin_file,
    )
    try:
        report = run_env_script(host, S3_PROBE, "access", admin_file, what="s3_probe.py access", with_env_file=True)
    finally:
        host.run("rm -f %s", admin_file)
    assert report == BUCKET_SCOPED_ACCESS, report
