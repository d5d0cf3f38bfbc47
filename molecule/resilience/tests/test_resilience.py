"""Fault tests on the all-in-one host: each breaks one part, measures the recovery and prints one line
"RESILIENCE <fault>: ..." with its figure; the bounds are asserted.

The object store is the MinIO STAND-IN binary (tests/standins/minio: SeaweedFS behind MinIO's command
line), installed by the minio role; SeaweedFS writes every object to disk as it arrives, as MinIO does. Everything else is real: systemd,
PostgreSQL, the MLflow server and client, S3 traffic.

The measurements run inside the host (files/faults.py), next to the services, so Ansible's own latency
is not in the figures. Tests run in file order; each starts from a healthy system (fixture `healthy`).
"""

import json
import os
import subprocess
import time

import pytest
from mlflow_checks import ENV_PYTHON, MLFLOW_API, bucket_objects, copy_script, group_names, run_env_script, sql

testinfra_hosts = group_names("mlflow_server")

FAULTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "files", "faults.py")

# Bounds: from the scenario's runs on the 2-core test machine shared with other test containers (the
# table in docs/operations.md, "Failures and recovery"), with a margin of about 3x for a busier machine.
# kill -9: systemd restarts MLflow after RestartSec=5 s; most of the rest is the new server's start-up
# (the CLI, then 4 uvicorn workers importing MLflow at once on 2 cores): 20-36 s in the scenario's runs.
KILL9_BOUND_S = 120
# PostgreSQL restart (2.4-2.8 s): the longest stretch without an acknowledged metric call; 0.26-0.57 s measured.
PG_GAP_BOUND_S = 20
# Object store down: from the stop to the client's error, with 2 retries and a 60 s request timeout;
# 4.6-5 s measured. A client stuck on the dead store would need at least one request timeout, 60 s.
STORE_ERROR_BOUND_S = 60
# The upload client is killed by `timeout` after this long: exit 124 = it hung.
UPLOAD_HANG_LIMIT_S = 300
# Container restart: from `docker restart` until every unit is active and /health and a write of each
# kind work; 22-43 s measured (mostly MLflow's start-up, as for kill -9).
REBOOT_BOUND_S = 150
HEALTH = "http://127.0.0.1:5000/health"


def report(line):
    print("\nRESILIENCE %s" % line, flush=True)


def faults(host, *args):
    return run_env_script(host, FAULTS, *map(str, args), what="faults.py %s" % args[0])


@pytest.fixture(autouse=True)
def healthy(host):
    state = faults(host, "wait-healthy", 180)
    assert state["healthy"], "the system is not healthy before the test: %s" % state


def test_kill9_of_the_mlflow_main_process(host):
    result = faults(host, "kill9", 300)
    report(
        "kill-9: healthy+write after %s s (health after %s s; bound %d s); MainPID %s -> %s"
        % (result["write_s"], result["health_s"], KILL9_BOUND_S, result["old_pid"], result["new_pid"])
    )
    assert result["new_pid"] not in (0, result["old_pid"]), result
    assert result["restarts_after"] == result["restarts_before"] + 1, "systemd did not restart it: %s" % result
    assert result["write_s"] is not None and result["write_s"] < KILL9_BOUND_S, result


def test_postgresql_restart_while_a_client_logs_metrics(host):
    result = faults(host, "pg-restart")
    in_db = {
        int(step)
        for step in sql(
            host,
            "SELECT DISTINCT step FROM metrics WHERE run_uuid = '%s' AND key = '%s'"
            % (result["run_id"], result["key"]),
        ).split()
    }
    acked = result["acked_steps"]
    missing = sorted(set(acked) - in_db)
    report(
        "postgresql-restart: %d metric calls acknowledged, %d missing from the database; %d failed calls "
        "(retried); longest gap %s s (bound %d s); restart took %s s; MLflow MainPID %s"
        % (
            len(acked),
            len(missing),
            result["failed_calls"],
            result["longest_gap_s"],
            PG_GAP_BOUND_S,
            result["restart_s"],
            "unchanged" if result["mlflow_pid_after"] == result["mlflow_pid_before"] else "CHANGED",
        )
    )
    if result["errors"]:
        print("RESILIENCE postgresql-restart errors seen by the client: %s" % json.dumps(result["errors"]))
    assert result["restart_rc"] == 0, result
    assert not missing, "acknowledged but not in PostgreSQL: %s" % missing
    assert result["mlflow_pid_after"] == result["mlflow_pid_before"], result
    assert result["mlflow_restarts_after"] == result["mlflow_restarts_before"], result
    assert result["acked_after_restart"] >= 5, "writes did not resume after the restart: %s" % result
    assert result["longest_gap_s"] < PG_GAP_BOUND_S, result


def test_object_store_down_during_an_upload(host):
    size_mb = 256
    result = faults(host, "store-down", size_mb, UPLOAD_HANG_LIMIT_S)
    report(
        "store-down: store stopped %s s into a %d MB upload (%d MB received); client error after %s s "
        "(bound %d s, exit %s: %s); store back in %s s; retry succeeded in %s s"
        % (
            result["stopped_at_s"],
            size_mb,
            result["store_received_before_stop"] // 2**20,
            result["error_after_stop_s"],
            STORE_ERROR_BOUND_S,
            result["client_rc"],
            result["client_output"][0],
            result["store_back_s"],
            result["retry_s"],
        )
    )
    assert result["stopped_at_s"] is not None, "the upload ended before the store received 32 MB: %s" % result
    assert result["client_rc"] not in (0, 124), "the client did not get an error (124: it hung): %s" % result
    assert result["client_output"][0].startswith("UPLOAD FAILED"), result
    assert result["error_after_stop_s"] < STORE_ERROR_BOUND_S, result
    assert result["retry_rc"] == 0 and result["retry_output"] == ["UPLOADED"], result
    prefix = "%s/%s/artifacts/" % (result["experiment_id"], result["run_id"])
    objects = bucket_objects(host, "mlflow-artifacts", prefix)
    assert objects == {prefix + "data/blob.bin": result["size_bytes"]}, objects


def docker(*args, check=True):
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check)


def test_container_restart_brings_every_service_back(host, hostvars):
    container = hostvars["inventory_hostname"]
    units = ["postgresql", "minio", "mlflow"]
    # postgresql.service is a wrapper that stays "active" without a cluster: check the cluster unit too.
    units += host.check_output("systemctl list-units --plain --no-legend --type=service 'postgresql@*'").split()[:1]
    assert units[-1].startswith("postgresql@"), units
    for unit in units:
        assert host.service(unit).is_enabled or unit.startswith("postgresql@"), "%s is not enabled" % unit
    metrics_before = sql(host, "SELECT count(*) FROM metrics")
    probe = copy_script(host, FAULTS)
    api = copy_script(host, MLFLOW_API)

    started = time.monotonic()
    # A clean reboot: systemd in the container gets up to 60 s to stop the services (docker's default: 10).
    docker("restart", "--time", "60", container)
    restarted = time.monotonic() - started
    up, states = None, []
    while time.monotonic() - started < 300:
        states = docker("exec", container, "systemctl", "is-active", *units, check=False).stdout.split()
        answer = docker("exec", container, "python3", api, "get", HEALTH, "--timeout", "2", check=False)
        health = answer.returncode == 0 and json.loads(answer.stdout)[0] == 200
        if states == ["active"] * len(units) and health:
            up = time.monotonic() - started
            break
        time.sleep(1)
    assert up is not None, "not every unit came back: %s" % dict(zip(units, states))
    write = docker("exec", container, ENV_PYTHON, probe, "probe", check=False)
    written = time.monotonic() - started
    assert write.returncode == 0, write.stderr[-3000:]
    result = json.loads(write.stdout.strip().splitlines()[-1])
    report(
        "container-restart: docker restart took %.1f s; every unit active and /health up after %.1f s, "
        "a write of each kind (experiment, run, metric, artifact) done after %.1f s (bound %d s)"
        % (restarted, up, written, REBOOT_BOUND_S)
    )
    assert result["artifacts"] == ["note.txt"], result
    assert sql(host, "SELECT count(*) FROM metrics") == str(int(metrics_before) + 1)
    assert written < REBOOT_BOUND_S
