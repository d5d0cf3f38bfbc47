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
# MLflow's own credentials file (~/.mlflow/credentials, written by resources/playbooks/client_credentials.yml)
# for root on the test hosts: the clients below read it, so no password is ever on a command line.
CLIENT_HOME = "/root"
CREDENTIALS_FILE = CLIENT_HOME + "/.mlflow/credentials"
# The molecule runs' Ansible log (ANSIBLE_LOG_PATH in .config/molecule/config.yml). The verifier's own
# ansible calls (testinfra's inventory dumps hold every variable) must not write to it: taken out of the
# environment here, before any test runs.
ANSIBLE_LOG_PATH = os.environ.pop("ANSIBLE_LOG_PATH", None)
SECRET_NAMES = [
    "mlflow_db_password",
    "mlflow_s3_access_key",
    "mlflow_s3_secret_key",
    "mlflow_minio_root_password",
    "mlflow_auth_admin_password",
    "mlflow_auth_secret_key",
]


@pytest.fixture(scope="module")
def hostvars(host):
    return host.ansible.get_variables()


@pytest.fixture(scope="module")
def secrets(hostvars):
    values = [hostvars[n] for n in SECRET_NAMES if hostvars.get(n)]
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
    return host.run("env -i PATH=/usr/bin:/bin HOME=%s bash -c %s %s" % (CLIENT_HOME, shlex.quote(inner), quoted))


def pinned_mlflow_version():
    """mlflow_version as the python_env role pins it by default."""
    import yaml

    with open(os.path.join(RESOURCES, "..", "..", "roles", "python_env", "defaults", "main.yml")) as handle:
        return yaml.safe_load(handle)["mlflow_version"]


def http_status(host, url, host_header=None, authenticated=False):
    """HTTP status of a GET; authenticated: with the user in root's MLflow credentials file (basic auth)."""
    code = (
        "import base64, configparser, os, sys, urllib.request, urllib.error\n"
        "req = urllib.request.Request(sys.argv[1])\n"
        "if sys.argv[2]: req.add_header('Host', sys.argv[2])\n"
        "if sys.argv[3] == '1':\n"
        "    c = configparser.ConfigParser(); c.read(os.path.expanduser('~/.mlflow/credentials'))\n"
        "    pair = '%s:%s' % (c['mlflow']['mlflow_tracking_username'], c['mlflow']['mlflow_tracking_password'])\n"
        "    req.add_header('Authorization', 'Basic ' + base64.b64encode(pair.encode()).decode())\n"
        "try:\n    print(urllib.request.urlopen(req, timeout=10).status)\n"
        "except urllib.error.HTTPError as e:\n    print(e.code)\n"
    )
    cmd = env_python(host, code, url, host_header or "", "1" if authenticated else "0")
    assert cmd.rc == 0, cmd.stderr
    return int(cmd.stdout.strip())


def copy_script(host, src):
    """Copy a script from the controller into /root on the host; return its path there."""
    dest = "/root/" + os.path.basename(src)
    host.ansible("ansible.builtin.copy", "src=%s dest=%s mode=0644" % (src, dest), become=True, check=False)
    return dest


def run_env_script(host, src, *args, what="client"):
    """Copy a script into the host, run it with the MLflow environment's Python and an empty environment
    (no store credentials; HOME holds MLflow's credentials file when authentication is on); return the JSON
    report on its last line of output."""
    dest = copy_script(host, src)
    cmd = host.run(
        "env -i PATH=/usr/bin:/bin HOME=%s " % CLIENT_HOME
        + " ".join(shlex.quote(str(a)) for a in (ENV_PYTHON, dest, *args))
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


def ansible_log():
    """The Ansible log of this scenario's runs since prepare (converge, idempotence, check, side effect), at -v."""
    path = ANSIBLE_LOG_PATH
    assert path, "ANSIBLE_LOG_PATH is not set for this scenario"
    with open(path, encoding="utf-8", errors="replace") as handle:
        log = handle.read()
    # it must be the verbose log of a real converge, or finding no secret in it proves nothing
    assert "TASK [mlops.mlflow.server : Write the environment file (holds the secrets)]" in log, path
    assert "changed: [" in log and "Using " in log and " as config file" in log, path
    return log


def journal(host):
    """The whole journal of a host (every unit, Ansible's module invocations included)."""
    return host.check_output("journalctl --no-pager -o cat -q")


def assert_no_secret_anywhere(host, secrets, log):
    """No secret value in the Ansible log, the journal, any unit file, ps, or systemd's unit properties."""
    places = {
        "ansible output (-v)": log,
        "journal": journal(host),
        "unit files": host.check_output(
            "cat /etc/systemd/system/*.service /etc/systemd/system/*.d/*.conf 2>/dev/null || true"
        ),
        "ps": host.check_output("ps -eww -o args"),
        "systemctl show": host.check_output("systemctl show '*'"),
    }
    leaks = [
        "%s in %s" % (secret[:4] + "...", place)
        for place, text in places.items()
        for secret in secrets
        if secret in text
    ]
    assert not leaks, leaks


def unit_exposure(host, unit):
    """systemd-analyze security's overall exposure of a unit (0 = locked down, 10 = unprotected); printed."""
    out = host.check_output("systemd-analyze security --no-pager %s", unit)
    last = [line for line in out.splitlines() if "Overall exposure level" in line][-1]
    score = float(last.split(":", 1)[1].split()[0])
    print("EXPOSURE %s on %s: %.1f" % (unit, host.backend.get_hostname(), score))
    return score


def assert_sandboxed_process(host, unit):
    """The unit's main process really runs sandboxed: no new privileges, no capabilities, a seccomp filter."""
    pid = host.check_output("systemctl show -p MainPID --value %s", unit)
    assert pid != "0", unit
    status = dict(
        line.split(":", 1) for line in host.file("/proc/%s/status" % pid).content_string.splitlines() if ":" in line
    )
    assert status["NoNewPrivs"].strip() == "1", status
    assert int(status["CapEff"].strip(), 16) == 0 and int(status["CapBnd"].strip(), 16) == 0, status
    assert status["Seccomp"].strip() == "2", status  # filter mode
