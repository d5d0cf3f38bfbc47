#!/usr/bin/env python3
"""The Python steps of scripts/deploy-local.sh (the main job), one subcommand each:

  secrets PATH                  add any missing generated secret to the 0600 secrets file (existing ones kept)
  smoke URL SECRETS CERT        REST smoke test through the proxy: 401 without a login, then as the admin an
                                experiment, a run and a metric read back
  credentials SECRETS OUT       write MLflow's credentials file (the admin's login) for the client's home
  report ROUNDTRIP_JSON VERSION one line on the MLflow client's round trip (tests/clients/mlflow_roundtrip.py)

Only the standard library: it runs with the machine's python3.
"""

import base64
import json
import secrets
import ssl
import sys
import time
import urllib.error
import urllib.request

GENERATED = {
    "mlflow_db_password": lambda: secrets.token_urlsafe(24),
    "mlflow_s3_access_key": lambda: secrets.token_hex(10),
    "mlflow_s3_secret_key": lambda: secrets.token_urlsafe(30),
    "mlflow_seaweedfs_admin_access_key": lambda: "admin-" + secrets.token_hex(6),
    "mlflow_seaweedfs_admin_secret_key": lambda: secrets.token_urlsafe(30),
    "mlflow_auth_admin_password": lambda: secrets.token_urlsafe(18),
    "mlflow_auth_secret_key": lambda: secrets.token_hex(32),
    "mlflow_crypto_kek_passphrase": lambda: secrets.token_hex(32),
}


def read_secrets(path):
    """The secrets file this script writes: `key: "value"` lines (URL-safe values, nothing to unescape)."""
    with open(path) as handle:
        lines = handle.read().splitlines()
    return dict(line.replace('"', "").split(": ", 1) for line in lines if ": " in line)


def add_secrets(path):
    with open(path) as handle:
        have = handle.read()
    with open(path, "a") as handle:
        if not have.startswith("---"):
            handle.write("---\n")
        for key, make in GENERATED.items():
            if "\n%s:" % key not in "\n" + have:
                handle.write('%s: "%s"\n' % (key, make()))


def smoke(base, secrets_path, cafile):
    if not base.startswith("https://"):
        raise SystemExit("smoke: %s is not an https:// URL" % base)
    context = ssl.create_default_context(cafile=cafile)
    urllib.request.install_opener(urllib.request.build_opener(urllib.request.HTTPSHandler(context=context)))
    password = read_secrets(secrets_path)["mlflow_auth_admin_password"]
    login = "Basic " + base64.b64encode(("admin:" + password).encode()).decode()
    try:
        urllib.request.urlopen(base + "/api/2.0/mlflow/experiments/search?max_results=1", timeout=30)  # noqa: S310
        raise SystemExit("the API answered without a login")
    except urllib.error.HTTPError as exc:
        assert exc.code == 401, exc.code

    def call(path, body=None):
        request = urllib.request.Request(  # noqa: S310 - https:// checked above
            base + path,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Content-Type": "application/json", "Authorization": login},
            method="POST" if body is not None else "GET",
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            raw = response.read()
            return json.loads(raw) if raw.strip().startswith(b"{") else raw.decode()

    now_ms = int(time.time() * 1000)
    assert call("/health").strip() == "OK"
    experiment = call("/api/2.0/mlflow/experiments/create", {"name": "smoke-%d" % time.time()})["experiment_id"]
    run = call("/api/2.0/mlflow/runs/create", {"experiment_id": experiment, "start_time": now_ms})
    run_id = run["run"]["info"]["run_id"]
    metric = {"run_id": run_id, "key": "smoke", "value": 1.0, "timestamp": now_ms, "step": 0}
    call("/api/2.0/mlflow/runs/log-metric", metric)
    got = call("/api/2.0/mlflow/runs/get?run_id=" + run_id)["run"]["data"]["metrics"]
    assert got[0]["key"] == "smoke" and got[0]["value"] == 1.0, got
    print("smoke: OK (401 without a login; as admin: experiment %s, run %s, metric read back)" % (experiment, run_id))


def credentials(secrets_path, out):
    password = read_secrets(secrets_path)["mlflow_auth_admin_password"]
    with open(out, "w") as handle:
        handle.write("[mlflow]\nmlflow_tracking_username = admin\nmlflow_tracking_password = %s\n" % password)


def report(roundtrip, version):
    r = json.loads(roundtrip.strip().splitlines()[-1])
    print(
        "smoke: OK with the MLflow %s client (run %s; %d MB artifact up in %.2f s and back, sha256 %s...; "
        "model %s v%s registered and loaded)"
        % (
            version,
            r["run_id"],
            r["size_bytes"] >> 20,
            r["upload_seconds"],
            r["sha256"][:12],
            r["registered_model"],
            r["model_version"],
        )
    )


COMMANDS = {"secrets": add_secrets, "smoke": smoke, "credentials": credentials, "report": report}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        raise SystemExit(__doc__)
    COMMANDS[sys.argv[1]](*sys.argv[2:])
