"""The objects under a prefix of a bucket, listed with the MLflow server's own S3 settings.

Usage: python bucket_objects.py BUCKET PREFIX   (with the server's environment file loaded: its endpoint and keys)

Prints one JSON line: {key: size}.
"""

import json
import os
import sys

import boto3
from botocore.config import Config


def objects(bucket, prefix):
    s3 = boto3.client(
        "s3", endpoint_url=os.environ.get("MLFLOW_S3_ENDPOINT_URL"), config=Config(s3={"addressing_style": "path"})
    )
    out = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        out.update({o["Key"]: o["Size"] for o in page.get("Contents", [])})
    return out


if __name__ == "__main__":
    print(json.dumps(objects(sys.argv[1], sys.argv[2])))
