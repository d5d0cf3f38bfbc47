"""Real S3 calls against the deployed store, with the MLflow server's own settings (its env file loaded).

Usage: python s3_probe.py access IDENTITIES_JSON   what each identity may do (error codes, or "ok")
       python s3_probe.py put BUCKET KEY            write 1 MiB of random bytes; print their sha256
       python s3_probe.py get BUCKET KEY            read the object back; print its sha256

Prints one JSON line.
"""

import hashlib
import json
import os
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ENDPOINT = os.environ.get("MLFLOW_S3_ENDPOINT_URL")
BUCKET = os.environ.get("MLFLOW_ARTIFACTS_DESTINATION", "s3://mlflow-artifacts")[len("s3://") :].split("/")[0]


def client(access_key=None, secret_key=None):
    keys = {"aws_access_key_id": access_key, "aws_secret_access_key": secret_key} if access_key else {}
    return boto3.client(
        "s3", endpoint_url=ENDPOINT, config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}), **keys
    )


def outcome(call):
    try:
        call()
        return "ok"
    except ClientError as exc:
        return exc.response.get("Error", {}).get("Code") or str(exc.response["ResponseMetadata"]["HTTPStatusCode"])


def access(identities_path):
    with open(identities_path) as handle:
        admin = next(i for i in json.load(handle)["identities"] if i["name"] == "admin")["credentials"][0]
    mlflow = client()  # MLflow's keys, from the env file
    wrong = client(os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"] + "x")
    unknown = client("no-such-access-key", "no-such-secret-key-123")
    root = client(admin["accessKey"], admin["secretKey"])
    return {
        "mlflow writes its bucket": outcome(lambda: mlflow.put_object(Bucket=BUCKET, Key="probe/own", Body=b"1")),
        "mlflow lists its bucket": outcome(lambda: mlflow.list_objects_v2(Bucket=BUCKET, Prefix="probe/")),
        "mlflow creates a bucket": outcome(lambda: mlflow.create_bucket(Bucket="probe-other-bucket")),
        "wrong secret": outcome(lambda: wrong.list_objects_v2(Bucket=BUCKET)),
        "unknown key": outcome(lambda: unknown.list_objects_v2(Bucket=BUCKET)),
        "admin lists buckets": outcome(root.list_buckets),
        "admin creates a bucket": outcome(lambda: root.create_bucket(Bucket="probe-admin-bucket")),
        "mlflow writes the admin's bucket": outcome(
            lambda: mlflow.put_object(Bucket="probe-admin-bucket", Key="x", Body=b"1")
        ),
        "admin deletes its bucket": outcome(lambda: root.delete_bucket(Bucket="probe-admin-bucket")),
    }


def main(argv):
    if argv[0] == "access":
        return access(argv[1])
    s3 = client()
    if argv[0] == "put":
        body = os.urandom(1 << 20)
        s3.put_object(Bucket=argv[1], Key=argv[2], Body=body)
        return {"sha256": hashlib.sha256(body).hexdigest()}
    if argv[0] == "get":
        body = s3.get_object(Bucket=argv[1], Key=argv[2])["Body"].read()
        return {"sha256": hashlib.sha256(body).hexdigest()}
    raise SystemExit("unknown command %r" % argv[0])


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))
