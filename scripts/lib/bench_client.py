"""Client side of scripts/bench-server.sh: one measurement per call, one JSON line on stdout.

  bench_client.py latency URL [CALLS]          sequential MlflowClient().log_metric on one kept session
  bench_client.py load URL SECONDS CLIENTS     CLIENTS threads, each its own kept-alive session, posting
                                               log-metric for SECONDS; requests per second over all
  bench_client.py transfer URL MB              mlflow.log_artifact of an MB-sized file, then
                                               download_artifacts (sha256 checked); seconds each way
  bench_client.py s3 ENV_FILE MB               the same file straight to the store with boto3 (endpoint,
                                               keys and bucket from the server's env file), up and down

Login and certificate come the way every MLflow client gets them: MLFLOW_TRACKING_USERNAME /
MLFLOW_TRACKING_PASSWORD or ~/.mlflow/credentials, MLFLOW_TRACKING_SERVER_CERT_PATH. Nothing secret
is read from the command line.
"""

import hashlib
import json
import os
import statistics
import sys
import tempfile
import threading
import time


def _blob(size_mb):
    path = os.path.join(tempfile.mkdtemp(prefix="bench-"), "blob.bin")
    digest = hashlib.sha256()
    with open(path, "wb") as handle:
        for _ in range(size_mb):
            chunk = os.urandom(1024 * 1024)
            digest.update(chunk)
            handle.write(chunk)
    return path, digest.hexdigest()


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _experiment(client, kind):
    return client.create_experiment("bench-%s-%d-%d" % (kind, time.time() * 1000, os.getpid()))


def latency(url, calls=200):
    import mlflow
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(url)
    client = MlflowClient()
    run_id = client.create_run(_experiment(client, "latency")).info.run_id
    for step in range(5):  # warm-up: connection, TLS, every code path once
        client.log_metric(run_id, "warmup", step, step=step)
    times = []
    for step in range(calls):
        started = time.perf_counter()
        client.log_metric(run_id, "m", step, step=step)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {
        "calls": calls,
        "p50_ms": round(statistics.median(times), 2),
        "p90_ms": round(times[int(len(times) * 0.9) - 1], 2),
    }


def load(url, seconds, clients):
    import mlflow
    import requests
    from mlflow import MlflowClient
    from mlflow.utils.credentials import read_mlflow_creds

    mlflow.set_tracking_uri(url)
    client = MlflowClient()
    experiment = _experiment(client, "load%d" % clients)
    runs = [client.create_run(experiment).info.run_id for _ in range(clients)]
    creds = read_mlflow_creds()
    auth = (creds.username, creds.password) if creds.username else None
    verify = os.environ.get("MLFLOW_TRACKING_SERVER_CERT_PATH") or True
    counts, errors = [0] * clients, [0] * clients
    start = threading.Barrier(clients + 1)
    deadline = [0.0]

    def worker(index):
        session = requests.Session()
        session.auth, session.verify = auth, verify
        endpoint = url.rstrip("/") + "/api/2.0/mlflow/runs/log-metric"
        body = {"run_id": runs[index], "key": "m", "value": 0.0, "timestamp": 0, "step": 0}
        start.wait()
        while time.monotonic() < deadline[0]:
            body["step"] += 1
            body["timestamp"] = int(time.time() * 1000)
            try:
                ok = session.post(endpoint, json=body, timeout=60).status_code == 200
            except requests.RequestException:
                ok = False
            if ok:
                counts[index] += 1
            else:
                errors[index] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    deadline[0] = time.monotonic() + seconds
    start.wait()
    for thread in threads:
        thread.join()
    return {"clients": clients, "seconds": seconds, "rps": round(sum(counts) / seconds, 1), "errors": sum(errors)}


def transfer(url, size_mb):
    import mlflow
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(url)
    client = MlflowClient()
    path, sha = _blob(size_mb)
    run_id = client.create_run(_experiment(client, "transfer")).info.run_id
    started = time.monotonic()
    client.log_artifact(run_id, path, artifact_path="data")
    up = time.monotonic() - started
    started = time.monotonic()
    back = mlflow.artifacts.download_artifacts(
        run_id=run_id, artifact_path="data/blob.bin", dst_path=tempfile.mkdtemp(prefix="bench-")
    )
    down = time.monotonic() - started
    assert _sha256(back) == sha, "the artifact came back different"
    # Remove the blob from the store too (through the server's artifact API), not only the run.
    from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

    get_artifact_repository(client.get_run(run_id).info.artifact_uri).delete_artifacts("data")
    client.delete_run(run_id)
    os.remove(path)
    os.remove(back)
    return {"mb": size_mb, "up_s": round(up, 2), "down_s": round(down, 2), "run_id": run_id}


def s3(env_file, size_mb):
    import boto3

    env = {}
    with open(env_file) as handle:
        for line in handle:
            key, sep, value = line.strip().partition("=")
            if sep and not key.startswith("#"):
                env[key] = value.strip('"')
    bucket = env["MLFLOW_ARTIFACTS_DESTINATION"][len("s3://") :].split("/", 1)[0]
    store = boto3.client(
        "s3",
        endpoint_url=env["MLFLOW_S3_ENDPOINT_URL"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name=env.get("AWS_DEFAULT_REGION", "us-east-1"),
    )
    path, sha = _blob(size_mb)
    key = "bench-direct/%d-%d.bin" % (time.time() * 1000, os.getpid())
    started = time.monotonic()
    store.upload_file(path, bucket, key)
    up = time.monotonic() - started
    back = path + ".back"
    started = time.monotonic()
    store.download_file(bucket, key, back)
    down = time.monotonic() - started
    assert _sha256(back) == sha, "the object came back different"
    store.delete_object(Bucket=bucket, Key=key)
    os.remove(path)
    os.remove(back)
    return {"mb": size_mb, "up_s": round(up, 2), "down_s": round(down, 2)}


def main():
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "latency":
        out = latency(args[0], *(int(a) for a in args[1:]))
    elif mode == "load":
        out = load(args[0], float(args[1]), int(args[2]))
    elif mode == "transfer":
        out = transfer(args[0], int(args[1]))
    elif mode == "s3":
        out = s3(args[0], int(args[1]))
    else:
        raise SystemExit(__doc__)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
