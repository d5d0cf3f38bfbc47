"""SeaweedFS, the site playbook's default object store (roles/seaweedfs): a real S3 server that checks every
signature. MLflow's identity is limited to its bucket; the admin identity (whose secret holds ", \\, $, %, #
and spaces) created the bucket. Runs last in this scenario: it kills the store with SIGKILL."""

import json
import os
import time

import pytest
from mlflow_checks import (
    BUCKET_SCOPED_ACCESS,
    ENV_FILE,
    FILES,
    SEAWEEDFS_PORTS,
    failed_tasks,
    group_names,
    http_status,
    run_env_script,
    run_playbook,
    unit_exposure,
)

testinfra_hosts = group_names("mlflow_artifacts")
IDENTITIES = "/etc/seaweedfs/s3.json"
PROBE = os.path.join(FILES, "s3_probe.py")
SITE = os.path.join(os.environ.get("MOLECULE_PROJECT_DIRECTORY", "."), "playbooks", "site.yml")


def probe(host, *args):
    return run_env_script(host, PROBE, *args, what="s3_probe.py %s" % args[0], with_env_file=True)


def test_weed_runs_as_its_own_user_on_loopback(host):
    service = host.service("seaweedfs")
    assert service.is_running and service.is_enabled
    procs = [p for p in host.check_output("ps -eo user:20,args").splitlines() if "/usr/local/bin/weed" in p]
    assert procs and all(p.split()[0] == "seaweedfs" for p in procs), procs
    assert host.user("seaweedfs").shell == "/usr/sbin/nologin"
    assert "4.48" in host.check_output("/usr/local/bin/weed version")
    for port in SEAWEEDFS_PORTS:
        listening = host.check_output("ss -Hltn 'sport = :%s' | awk '{print $4}' | sort -u", str(port)).split()
        assert listening and set(listening) <= {"127.0.0.1:%d" % port}, (port, listening)
    assert 'MLFLOW_S3_ENDPOINT_URL="http://127.0.0.1:8333"' in host.file(ENV_FILE).content_string


def test_identities_are_root_owned_0640_and_mlflow_is_limited_to_its_bucket(host, hostvars):
    identities = host.file(IDENTITIES)
    assert (identities.user, identities.group, identities.mode) == ("root", "seaweedfs", 0o640)
    by_name = {i["name"]: i for i in json.loads(identities.content_string)["identities"]}
    assert by_name["mlflow"]["actions"] == [
        "Read:mlflow-artifacts",
        "Write:mlflow-artifacts",
        "List:mlflow-artifacts",
        "Tagging:mlflow-artifacts",
    ]
    assert by_name["mlflow"]["credentials"] == [
        {"accessKey": hostvars["mlflow_s3_access_key"], "secretKey": hostvars["mlflow_s3_secret_key"]}
    ]
    # the secret with " \ $ % # and spaces arrives as written
    assert by_name["admin"]["credentials"][0]["secretKey"] == hostvars["mlflow_seaweedfs_admin_secret_key"]


def test_the_store_checks_signatures_and_scopes(host):
    assert probe(host, "access", IDENTITIES) == BUCKET_SCOPED_ACCESS


def test_unit_is_sandboxed(host):
    assert unit_exposure(host, "seaweedfs.service") <= 2.0


def test_a_wrong_s3_key_stops_the_converge_naming_it_and_changes_nothing(host):
    """The site playbook against the same store as an external endpoint, with a wrong MLflow secret key: the
    server role's bucket check fails with its own message (json callback), before the env file changes, and the
    running server keeps working. Debian 12 only (a site run; the check does not depend on the platform)."""
    if (os.environ.get("MLFLOW_TEST_PLATFORM") or "debian12") != "debian12":
        pytest.skip("a site run: on Debian 12 only")
    env_before = host.file(ENV_FILE).sha256sum
    result = run_playbook(
        SITE,
        os.environ["MOLECULE_INVENTORY_FILE"],
        extra_vars={
            "mlflow_s3_server": "none",
            "mlflow_s3_endpoint_url": "http://127.0.0.1:8333",
            "mlflow_s3_secret_key": "a-wrong-secret-key-0000",
        },
        env={"ANSIBLE_STDOUT_CALLBACK": "json", "ANSIBLE_LOG_PATH": "/dev/null"},
        timeout=600,
    )
    assert result.returncode == 2, result.stdout[-3000:] + result.stderr[-3000:]
    failed = failed_tasks(result.stdout)
    # the bucket module's own failure (rescued), then the role's message, which stops the run
    assert [name for name, _ in failed] == [
        "mlops.mlflow.server : Create the artifact bucket, or check that these keys reach the one the store's role created",
        "mlops.mlflow.server : Name the S3 settings the store refused",
    ], failed
    name, message = failed[-1]
    assert "mlflow_s3_secret_key" in message and "SignatureDoesNotMatch" in message, message
    assert "a-wrong-secret-key-0000" not in result.stdout
    assert host.file(ENV_FILE).sha256sum == env_before
    assert http_status(host, "http://127.0.0.1:5000/health") == 200


def test_objects_survive_kill_9_of_the_store(host):
    before = probe(host, "put", "mlflow-artifacts", "probe/kill-9.bin")
    pid = host.check_output("systemctl show -p MainPID --value seaweedfs")
    host.run_expect([0], "systemctl kill --signal=SIGKILL seaweedfs")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        new_pid = host.check_output("systemctl show -p MainPID --value seaweedfs")
        if new_pid not in ("0", pid) and http_status(host, "http://127.0.0.1:8333/") == 403:
            break
        time.sleep(2)
    else:
        raise AssertionError("SeaweedFS did not come back within 120 s after SIGKILL")
    for _ in range(30):  # the volume server registers with the master a moment after the S3 API answers
        try:
            after = probe(host, "get", "mlflow-artifacts", "probe/kill-9.bin")
            break
        except AssertionError:
            time.sleep(2)
    else:
        after = probe(host, "get", "mlflow-artifacts", "probe/kill-9.bin")
    assert after == before
