"""A client working through the proxy while the servers restart: logs a metric and reads an artifact back in a
loop until STOPFILE exists, with MLflow's HTTP retries as the caller sets them (MLFLOW_HTTP_REQUEST_MAX_RETRIES; the
scale-out test allows one and checks every answer in the proxy's access log). Every failure the client sees counts.
Prints one JSON line: requests, failures, errors (with the cause MLflow's download_artifacts swallows).

    python roll_load.py TRACKING_URI STOPFILE
"""

import hashlib
import json
import logging
import os
import sys
import tempfile
import time

import mlflow
from mlflow.tracking import MlflowClient


class Causes(logging.Handler):
    """MLflow's download_artifacts logs the real error at debug level and raises a generic one: keep the last."""

    last = ""

    def emit(self, record):
        if record.exc_info:
            Causes.last = "%s: %s" % (record.exc_info[0].__name__, record.exc_info[1])


cause_log = logging.getLogger("mlflow.store.artifact.runs_artifact_repo")
cause_log.setLevel(logging.DEBUG)
cause_log.addHandler(Causes())
cause_log.propagate = False  # not on stderr: the caller reads one JSON line

uri, stopfile = sys.argv[1:3]
mlflow.set_tracking_uri(uri)
client = MlflowClient(uri)
experiment_id = client.create_experiment("roll-load-%d" % os.getpid())
run_id = client.create_run(experiment_id).info.run_id
payload = os.urandom(256 * 1024)
digest = hashlib.sha256(payload).hexdigest()
with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "blob.bin")
    with open(path, "wb") as handle:
        handle.write(payload)
    client.log_artifact(run_id, path)
requests, failures, errors, step = 0, 0, [], 0
started = time.monotonic()
while not os.path.exists(stopfile):
    step += 1
    try:
        requests += 1
        client.log_metric(run_id, "load", float(step), step=step)
        if step % 5 == 0:
            requests += 1
            Causes.last = ""
            with tempfile.TemporaryDirectory() as tmp:
                local = client.download_artifacts(run_id, "blob.bin", tmp)
                with open(local, "rb") as handle:
                    if hashlib.sha256(handle.read()).hexdigest() != digest:
                        raise RuntimeError("artifact read back differs")
    except Exception as error:  # noqa: BLE001 - every failure a user would see is counted
        failures += 1
        cause = (" (cause: %s)" % Causes.last[:400]) if Causes.last else ""
        errors.append("%.1f s: %s%s" % (time.monotonic() - started, str(error)[:200], cause))
logged = len(client.get_metric_history(run_id, "load"))
print(json.dumps({"requests": requests, "failures": failures, "errors": errors[:10], "steps": step, "logged": logged}))
