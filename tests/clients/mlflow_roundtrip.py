"""A real MLflow client doing real work against a deployed tracking server.

Usage: python mlflow_roundtrip.py TRACKING_URI RUN_TAG [ARTIFACT_MB]
       python mlflow_roundtrip.py --read-back TRACKING_URI RUN_ID REGISTERED_MODEL
           (the artifact and the model of an earlier round trip, read again: their sha256 and predictions)

Run with an empty environment (no AWS_* variables): artifacts can only reach the store through the
server's proxy. Prints one JSON line with what it did, for the test to check against the store and
the database.
"""

import hashlib
import json
import os
import sys
import tempfile
import time

import mlflow
import pandas as pd
from mlflow import MlflowClient


class Doubler(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return [2 * x for x in model_input["x"]]


def main():
    uri, tag = sys.argv[1], sys.argv[2]
    size_mb = int(sys.argv[3]) if len(sys.argv) > 3 else 12
    assert not any(k.startswith("AWS_") for k in os.environ), "the client must not hold store credentials"
    mlflow.set_tracking_uri(uri)
    client = MlflowClient()
    name = "roundtrip-%s" % tag
    exp_id = mlflow.create_experiment(name)
    work = tempfile.mkdtemp()
    blob = os.path.join(work, "blob.bin")
    with open(blob, "wb") as handle:
        for _ in range(size_mb):
            handle.write(os.urandom(1024 * 1024))
    with open(blob, "rb") as handle:
        sha = hashlib.sha256(handle.read()).hexdigest()

    with mlflow.start_run(experiment_id=exp_id) as run:
        mlflow.log_params({"alpha": "0.5", "layers": "3"})
        for step in range(25):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        started = time.monotonic()
        mlflow.log_artifact(blob, artifact_path="data")
        upload_s = time.monotonic() - started
        info = mlflow.pyfunc.log_model(
            name="model", python_model=Doubler(), registered_model_name=name + "-model", pip_requirements=["pandas"]
        )

    # Read everything back through the server.
    got = client.get_run(run.info.run_id)
    assert got.data.params == {"alpha": "0.5", "layers": "3"}, got.data.params
    history = client.get_metric_history(run.info.run_id, "loss")
    assert [m.step for m in sorted(history, key=lambda m: m.step)] == list(range(25))
    assert abs(got.data.metrics["loss"] - 1.0 / 25) < 1e-9
    listed = [f.path for f in client.list_artifacts(run.info.run_id, "data")]
    assert listed == ["data/blob.bin"], listed
    back = mlflow.artifacts.download_artifacts(
        run_id=run.info.run_id, artifact_path="data/blob.bin", dst_path=tempfile.mkdtemp()
    )
    with open(back, "rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == sha, "artifact came back different"
    version = client.get_model_version(name + "-model", "1")
    assert version.run_id == run.info.run_id
    model = mlflow.pyfunc.load_model("models:/%s-model/1" % name)
    assert list(model.predict(pd.DataFrame({"x": [1, 2, 3]}))) == [2, 4, 6]

    print(
        json.dumps(
            dict(
                experiment=name,
                experiment_id=exp_id,
                run_id=run.info.run_id,
                artifact_uri=got.info.artifact_uri,
                model_id=getattr(info, "model_id", None),
                model_uri=info.model_uri,
                registered_model=name + "-model",
                model_version=version.version,
                sha256=sha,
                size_bytes=size_mb * 1024 * 1024,
                upload_seconds=round(upload_s, 3),
            )
        )
    )


def read_back(uri, run_id, registered_model):
    assert not any(k.startswith("AWS_") for k in os.environ), "the client must not hold store credentials"
    mlflow.set_tracking_uri(uri)
    back = mlflow.artifacts.download_artifacts(
        run_id=run_id, artifact_path="data/blob.bin", dst_path=tempfile.mkdtemp()
    )
    with open(back, "rb") as handle:
        sha = hashlib.sha256(handle.read()).hexdigest()
    model = mlflow.pyfunc.load_model("models:/%s/1" % registered_model)
    predictions = [int(x) for x in model.predict(pd.DataFrame({"x": [1, 2, 3]}))]
    print(json.dumps(dict(sha256=sha, predictions=predictions)))


if __name__ == "__main__":
    if sys.argv[1] == "--read-back":
        read_back(*sys.argv[2:5])
    else:
        main()
