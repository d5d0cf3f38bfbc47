"""Fault injection and measurement inside the all-in-one test host (molecule scenario `resilience`).

Runs as root with the MLflow environment's Python and an otherwise empty environment, so the timings are
taken next to the services, not through Ansible. Every command prints one JSON line for the test to judge;
it exits non-zero only when it could not do its job (the verdicts are the test's).

  faults.py wait-healthy SECONDS      until mlflow, minio, postgresql are active, /health answers and a write works
  faults.py kill9 LIMIT               kill -9 the MLflow main process; time until /health and a write work again
  faults.py pg-restart                log metrics in a loop; restart PostgreSQL midway; keep logging
  faults.py store-down MB LIMIT       upload an MB artifact; stop the object store mid-upload; start it; retry
  faults.py upload RUN_ID FILE        (used by store-down) one log_artifact call, as a user would run it
  faults.py probe                     /health, then a write of each kind: experiment, run, metric, artifact
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid

URI = "http://127.0.0.1:5000"
STORE_HEALTH = "http://127.0.0.1:9000/minio/health/live"
UNITS = ["postgresql", "minio", "mlflow"]
# The client in the loops must not hide failures behind its own retries (MLflow's default: 7 retries
# with exponential backoff) or wait 120 s on a dead socket: each call fails fast and the loop counts it.
FAST_FAIL = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": "5"}


def systemctl(*args):
    return subprocess.run(["systemctl", *args], capture_output=True, text=True, check=False)


def prop(unit, name):
    return systemctl("show", "-p", name, "--value", unit).stdout.strip()


def url_ok(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 - fixed http:// URLs
            return resp.status == 200
    except Exception:
        return False


def client():
    os.environ.update(FAST_FAIL)
    from mlflow import MlflowClient

    return MlflowClient(URI)


def write_ok(mlflow_client):
    try:
        mlflow_client.create_experiment("probe-%s" % uuid.uuid4().hex[:12])
        return True
    except Exception:
        return False


def emit(**result):
    print(json.dumps(result), flush=True)


def wait_healthy(limit):
    started = time.monotonic()
    deadline = started + limit
    mlflow_client = client()
    while time.monotonic() < deadline:
        units_up = systemctl("is-active", "--quiet", *UNITS).returncode == 0
        if units_up and url_ok(URI + "/health") and url_ok(STORE_HEALTH) and write_ok(mlflow_client):
            return emit(healthy=True, seconds=round(time.monotonic() - started, 2))
        time.sleep(0.5)
    emit(healthy=False, seconds=limit, states=systemctl("is-active", *UNITS).stdout.split())


def kill9(limit):
    mlflow_client = client()
    assert write_ok(mlflow_client), "MLflow does not take writes before the fault"
    old_pid, restarts = int(prop("mlflow", "MainPID")), int(prop("mlflow", "NRestarts"))
    started = time.monotonic()
    os.kill(old_pid, signal.SIGKILL)
    new_pid, health_s, write_s = 0, None, None
    while time.monotonic() - started < limit:
        now_pid = int(prop("mlflow", "MainPID") or 0)
        # Only a new main process counts: for a moment, the killed server's workers may still answer.
        if now_pid not in (0, old_pid):
            new_pid = now_pid
            if health_s is None and url_ok(URI + "/health"):
                health_s = time.monotonic() - started
            if health_s is not None and write_ok(mlflow_client):
                write_s = time.monotonic() - started
                break
        time.sleep(0.25)
    emit(
        old_pid=old_pid,
        new_pid=new_pid,
        restarts_before=restarts,
        restarts_after=int(prop("mlflow", "NRestarts")),
        health_s=None if health_s is None else round(health_s, 2),
        write_s=None if write_s is None else round(write_s, 2),
        limit_s=limit,
    )


def pg_restart():
    mlflow_client = client()
    exp_id = mlflow_client.create_experiment("pg-restart-%s" % uuid.uuid4().hex[:10])
    run_id = mlflow_client.create_run(exp_id).info.run_id
    mlflow_pid, mlflow_restarts = prop("mlflow", "MainPID"), prop("mlflow", "NRestarts")
    acked, failures, errors = [], 0, {}
    timing = {}
    lead_in, tail = 3.0, 5.0

    def restart():
        time.sleep(lead_in)
        timing["restart_start"] = time.monotonic() - started
        result = systemctl("restart", "postgresql")
        timing["restart_end"] = time.monotonic() - started
        timing["restart_rc"] = result.returncode

    started = time.monotonic()
    threading.Thread(target=restart, daemon=True).start()
    with open("/root/pg-restart-acked.txt", "w") as record:
        step = 0
        while time.monotonic() - started < 120:
            end = timing.get("restart_end")
            past_tail = end is not None and time.monotonic() - started > end + tail
            if past_tail and sum(1 for _, t in acked if t > end) >= 5:
                break
            try:
                mlflow_client.log_metric(run_id, "pg_restart_loss", 1.0 / (step + 1), step=step)
            except Exception as exc:  # the call was not acknowledged: count it, retry the same step
                failures += 1
                text = " ".join(str(exc).split())
                kind = type(exc).__name__ + ": " + (text if len(text) < 300 else "... " + text[-240:])
                errors[kind] = errors.get(kind, 0) + 1
                time.sleep(0.2)
                continue
            acked.append((step, time.monotonic() - started))
            record.write("%d\n" % step)
            record.flush()
            step += 1
    times = [t for _, t in acked]
    gaps = [b - a for a, b in zip(times, times[1:])]
    emit(
        run_id=run_id,
        key="pg_restart_loss",
        acked_steps=[s for s, _ in acked],
        acked_after_restart=sum(1 for t in times if t > timing.get("restart_end", 1e9)),
        failed_calls=failures,
        errors=errors,
        longest_gap_s=round(max(gaps), 2) if gaps else None,
        restart_s=round(timing["restart_end"] - timing["restart_start"], 2) if "restart_end" in timing else None,
        restart_rc=timing.get("restart_rc"),
        mlflow_pid_before=mlflow_pid,
        mlflow_pid_after=prop("mlflow", "MainPID"),
        mlflow_restarts_before=mlflow_restarts,
        mlflow_restarts_after=prop("mlflow", "NRestarts"),
    )


def server_env():
    """The MLflow server's environment file (root:mlflow 0640; this script runs as root)."""
    values = {}
    with open("/etc/mlflow/mlflow.env") as handle:
        for line in handle:
            key, sep, value = line.strip().partition("=")
            if sep and not key.startswith("#"):
                values[key] = value.strip('"')
    return values


def store_watcher(run_prefix):
    """A function returning how many bytes of an upload under the run's prefix the store holds so far, in
    the multipart upload still in progress (the server sends big files in 8 MB parts), as the store
    itself reports them. Uses the server's own S3 settings; nothing of them is printed."""
    import boto3
    from botocore.config import Config

    env = server_env()
    bucket, _, root = env["MLFLOW_ARTIFACTS_DESTINATION"][len("s3://") :].partition("/")
    prefix = (root.strip("/") + "/" if root.strip("/") else "") + run_prefix
    s3 = boto3.client(
        "s3",
        endpoint_url=env["MLFLOW_S3_ENDPOINT_URL"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name=env.get("AWS_DEFAULT_REGION", "us-east-1"),
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}, connect_timeout=2, read_timeout=5),
    )

    def received():
        total = 0
        for upload in s3.list_multipart_uploads(Bucket=bucket, Prefix=prefix).get("Uploads", []):
            parts = s3.list_parts(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"]).get("Parts", [])
            total += sum(part["Size"] for part in parts)
        return total

    return received


def store_down(size_mb, limit):
    mlflow_client = client()
    exp_id = mlflow_client.create_experiment("store-down-%s" % uuid.uuid4().hex[:10])
    run_id = mlflow_client.create_run(exp_id).info.run_id
    work = tempfile.mkdtemp(dir="/root")
    blob = os.path.join(work, "blob.bin")
    with open(blob, "wb") as handle:
        for _ in range(size_mb):
            handle.write(os.urandom(1024 * 1024))
    # What a user sets for an upload that must fail rather than hang: a bounded number of retries and a
    # per-request timeout (MLflow's defaults: 7 retries with backoff factor 2, 120 s).
    user_env = {
        "PATH": "/usr/bin:/bin",
        "HOME": "/root",
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
        "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
        "MLFLOW_HTTP_REQUEST_TIMEOUT": "60",
    }
    # `timeout` is the hang detector: exit code 124 means the client was still waiting at the limit.
    upload = ["timeout", str(limit), sys.executable, os.path.abspath(__file__), "upload", run_id, blob]
    # Stop the store once it holds this much of the object from the server: mid-upload, for sure.
    trigger = 32 * 1024 * 1024
    store_received = store_watcher("%s/%s/" % (exp_id, run_id))
    started = time.monotonic()
    first = subprocess.Popen(upload, env=user_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stopped_at, received = None, 0
    while first.poll() is None:
        received = store_received()
        if received >= trigger:
            stopped_at = time.monotonic() - started
            systemctl("stop", "minio")
            break
        time.sleep(0.05)
    out, err = first.communicate()
    failed_at = time.monotonic() - started
    start_store = time.monotonic()
    systemctl("start", "minio")
    while not url_ok(STORE_HEALTH) and time.monotonic() - start_store < 60:
        time.sleep(0.2)
    store_back_s = time.monotonic() - start_store
    retry_started = time.monotonic()
    retry = subprocess.run(upload, env=user_env, capture_output=True, text=True, check=False)
    emit(
        run_id=run_id,
        experiment_id=exp_id,
        size_bytes=size_mb * 1024 * 1024,
        store_received_before_stop=received,
        stopped_at_s=None if stopped_at is None else round(stopped_at, 2),
        client_rc=first.returncode,
        client_output=(out + err).strip().splitlines()[-1:] or [""],
        error_after_stop_s=None if stopped_at is None else round(failed_at - stopped_at, 2),
        store_back_s=round(store_back_s, 2),
        retry_rc=retry.returncode,
        retry_output=(retry.stdout + retry.stderr).strip().splitlines()[-1:] or [""],
        retry_s=round(time.monotonic() - retry_started, 2),
        limit_s=limit,
    )


def upload(run_id, path):
    from mlflow import MlflowClient

    try:
        MlflowClient(URI).log_artifact(run_id, path, artifact_path="data")
    except Exception as exc:
        text = " ".join(str(exc).split())
        print(
            "UPLOAD FAILED %s: %s" % (type(exc).__name__, text if len(text) < 300 else "... " + text[-240:]), flush=True
        )
        sys.exit(3)
    print("UPLOADED", flush=True)


def probe():
    health = url_ok(URI + "/health")
    mlflow_client = client()
    exp_id = mlflow_client.create_experiment("probe-%s" % uuid.uuid4().hex[:12])
    run_id = mlflow_client.create_run(exp_id).info.run_id
    mlflow_client.log_metric(run_id, "after_restart", 1.0, step=0)
    note = os.path.join(tempfile.mkdtemp(), "note.txt")
    with open(note, "w") as handle:
        handle.write("written after the fault\n")
    mlflow_client.log_artifact(run_id, note)
    back = [f.path for f in mlflow_client.list_artifacts(run_id)]
    emit(health=health, run_id=run_id, artifacts=back)


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    if command == "wait-healthy":
        wait_healthy(float(args[0]))
    elif command == "kill9":
        kill9(float(args[0]))
    elif command == "pg-restart":
        pg_restart()
    elif command == "store-down":
        store_down(int(args[0]), int(args[1]))
    elif command == "upload":
        upload(*args)
    elif command == "probe":
        probe()
    else:
        sys.exit("unknown command %s" % command)
