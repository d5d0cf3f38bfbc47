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
# Clients run with root's HOME: MLflow's credentials file there (~/.mlflow/credentials, written by
# resources/playbooks/test_clients.yml) logs them in, so no password is ever on a command line.
CLIENT_HOME = "/root"
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


def default_ipv4(host):
    """The host's default IPv4 address, as Ansible's facts (and the roles' defaults) see it."""
    facts = host.ansible("ansible.builtin.setup", "filter=ansible_default_ipv4")["ansible_facts"]
    return facts["ansible_default_ipv4"]["address"]


def sql(host, query, db="mlflow"):
    """Run a query as the postgres superuser on the database host; return stdout stripped."""
    cmd = host.run("runuser -u postgres -- psql -d %s -tAXc %s", db, query)
    assert cmd.rc == 0, cmd.stderr
    return cmd.stdout.strip()


def clean_env(env=None):
    """`env -i ...`: an empty environment with PATH, HOME (root's, with the credentials file) and `env` on top."""
    variables = {"PATH": "/usr/bin:/bin", "HOME": CLIENT_HOME, **(env or {})}
    return "env -i " + " ".join(shlex.quote("%s=%s" % item) for item in sorted(variables.items()))


def env_python(host, code, *args, with_env_file=False, python=ENV_PYTHON, env=None):
    """Run Python code in the MLflow environment (or `python`). Without the env file, the process has no secrets."""
    inner = ("set -a; . %s; set +a; " % ENV_FILE if with_env_file else "") + 'exec %s -c "$0" "$@"' % python
    quoted = " ".join(shlex.quote(str(a)) for a in (code, *args))
    return host.run("%s bash -c %s %s" % (clean_env(env), shlex.quote(inner), quoted))


def pinned_mlflow_version():
    """mlflow_version as the collection pins it by default (roles/_common, read by python_env and server)."""
    import yaml

    with open(os.path.join(RESOURCES, "..", "..", "roles", "_common", "defaults", "main.yml")) as handle:
        return yaml.safe_load(handle)["mlflow_version"]


HTTP_CODE = """
import base64, configparser, json, os, ssl, sys, urllib.error, urllib.request
url, host_header, cafile, follow, authenticated = sys.argv[1:6]
class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None
handlers = [urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=cafile or None))]
if follow != "1":
    handlers.append(NoRedirect())
req = urllib.request.Request(url)
if host_header:
    req.add_header("Host", host_header)
if authenticated == "1":
    c = configparser.ConfigParser()
    c.read(os.path.expanduser("~/.mlflow/credentials"))
    pair = "%s:%s" % (c["mlflow"]["mlflow_tracking_username"], c["mlflow"]["mlflow_tracking_password"])
    req.add_header("Authorization", "Basic " + base64.b64encode(pair.encode()).decode())
try:
    resp = urllib.request.build_opener(*handlers).open(req, timeout=10)
    print(json.dumps([resp.status, resp.headers.get("Location")]))
except urllib.error.HTTPError as e:
    print(json.dumps([e.code, e.headers.get("Location")]))
except OSError as e:
    print(json.dumps([None, repr(e)]))
"""


def http_response(
    host, url, host_header=None, authenticated=False, python=ENV_PYTHON, cafile=None, follow_redirects=True
):
    """[status, Location header] of a GET from the host; [None, error] when no HTTP answer came.
    authenticated: with the user in root's MLflow credentials file (basic auth); cafile: CA bundle to trust."""
    flags = ["1" if follow_redirects else "0", "1" if authenticated else "0"]
    cmd = env_python(host, HTTP_CODE, url, host_header or "", cafile or "", *flags, python=python)
    assert cmd.rc == 0, cmd.stderr
    return json.loads(cmd.stdout.strip())


def http_status(host, url, host_header=None, authenticated=False, python=ENV_PYTHON, cafile=None):
    """HTTP status of a GET (redirects followed); None when no HTTP answer came."""
    return http_response(host, url, host_header, authenticated, python=python, cafile=cafile)[0]


TLS_CODE = """
import socket, ssl, sys
name, port, cafile, version = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(cafile=cafile)
# Let this client offer old protocols (OpenSSL 3 refuses them by default): the server must say no.
ctx.set_ciphers("ALL:@SECLEVEL=0")
ctx.minimum_version = ctx.maximum_version = getattr(ssl.TLSVersion, version)
try:
    with socket.create_connection((name, port), timeout=10) as raw, ctx.wrap_socket(raw, server_hostname=name) as tls:
        print(tls.version())
except (ssl.SSLError, OSError) as e:
    print("REFUSED", e)
"""


def tls_handshake(host, name, port, version, cafile, python="/usr/bin/python3"):
    """The protocol agreed when the client offers only `version` (TLSv1, TLSv1_1, TLSv1_2, TLSv1_3), or 'REFUSED ...'."""
    cmd = env_python(host, TLS_CODE, name, port, cafile, version, python=python)
    assert cmd.rc == 0, cmd.stderr
    return cmd.stdout.strip()


def copy_script(host, src):
    """Copy a script from the controller into /root on the host; return its path there."""
    dest = "/root/" + os.path.basename(src)
    host.ansible("ansible.builtin.copy", "src=%s dest=%s mode=0644" % (src, dest), become=True, check=False)
    return dest


def env_script_command(host, src, *args, python=ENV_PYTHON, env=None):
    """Copy a script into the host; return the command that runs it with `python` (the MLflow environment's)
    and an empty environment (no store credentials; HOME holds MLflow's credentials file when
    authentication is on) plus `env` (e.g. MLFLOW_TRACKING_SERVER_CERT_PATH)."""
    dest = copy_script(host, src)
    return clean_env(env) + " " + " ".join(shlex.quote(str(a)) for a in (python, dest, *args))


def script_report(rc, stdout, stderr, what="client"):
    """The JSON report on the last line of a script's output, or a failure showing that output."""
    assert rc == 0, "%s failed:\n%s\n%s" % (what, stdout[-3000:], stderr[-5000:])
    return json.loads(stdout.strip().splitlines()[-1])


def run_env_script(host, src, *args, what="client", python=ENV_PYTHON, env=None):
    """Run a script as env_script_command does; return its JSON report."""
    cmd = host.run(env_script_command(host, src, *args, python=python, env=env))
    return script_report(cmd.rc, cmd.stdout, cmd.stderr, what)


ROUNDTRIP = os.path.join(RESOURCES, "files", "mlflow_roundtrip.py")


def roundtrip_command(host, tracking_uri, size_mb=12, python=ENV_PYTHON, env=None):
    """The command that runs the client round trip (see env_script_command), e.g. in the background."""
    return env_script_command(host, ROUNDTRIP, tracking_uri, uuid.uuid4().hex[:10], size_mb, python=python, env=env)


def run_roundtrip(host, tracking_uri, size_mb=12, python=ENV_PYTHON, env=None):
    """Run the client round trip (roundtrip_command); return its JSON report."""
    cmd = host.run(roundtrip_command(host, tracking_uri, size_mb, python=python, env=env))
    return script_report(cmd.rc, cmd.stdout, cmd.stderr, "client round trip")


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


def unit_exposure(host, unit, offline=False):
    """systemd-analyze security's overall exposure of a unit (0 = locked down, 10 = unprotected); printed.
    offline: `unit` is a unit file's path, scored as the file says (with the drop-ins of its name)."""
    out = host.check_output("systemd-analyze security --no-pager %s %s", "--offline=%s" % str(offline).lower(), unit)
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
