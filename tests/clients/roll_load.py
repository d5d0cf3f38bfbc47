"""A client working through the proxy while the servers restart: logs a metric and reads an artifact back in a
loop until STOPFILE exists, with MLflow's own HTTP retries off (MLFLOW_HTTP_REQUEST_MAX_RETRIES=0, set by the
caller), so that every error nginx or a server returns counts. Prints one JSON line: requests, failures, errors.

    python roll_load.py TRACKING_URI STOPFILE
"""

import hashlib
import json
import os
import sys
import tempfile
import time

import mlflow
from mlflow.tracking import MlflowClient

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
            with tempfile.TemporaryDirectory() as tmp:
                local = client.download_artifacts(run_id, "blob.bin", tmp)
                with open(local, "rb") as handle:
                    if hashlib.sha256(handle.read()).hexdigest() != digest:
                        raise RuntimeError("artifact read back differs")
    except Exception as error:  # noqa: BLE001 - every failure a user would see is counted
        failures += 1
        errors.append("%.1f s: %s" % (time.monotonic() - started, str(error)[:200]))
logged = len(client.get_metric_history(run_id, "load"))
print(json.dumps({"requests": requests, "failures": failures, "errors": errors[:10], "steps": step, "logged": logged}))
