"""Fixtures and helpers shared by the molecule scenarios' testinfra tests."""

from __future__ import annotations

import json
import os
import shlex
import uuid

import pytest

RESOURCES = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV_PYTHON = "/opt/mlflow/venv/bin/python"
ENV_FILE = "/etc/mlflow/mlflow.env"


@pytest.fixture(scope="module")
def hostvars(host):
    return host.ansible.get_variables()


@pytest.fixture(scope="module")
def secrets(hostvars):
    names = ["mlflow_db_password", "mlflow_s3_access_key", "mlflow_s3_secret_key"]
    values = [hostvars[n] for n in names if hostvars.get(n)]
    assert values, "the scenario defines no secrets to look for"
    return values


def group_hosts(group):
    """testinfra hosts of an inventory group, for checks that look at another host than the one under test."""
    import testinfra
    import testinfra.utils.ansible_runner

    inventory = os.environ["MOLECULE_INVENTORY_FILE"]
    names = testinfra.utils.ansible_runner.AnsibleRunner(inventory).get_hosts(group)
    return [testinfra.get_host("ansible://%s" % name, ansible_inventory=inventory) for name in names]


def sql(host, query, db="mlflow"):
    """Run a query as the postgres superuser on the database host; return stdout stripped."""
    cmd = host.run("runuser -u postgres -- psql -d %s -tAXc %s", db, query)
    assert cmd.rc == 0, cmd.stderr
    return cmd.stdout.strip()


def env_python(host, code, *args, with_env_file=False):
    """Run Python code in the MLflow environment. Without the env file, the process has no secrets."""
    inner = ("set -a; . %s; set +a; " % ENV_FILE if with_env_file else "") + 'exec %s -c "$0" "$@"' % ENV_PYTHON
    quoted = " ".join(shlex.quote(str(a)) for a in (code, *args))
    return host.run("env -i PATH=/usr/bin:/bin HOME=/tmp bash -c %s %s" % (shlex.quote(inner), quoted))


def pinned_mlflow_version():
    """mlflow_version as the python_env role pins it by default."""
    import yaml

    with open(os.path.join(RESOURCES, "..", "..", "roles", "python_env", "defaults", "main.yml")) as handle:
        return yaml.safe_load(handle)["mlflow_version"]


def http_status(host, url, host_header=None):
    code = (
        "import sys, urllib.request, urllib.error\n"
        "req = urllib.request.Request(sys.argv[1])\n"
        "if len(sys.argv) > 2: req.add_header('Host', sys.argv[2])\n"
        "try:\n    print(urllib.request.urlopen(req, timeout=10).status)\n"
        "except urllib.error.HTTPError as e:\n    print(e.code)\n"
    )
    args = [url] + ([host_header] if host_header else [])
    cmd = env_python(host, code, *args)
    assert cmd.rc == 0, cmd.stderr
    return int(cmd.stdout.strip())


def copy_script(host, src):
    """Copy a script from the controller into /root on the host; return its path there."""
    dest = "/root/" + os.path.basename(src)
    host.ansible("ansible.builtin.copy", "src=%s dest=%s mode=0644" % (src, dest), become=True, check=False)
    return dest


def run_env_script(host, src, *args, what="client"):
    """Copy a script into the host, run it with the MLflow environment's Python and an empty environment
    (no store credentials); return the JSON report on its last line of output."""
    dest = copy_script(host, src)
    cmd = host.run(
        "env -i PATH=/usr/bin:/bin HOME=/tmp " + " ".join(shlex.quote(str(a)) for a in (ENV_PYTHON, dest, *args))
    )
    assert cmd.rc == 0, "%s failed:\n%s\n%s" % (what, cmd.stdout[-3000:], cmd.stderr[-5000:])
    return json.loads(cmd.stdout.strip().splitlines()[-1])


def run_roundtrip(host, tracking_uri, size_mb=12):
    """Copy the client into the host and run it with an empty environment; return its JSON report."""
    src = os.path.join(RESOURCES, "files", "mlflow_roundtrip.py")
    return run_env_script(host, src, tracking_uri, uuid.uuid4().hex[:10], str(size_mb), what="client round trip")


def bucket_objects(host, bucket, prefix):
    """{key: size} of the objects under prefix, listed with the server's own S3 settings."""
    code = (
        "import json, os, sys, boto3\n"
        "from botocore.config import Config\n"
        "s3 = boto3.client('s3', endpoint_url=os.environ.get('MLFLOW_S3_ENDPOINT_URL'), config=Config(s3={'addressing_style': 'path'}))\n"
        "out = {}\n"
        "for page in s3.get_paginator('list_objects_v2').paginate(Bucket=sys.argv[1], Prefix=sys.argv[2]):\n"
        "    out.update({o['Key']: o['Size'] for o in page.get('Contents', [])})\n"
        "print(json.dumps(out))\n"
    )
    cmd = env_python(host, code, bucket, prefix, with_env_file=True)
    assert cmd.rc == 0, cmd.stderr
    return json.loads(cmd.stdout.strip())


def assert_run_artifact_in_bucket(host, roundtrip, bucket="mlflow-artifacts"):
    """The round trip's artifact is in the bucket, at the run's key, with its full size."""
    run_prefix = "%s/%s/" % (roundtrip["experiment_id"], roundtrip["run_id"])
    objects = bucket_objects(host, bucket, run_prefix)
    assert objects.get(run_prefix + "artifacts/data/blob.bin") == roundtrip["size_bytes"], objects


def assert_run_rows_in_postgresql(db_host, roundtrip):
    """The round trip's experiment, params, metric steps and model version are rows in PostgreSQL."""
    run = roundtrip["run_id"]
    assert sql(db_host, "SELECT count(*) FROM experiments WHERE name = '%s'" % roundtrip["experiment"]) == "1"
    assert sql(db_host, "SELECT count(*) FROM metrics WHERE run_uuid = '%s' AND key = 'loss'" % run) == "25"
    assert sql(db_host, "SELECT count(*) FROM params WHERE run_uuid = '%s'" % run) == "2"
    assert sql(db_host, "SELECT count(*) FROM model_versions WHERE name = '%s'" % roundtrip["registered_model"]) == "1"
