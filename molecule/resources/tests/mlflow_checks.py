"""Fixtures and helpers shared by the molecule scenarios' testinfra tests."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import tempfile
import uuid

import pytest

RESOURCES = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The programs the tests run on the hosts (shared with scripts/deploy-local.sh's smoke test)
FILES = os.path.normpath(os.path.join(RESOURCES, "..", "..", "tests", "clients"))
# The link the server role points at the environment the servers run (python_env: one venv per MLflow version)
ENV_PYTHON = "/opt/mlflow/current/bin/python"
SYSTEM_PYTHON = "/usr/bin/python3"
ENV_FILE = "/etc/mlflow/mlflow.env"
# Clients run with root's HOME: MLflow's credentials file there (~/.mlflow/credentials, written by
# resources/playbooks/test_clients.yml) logs them in, so no password is ever on a command line.
CLIENT_HOME = "/root"
# The molecule runs' Ansible log (ANSIBLE_LOG_PATH in .config/molecule/config.yml). The verifier's own
# ansible calls (testinfra's inventory dumps hold every variable) must not write to it: taken out of the
# environment here, before any test runs.
ANSIBLE_LOG_PATH = os.environ.pop("ANSIBLE_LOG_PATH", None)
# SeaweedFS's ports with the seaweedfs role's defaults: S3 API, master, volume server, filer, each + 10000 for gRPC.
SEAWEEDFS_PORTS = (8333, 18333, 9333, 19333, 8080, 18080, 8888, 18888)

SECRET_NAMES = [
    "mlflow_db_password",
    "mlflow_s3_access_key",
    "mlflow_s3_secret_key",
    "mlflow_minio_root_password",
    "mlflow_seaweedfs_admin_secret_key",
    "mlflow_seaweedfs_cluster_secret",
    "mlflow_auth_admin_password",
    "mlflow_auth_secret_key",
    "mlflow_crypto_kek_passphrase",
]


@pytest.fixture(scope="module")
def hostvars(host):
    return host.ansible.get_variables()


@pytest.fixture(scope="module")
def secrets(hostvars):
    values = [hostvars[n] for n in SECRET_NAMES if hostvars.get(n)]
    assert values, "the scenario defines no secrets to look for"
    return values


def group_names(group):
    """Names of the scenario's hosts in an inventory group: a test module's `testinfra_hosts`."""
    import testinfra.utils.ansible_runner

    return testinfra.utils.ansible_runner.AnsibleRunner(os.environ["MOLECULE_INVENTORY_FILE"]).get_hosts(group)


def group_hosts(group):
    """testinfra hosts of an inventory group, for checks that look at another host than the one under test."""
    import testinfra

    inventory = os.environ["MOLECULE_INVENTORY_FILE"]
    return [testinfra.get_host("ansible://%s" % name, ansible_inventory=inventory) for name in group_names(group)]


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


def env_command(argv, with_env_file=False, env=None, user=None):
    """The shell command that runs argv with clean_env(env): without the server's environment file the process
    has no secrets; with_env_file: its variables too (the store's keys). user: as that account (runuser)."""
    quoted = " ".join(shlex.quote(str(a)) for a in argv)
    if with_env_file:
        quoted = "bash -c %s %s" % (shlex.quote('set -a; . %s; set +a; exec "$0" "$@"' % ENV_FILE), quoted)
    return ("runuser -u %s -- " % user if user else "") + clean_env(env) + " " + quoted


def env_python(host, code, *args, with_env_file=False, python=ENV_PYTHON, env=None):
    """Run a line or two of Python code in the MLflow environment (or `python`), as env_command does.
    Anything longer is a program in tests/clients, run by run_env_script."""
    return host.run(env_command([python, "-c", code, *args], with_env_file, env))


def pinned_mlflow_version():
    """mlflow_version as the collection pins it by default (roles/_common, read by python_env and server)."""
    import yaml

    with open(os.path.join(RESOURCES, "..", "..", "roles", "_common", "defaults", "main.yml")) as handle:
        return yaml.safe_load(handle)["mlflow_version"]


def environment_of(host, family, version):
    """The one environment of MLflow <version> on host, family being the python_env role's root and family name
    (/opt/mlflow/envs/mlflow, <conda prefix>/envs/<conda env name>): <family>-<version>-<8 hex digits of its package
    set> (roles/python_env/vars/main.yml). A scenario's inventory sets one package set per version."""
    found = host.check_output("ls -d %s-%s-*/ 2>/dev/null || true", family, version).split()
    assert len(found) == 1 and re.fullmatch(re.escape("%s-%s-" % (family, version)) + "[0-9a-f]{8}/", found[0]), found
    return found[0].rstrip("/")


# Test programs go here on the hosts, readable by every account (the SFTP probe runs as the service account).
SCRIPTS_DIR = "/usr/local/share/mlflow-tests"
_copied = set()


def copy_script(host, src):
    """Copy a script from the controller into SCRIPTS_DIR on the host, once per test session (the copy is an
    Ansible call); return its path there."""
    key = (host.backend.get_hostname(), src)
    if key not in _copied:
        host.ansible("ansible.builtin.copy", "src=%s dest=%s/ mode=0644" % (src, SCRIPTS_DIR), become=True, check=False)
        _copied.add(key)
    return "%s/%s" % (SCRIPTS_DIR, os.path.basename(src))


def env_script_command(host, src, *args, python=ENV_PYTHON, env=None, with_env_file=False, user=None):
    """Copy a script into the host; return the command that runs it with `python` (the MLflow environment's)
    and an empty environment (no store credentials; HOME holds MLflow's credentials file when
    authentication is on) plus `env` (e.g. MLFLOW_TRACKING_SERVER_CERT_PATH); see env_command."""
    return env_command([python, copy_script(host, src), *args], with_env_file, env, user)


def script_report(rc, stdout, stderr, what="client"):
    """The JSON report on the last line of a script's output, or a failure showing that output."""
    assert rc == 0, "%s failed:\n%s\n%s" % (what, stdout[-3000:], stderr[-5000:])
    return json.loads(stdout.strip().splitlines()[-1])


def run_env_script(host, src, *args, what="client", python=ENV_PYTHON, env=None, with_env_file=False, user=None):
    """Run a script as env_script_command does; return its JSON report."""
    cmd = host.run(env_script_command(host, src, *args, python=python, env=env, with_env_file=with_env_file, user=user))
    return script_report(cmd.rc, cmd.stdout, cmd.stderr, what)


# --- The MLflow REST client of the tests (tests/clients/mlflow_api.py) ------------------------------------------

MLFLOW_API = os.path.join(FILES, "mlflow_api.py")


def mlflow_api(host, command, *args, python=ENV_PYTHON, env=None):
    """Run one mlflow_api.py command (get, server-info, permissions, password-rotation) on the host as root
    (credentials from root's MLflow credentials file); return its JSON answer."""
    return run_env_script(host, MLFLOW_API, command, *args, what="mlflow_api.py %s" % command, python=python, env=env)


def http_response(
    host, url, host_header=None, authenticated=False, python=ENV_PYTHON, cafile=None, follow_redirects=True
):
    """[status, Location header] of a GET from the host; [None, error] when no HTTP answer came.
    authenticated: with the user in root's MLflow credentials file (basic auth); cafile: CA bundle to trust."""
    options = ["--host-header", host_header] if host_header else []
    options += ["--cafile", cafile] if cafile else []
    options += [] if follow_redirects else ["--no-follow"]
    options += ["--authenticated"] if authenticated else []
    return mlflow_api(host, "get", url, *options, python=python)


def http_status(host, url, host_header=None, authenticated=False, python=ENV_PYTHON, cafile=None):
    """HTTP status of a GET (redirects followed); None when no HTTP answer came."""
    return http_response(host, url, host_header, authenticated, python=python, cafile=cafile)[0]


def server_info(host, base_url, cafile=None, python=SYSTEM_PYTHON):
    """The server's /api/3.0/mlflow/server-info answer, as a client on the host gets it."""
    return mlflow_api(host, "server-info", base_url, *(["--cafile", cafile] if cafile else []), python=python)


# --- The platform under test -------------------------------------------------------------------------------------

REPO = os.path.normpath(os.path.join(RESOURCES, "..", ".."))


def platform_table():
    """{platform: {suite, script, registry, python, vars}} as tests/images/platforms.sh defines them, in its order."""
    with open(os.path.join(REPO, "tests", "images", "platforms.sh")) as handle:
        text = handle.read()
    table = {}
    for platform in re.search(r"^PLATFORMS=\((.*)\)$", text, re.M).group(1).split():
        line = re.search(r"^\s*%s\)\s+(.*?);;" % re.escape(platform), text, re.M).group(1)
        table[platform] = dict(field.split("=", 1) for field in line.split())
    return table


def platform_expectations(platform=None):
    """What a host of the platform under test (MLFLOW_TEST_PLATFORM, default debian12) must have: its release's
    codename and Python (tests/images/platforms.sh) and the PostgreSQL major version the postgresql role's vars
    file for it names (roles/postgresql/vars/<distribution>-<major>.yml)."""
    import yaml  # noqa: PLC0415 (Ansible's dependency; only these tests need it)

    platform = platform or os.environ.get("MLFLOW_TEST_PLATFORM") or "debian12"
    table = platform_table()
    assert platform in table, "platform %s is not in tests/images/platforms.sh" % platform
    fields = table[platform]
    with open(os.path.join(REPO, "roles", "postgresql", "vars", fields["vars"] + ".yml")) as handle:
        postgresql = yaml.safe_load(handle)
    return {
        "platform": platform,
        "suite": fields["suite"],
        "python": fields["python"],
        "postgresql_version": postgresql["_mlflow_postgresql_version"],
    }


# --- A client outside the servers' network (outside_clients), and the proxy it reaches ---------------------------

CLIENT_PYTHON = "/opt/mlflow-client/bin/python"
# A request every authenticated API client may make (one experiment, or none).
API = "/api/2.0/mlflow/experiments/search?max_results=1"
# The 12 MB artifact is over this, so a 3.17 client takes the multipart (presigned) path if it is offered.
MULTIPART = {"MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE": str(1024 * 1024)}


@pytest.fixture(scope="module")
def name(hostvars):
    """The proxy's public name."""
    return hostvars["mlflow_proxy_server_name"]


@pytest.fixture(scope="module")
def url(name):
    return "https://%s" % name


@pytest.fixture(scope="module")
def proxy():
    return group_hosts("mlflow_proxy")[0]


@pytest.fixture(scope="module")
def proxy_cert(name):
    """The certificate file on the proxy host."""
    return "/etc/nginx/mlflow-tls/%s.crt" % name


@pytest.fixture(scope="module")
def cert(host, proxy, proxy_cert):
    """The proxy's self-signed certificate, handed to the client host as a user gets it (a file they trust)."""
    path = "/root/mlflow-proxy.crt"
    content = proxy.file(proxy_cert).content_string
    host.run_expect([0], "printf '%%s' %s > %s", content, path)
    return path


# --- The proxy's access log ---------------------------------------------------------------------------------------

ACCESS_LOG = "/var/log/nginx/access.log"


def access_log_length(proxy):
    return len(proxy.file(ACCESS_LOG).content_string.splitlines())


def is_presigned_request(path):
    """A request for MLflow's presigned-download or multipart-upload endpoints (straight-to-store transfers)."""
    return "/presigned/" in path or "/mpu/" in path


def artifact_requests(proxy, since_line, run_id):
    """(method, path, status, bytes sent) of the proxy's artifact-API requests for one run, from since_line on."""
    found = []
    for line in proxy.file(ACCESS_LOG).content_string.splitlines()[since_line:]:
        match = re.search(r'"(\S+) (\S+) HTTP/[^"]*" (\d+) (\d+)', line)
        if (
            match
            and "mlflow-artifacts" in match.group(2)
            and (run_id in match.group(2) or is_presigned_request(match.group(2)))
        ):
            found.append((match.group(1), match.group(2), int(match.group(3)), int(match.group(4))))
    return found


def assert_every_artifact_byte_through_the_proxy(proxy, since_line, roundtrip):
    """The round trip's blob went up (PUT 200) and fully down (GET 200) through MLflow's artifact API on the
    proxy, from access-log line since_line on, and no presigned (straight-to-store) transfer was asked for."""
    requests = artifact_requests(proxy, since_line, roundtrip["run_id"])
    blob = [r for r in requests if r[1].endswith("/artifacts/data/blob.bin")]
    assert ("PUT", 200) in [(r[0], r[2]) for r in blob], requests
    downloads = [r for r in blob if r[0] == "GET" and r[2] == 200]
    assert downloads and downloads[-1][3] >= roundtrip["size_bytes"], requests
    assert not [r for r in requests if is_presigned_request(r[1])], requests


# --- Other programs on the hosts ---------------------------------------------------------------------------------


def tls_handshake(host, name, port, version, cafile, python=SYSTEM_PYTHON):
    """The protocol agreed when the client offers only `version` (TLSv1, TLSv1_1, TLSv1_2, TLSv1_3), or 'REFUSED ...'."""
    return run_env_script(
        host, os.path.join(FILES, "tls_handshake.py"), name, port, cafile, version, what="TLS handshake", python=python
    )


def tcp_reach(host, targets, python=SYSTEM_PYTHON):
    """{HOST:PORT: "connected" | "no such name" | the error's class name} for TCP connections from the host."""
    return run_env_script(host, os.path.join(FILES, "tcp_reach.py"), *targets, what="tcp_reach.py", python=python)


ROUNDTRIP = os.path.join(FILES, "mlflow_roundtrip.py")


def roundtrip_command(host, tracking_uri, size_mb=12, python=ENV_PYTHON, env=None):
    """The command that runs the client round trip (see env_script_command), e.g. in the background."""
    return env_script_command(host, ROUNDTRIP, tracking_uri, uuid.uuid4().hex[:10], size_mb, python=python, env=env)


def run_roundtrip(host, tracking_uri, size_mb=12, python=ENV_PYTHON, env=None):
    """Run the client round trip (roundtrip_command); return its JSON report."""
    cmd = host.run(roundtrip_command(host, tracking_uri, size_mb, python=python, env=env))
    return script_report(cmd.rc, cmd.stdout, cmd.stderr, "client round trip")


# tests/clients/s3_probe.py access, against a store that limits MLflow's keys to its bucket (SeaweedFS's identity,
# or MinIO's user made by mlops.mlflow.minio_user): what each identity may do.
BUCKET_SCOPED_ACCESS = {
    "mlflow writes its bucket": "ok",
    "mlflow lists its bucket": "ok",
    "mlflow creates a bucket": "AccessDenied",
    "wrong secret": "SignatureDoesNotMatch",
    "unknown key": "InvalidAccessKeyId",
    "admin lists buckets": "ok",
    "admin creates a bucket": "ok",
    "mlflow writes the admin's bucket": "AccessDenied",
    "admin deletes its bucket": "ok",
}


def read_back(host, tracking_uri, roundtrip, python=ENV_PYTHON, env=None):
    """An earlier round trip's artifact and model, read again by a client on the host: {sha256, predictions}."""
    return run_env_script(
        host,
        ROUNDTRIP,
        "--read-back",
        tracking_uri,
        roundtrip["run_id"],
        roundtrip["registered_model"],
        what="client read-back",
        python=python,
        env=env,
    )


def bucket_objects(host, bucket, prefix):
    """{key: size} of the objects under prefix, listed with the server's own S3 settings."""
    return run_env_script(
        host, os.path.join(FILES, "bucket_objects.py"), bucket, prefix, what="bucket listing", with_env_file=True
    )


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


def private_key_lines(host, path):
    """The base64 lines of a PEM private key on the host that are secret: an EC key's PEM ends with its public
    point, so its last line can be part of the public key's base64 (which community.crypto prints on purpose)."""
    private = host.check_output("cat %s", path).splitlines()
    public = "".join(
        line for line in host.check_output("openssl pkey -in %s -pubout", path).splitlines() if "-----" not in line
    )
    lines = [line for line in private if line and "-----" not in line and line not in public]
    assert lines, "no private line in %s" % path
    return lines


def unit_exposure(host, unit, offline=False):
    """systemd-analyze security's overall exposure of a unit (0 = locked down, 10 = unprotected); printed.
    offline: `unit` is a unit file's path, scored as the file says (with the drop-ins of its name)."""
    out = host.check_output("systemd-analyze security --no-pager %s %s", "--offline=%s" % str(offline).lower(), unit)
    last = [line for line in out.splitlines() if "Overall exposure level" in line][-1]
    score = float(last.split(":", 1)[1].split()[0])
    platform = os.environ.get("MLFLOW_TEST_PLATFORM") or "debian12"
    print("EXPOSURE %s on %s (%s): %.1f" % (unit, host.backend.get_hostname(), platform, score))
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


def failed_tasks(json_stdout):
    """[(task name, message)] of every failed task in ansible-playbook's json callback output, in order; for a loop,
    each failed item's message (the loop's own is only "One or more items failed"). Rescued failures included."""
    report = json.loads(json_stdout)
    return [
        (task["task"]["name"], item.get("msg", ""))
        for play in report["plays"]
        for task in play["tasks"]
        for outcome in task["hosts"].values()
        if outcome.get("failed") and not outcome.get("ignore_errors")
        for item in [r for r in outcome.get("results", []) if r.get("failed")] or [outcome]
    ]


def run_playbook(playbook, inventory, extra_vars=None, check=False, env=None, cwd=None, timeout=900, limit=None):
    """ansible-playbook as every test runs it: colours off, output captured; returns the CompletedProcess.
    playbook: a path, or a list of plays; inventory: a path, or a dict; extra_vars: a dict (-e @file);
    env: on top of this process's environment; limit: ansible-playbook --limit.
    Plays, inventory and variables go to temporary files."""
    with tempfile.TemporaryDirectory() as tmp:

        def written(name, content):
            if not isinstance(content, (list, dict)):
                return str(content)
            path = os.path.join(tmp, name)
            with open(path, "w") as handle:
                json.dump(content, handle)  # JSON is YAML: ansible-playbook reads all three as YAML
            return path

        args = ["ansible-playbook", "-i", written("inventory.json", inventory)]
        args += ["--check"] if check else []
        args += ["--limit", limit] if limit else []
        args += ["-e", "@" + written("vars.json", extra_vars)] if extra_vars is not None else []
        args.append(written("playbook.yml", playbook))
        return subprocess.run(
            args,
            capture_output=True,
            text=True,
            env={**os.environ, "ANSIBLE_NOCOLOR": "1", **(env or {})},
            cwd=cwd,
            timeout=timeout,
        )


def longest_outage(log):
    """(longest stretch in s without a 200, failed probes) from tests/clients/health_probe.py's output: from the first
    failure to the next 200, or to the last probe when no 200 came after it."""
    longest, down_since, failed, when = 0.0, None, 0, None
    for line in log.splitlines():
        if not line.strip():
            continue
        when, status = line.split()
        if status != "200":
            failed += 1
            down_since = float(when) if down_since is None else down_since
        elif down_since is not None:
            longest, down_since = max(longest, float(when) - down_since), None
    if down_since is not None:
        longest = max(longest, float(when) - down_since)
    return longest, failed
