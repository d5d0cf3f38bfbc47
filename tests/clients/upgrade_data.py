"""Data an upgrade must keep, written by one MLflow client version and read back by another.

    python upgrade_data.py write TRACKING_URI     (MLflow 2.20.3's client, before the upgrade)
    python upgrade_data.py check TRACKING_URI     (the new client, after it)
    python upgrade_data.py deny TRACKING_URI grant|revoke   (a NO_PERMISSIONS grant for user dave)
    python upgrade_data.py gc-setup TRACKING_URI  (a deleted and a live run, each with an artifact)

The admin logs in from ~/.mlflow/credentials; the test users' passwords are test-only constants. Prints one JSON
line: what was written (write) or what was read (check), so the test compares the two.
"""

import hashlib
import json
import os
import sys

import mlflow
import numpy as np
from mlflow.server import get_app_client
from mlflow.tracking import MlflowClient

EXPERIMENT = "upgrade-check"
MODEL = "upgrade-model"
CAROL = ("carol", "carol-test-pw-5Rk2")
DAVE = ("dave", "dave-test-pw-8Tm4")
X = np.array([[0.0], [1.0], [2.0], [5.0]])


def as_user(user, fn):
    saved = {k: os.environ.get(k) for k in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD")}
    os.environ["MLFLOW_TRACKING_USERNAME"], os.environ["MLFLOW_TRACKING_PASSWORD"] = user
    try:
        return fn()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def write(uri):
    from sklearn.linear_model import LinearRegression

    mlflow.set_tracking_uri(uri)
    client = MlflowClient(uri)
    experiment_id = mlflow.create_experiment(EXPERIMENT)
    with mlflow.start_run(experiment_id=experiment_id, run_name="before-upgrade") as run:
        mlflow.log_param("alpha", "0.5")
        mlflow.set_tag("stage", "written-by-2.20.3")
        for step in range(50):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        payload = os.urandom(5 * 1024 * 1024)
        path = os.path.join("/tmp", "upgrade-blob.bin")  # noqa: S108 - a test file
        with open(path, "wb") as handle:
            handle.write(payload)
        mlflow.log_artifact(path, "data")
        model = LinearRegression().fit(X, 2 * X[:, 0] + 1)
        mlflow.sklearn.log_model(model, "model")
    version = mlflow.register_model("runs:/%s/model" % run.info.run_id, MODEL)
    client.set_registered_model_alias(MODEL, "champion", version.version)
    auth = get_app_client("basic-auth", tracking_uri=uri)
    for user, password in (CAROL, DAVE):
        auth.create_user(user, password)
    auth.create_experiment_permission(experiment_id, CAROL[0], "EDIT")
    predictions = mlflow.pyfunc.load_model("models:/%s@champion" % MODEL).predict(X)
    return {
        "experiment_id": experiment_id,
        "run_id": run.info.run_id,
        "sha256": hashlib.sha256(payload).hexdigest(),
        "model_version": str(version.version),
        "predictions": [round(float(p), 6) for p in predictions],
    }


def check(uri):
    mlflow.set_tracking_uri(uri)
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name(EXPERIMENT)
    runs = [r for r in client.search_runs([experiment.experiment_id]) if r.info.run_name == "before-upgrade"]
    run = runs[0]
    history = client.get_metric_history(run.info.run_id, "loss")
    local = client.download_artifacts(run.info.run_id, "data/upgrade-blob.bin", "/tmp")  # noqa: S108
    with open(local, "rb") as handle:
        sha = hashlib.sha256(handle.read()).hexdigest()
    alias = client.get_model_version_by_alias(MODEL, "champion")
    predictions = mlflow.pyfunc.load_model("models:/%s@champion" % MODEL).predict(X)

    # carol's EDIT grant survived: she logs to the experiment as herself
    def carol_logs():
        with mlflow.start_run(experiment_id=experiment.experiment_id, run_name="carol-after-upgrade") as own:
            mlflow.log_metric("carol", 1.0)
        return own.info.run_id

    carol_run = as_user(CAROL, carol_logs)
    return {
        "experiment_id": experiment.experiment_id,
        "run_id": run.info.run_id,
        "runs": len(runs),
        "param": run.data.params.get("alpha"),
        "tag": run.data.tags.get("stage"),
        "loss_steps": len(history),
        "loss_last": min(m.value for m in history),
        "sha256": sha,
        "model_version": str(alias.version),
        "predictions": [round(float(p), 6) for p in predictions],
        "carol_run": bool(carol_run),
    }


def gc_setup(uri):
    """Two runs with an artifact each in a new experiment; the first is deleted (gc's to delete), the second lives."""
    mlflow.set_tracking_uri(uri)
    client = MlflowClient(uri)
    experiment_id = mlflow.create_experiment("gc-check-%d" % os.getpid())
    ids = []
    for name in ("deleted", "live"):
        with mlflow.start_run(experiment_id=experiment_id, run_name=name) as run:
            mlflow.log_metric("m", 1.0)
            mlflow.log_text("gc test " + name, "note.txt")
        ids.append(run.info.run_id)
    client.delete_run(ids[0])
    return {"experiment_id": experiment_id, "deleted": ids[0], "live": ids[1]}


def deny(uri, action):
    client = MlflowClient(uri)
    experiment_id = client.get_experiment_by_name(EXPERIMENT).experiment_id
    auth = get_app_client("basic-auth", tracking_uri=uri)
    if action == "grant":
        auth.create_experiment_permission(experiment_id, DAVE[0], "NO_PERMISSIONS")
    else:
        auth.delete_experiment_permission(experiment_id, DAVE[0])
    return {"experiment_id": experiment_id, action: DAVE[0]}


if __name__ == "__main__":
    mode, tracking_uri = sys.argv[1], sys.argv[2]
    if mode == "write":
        result = write(tracking_uri)
    elif mode == "check":
        result = check(tracking_uri)
    elif mode == "gc-setup":
        result = gc_setup(tracking_uri)
    else:
        result = deny(tracking_uri, sys.argv[3])
    print(json.dumps(result))
