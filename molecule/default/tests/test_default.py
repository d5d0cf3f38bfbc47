"""All-in-one host: service, hardening, secrets, PostgreSQL, and a real MLflow client round trip.

The object store here is SeaweedFS, deployed by the site playbook (roles/seaweedfs, tests in test_seaweedfs.py): the
MinIO binary cannot be downloaded on the test machines. All S3 traffic checked below is real.
"""

import os

import pytest
from mlflow_checks import (
    API,
    ENV_FILE,
    ENV_PYTHON,
    FILES,
    SEAWEEDFS_PORTS,
    ansible_log,
    assert_no_secret_anywhere,
    assert_run_artifact_in_bucket,
    assert_run_rows_in_postgresql,
    assert_sandboxed_process,
    bucket_objects,
    env_python,
    group_hosts,
    group_names,
    http_status,
    longest_outage,
    mlflow_api,
    pinned_mlflow_version,
    platform_expectations,
    run_env_script,
    run_roundtrip,
    sql,
    unit_exposure,
)
from testinfra.modules.ansible import AnsibleException

AUTH_CONFIG = "/etc/mlflow/basic_auth.ini"
BASE = "http://127.0.0.1:5000"
API_SEARCH = BASE + API

testinfra_hosts = group_names("mlflow_server")


def test_the_platform_under_test_with_its_own_postgresql(host):
    """The host runs the platform this run is for (MLFLOW_TEST_PLATFORM), and the postgresql role installed that
    platform's PostgreSQL (roles/postgresql/vars/<distribution>-<major>.yml), running as the cluster's own unit."""
    expected = platform_expectations()
    assert host.system_info.codename == expected["suite"], (host.system_info.codename, expected)
    version = expected["postgresql_version"]
    assert sql(host, "SHOW server_version_num", db="postgres")[:-4] == version
    assert host.service("postgresql@%s-main" % version).is_running
    assert host.package("postgresql-%s" % version).is_installed
    venv_python = host.check_output("readlink -f %s", ENV_PYTHON)
    assert venv_python == "/usr/bin/python%s" % expected["python"], venv_python
    print("\n%s: PostgreSQL %s, Python %s" % (expected["platform"], version, expected["python"]))


def test_service_active_and_enabled(host):
    svc = host.service("mlflow")
    assert svc.is_running
    assert svc.is_enabled


def test_every_mlflow_process_runs_as_mlflow(host):
    main_pid = host.check_output("systemctl show -p MainPID --value mlflow")
    assert host.check_output("ps -o user= -p %s", main_pid) == "mlflow"
    procs = host.check_output("ps -eo user:20,args").splitlines()
    mlflow_procs = [p for p in procs if "/opt/mlflow/envs/mlflow-" in p]
    assert len(mlflow_procs) >= 2, procs  # the server and its uvicorn workers
    assert all(p.split()[0] == "mlflow" for p in mlflow_procs), mlflow_procs
    assert host.user("mlflow").shell == "/usr/sbin/nologin"


def test_secrets_live_only_in_root_owned_0640_files(host, hostvars):
    env = host.file(ENV_FILE)
    auth = host.file(AUTH_CONFIG)
    for config in (env, auth):
        assert config.user == "root" and config.group == "mlflow" and config.mode == 0o640
    # The server's own environment (systemd read the env file): each secret exactly as written, also one with
    # " \ $ % # ` and spaces (mlops.mlflow.env_value quotes it).
    pid = host.check_output("systemctl show -p MainPID --value mlflow")
    environ = dict(
        line.split("=", 1)
        for line in host.check_output("tr '\\0' '\\n' < /proc/%s/environ", pid).splitlines()
        if "=" in line
    )
    for name, variable in (
        ("mlflow_db_password", None),
        ("mlflow_s3_access_key", "AWS_ACCESS_KEY_ID"),
        ("mlflow_s3_secret_key", "AWS_SECRET_ACCESS_KEY"),
        ("mlflow_auth_secret_key", "MLFLOW_FLASK_SERVER_SECRET_KEY"),
        ("mlflow_crypto_kek_passphrase", "MLFLOW_CRYPTO_KEK_PASSPHRASE"),
    ):
        if variable:
            assert environ.get(variable) == hostvars[name], name
        else:
            assert hostvars[name] in environ["MLFLOW_BACKEND_STORE_URI"], name
    for name in ("mlflow_db_password", "mlflow_auth_admin_password"):
        assert hostvars[name] in auth.content_string, name
    assert hostvars["mlflow_auth_admin_password"] not in env.content_string
    assert "EnvironmentFile=/etc/mlflow/mlflow.env" in host.file("/etc/systemd/system/mlflow.service").content_string


def test_no_secret_in_ansible_output_journal_units_or_ps(host, secrets):
    """The converge ran at -v (molecule.yml: ANSIBLE_VERBOSITY=1, ANSIBLE_LOG_PATH); none of 7 secrets leaked."""
    assert len(secrets) == 7, "db, s3 access, s3 secret, SeaweedFS admin, auth admin, auth flask secret, KEK passphrase"
    assert_no_secret_anywhere(host, secrets, ansible_log())


def test_proxied_artifacts_without_default_artifact_root(host):
    content = host.file(ENV_FILE).content_string
    assert 'MLFLOW_SERVE_ARTIFACTS="true"' in content
    assert 'MLFLOW_ARTIFACTS_DESTINATION="s3://mlflow-artifacts"' in content
    # --default-artifact-root s3://... together with --serve-artifacts would bypass the proxy.
    assert "MLFLOW_DEFAULT_ARTIFACT_ROOT" not in content
    assert 'MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false"' in content
    assert "postgresql+psycopg2://" in content


def test_uvloop_installed_for_uvicorn(host):
    assert env_python(host, "import uvloop").rc == 0


def test_httptools_installed_for_uvicorn(host):
    assert env_python(host, "import httptools").rc == 0


def test_a_package_change_restarted_the_server_and_its_workers_use_it(host):
    """side_effect uninstalled httptools and re-ran python_env + server: the package is back, the server restarted
    (new main PID) and its uvicorn workers have httptools' parser loaded, not the pure-Python h11."""
    if (os.environ.get("MLFLOW_TEST_PLATFORM") or "debian12") != "debian12":
        pytest.skip("the side effect runs on Debian 12 only (scripts/test.sh platform_sequence)")
    before = host.file("/root/pid-before-package-change").content_string.strip()
    after = host.file("/root/pid-after-package-change").content_string.strip()
    assert before not in ("", "0") and after not in ("", "0") and after != before, (before, after)
    workers = host.check_output("pgrep -u mlflow -f 'multiprocessing.spawn'").split()
    assert workers, "no uvicorn worker processes"
    for pid in workers:
        assert "httptools" in host.check_output("cat /proc/%s/maps", pid), pid


def test_unit_is_sandboxed(host):
    unit = host.file("/etc/systemd/system/mlflow.service").content_string
    for line in (
        "User=mlflow",
        "Restart=on-failure",
        "NoNewPrivileges=true",
        "ProtectSystem=strict",
        "PrivateTmp=true",
        "ProtectHome=true",
        "PrivateDevices=true",
        "CapabilityBoundingSet=\n",
        "SystemCallFilter=@system-service",
        "MemoryDenyWriteExecute=true",
    ):
        assert line in unit, line
    assert_sandboxed_process(host, "mlflow")
    # docs/security.md, "systemd sandboxing": 1.2 measured in this container (PrivateUsers= off on container hosts)
    assert unit_exposure(host, "mlflow.service") < 2.0


def test_nginx_runs_sandboxed_by_the_drop_in(host):
    """The proxy role's drop-in on the distribution's nginx.service: "OK" in systemd-analyze's words (below 3.0;
    docs/security.md has the score per platform, as this test prints it)."""
    assert "/etc/systemd/system/nginx.service.d/mlflow-hardening.conf" in host.check_output(
        "systemctl show -p DropInPaths --value nginx"
    )
    assert unit_exposure(host, "nginx.service") < 3.0


def test_pg_hba_has_no_trust_and_admits_only_loopback_for_mlflow(host):
    hba_path = sql(host, "SHOW hba_file", db="postgres")
    lines = [
        line.split()
        for line in host.file(hba_path).content_string.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert not [line for line in lines if "trust" in line], lines
    for db in ("mlflow", "mlflow_auth"):  # tracking and basic-auth databases
        mlflow_lines = [line for line in lines if len(line) >= 5 and line[1] == db]
        assert sorted(line[3] for line in mlflow_lines) == ["127.0.0.1/32", "::1/128"], db
        assert all(line[2] == "mlflow" and line[4] == "scram-sha-256" for line in mlflow_lines), db
    assert (
        sql(host, "SELECT rolpassword LIKE 'SCRAM-SHA-256$%' FROM pg_authid WHERE rolname = 'mlflow'", db="postgres")
        == "t"
    )


def test_behind_its_own_proxy_mlflow_and_the_store_listen_on_loopback_only(host):
    """The only proxy is this host: MLflow listens on 127.0.0.1 (the laptop's test shows what that means from
    outside); PostgreSQL and SeaweedFS (S3 API, its gRPC port, master, volume server, filer) do too."""
    for port in (5000, 5433) + SEAWEEDFS_PORTS:
        listening = host.check_output("ss -Hltn 'sport = :%s' | awk '{print $4}' | sort -u", str(port)).split()
        assert listening and set(listening) <= {"127.0.0.1:%d" % port, "[::1]:%d" % port}, (port, listening)
    assert http_status(host, "http://127.0.0.1:5000/health") == 200


def test_unknown_host_header_is_refused(host):
    assert http_status(host, API_SEARCH, "evil.example.com", authenticated=True) in (400, 403)
    assert http_status(host, API_SEARCH, authenticated=True) == 200


def test_api_requires_a_login_but_health_does_not(host):
    assert http_status(host, API_SEARCH) == 401
    assert http_status(host, API_SEARCH, authenticated=True) == 200
    assert http_status(host, "http://127.0.0.1:5000/health") == 200
    unit = host.file("/etc/systemd/system/mlflow.service").content_string
    assert "mlflow server --app-name basic-auth" in unit


def test_users_get_the_default_permission_and_no_more(host):
    """mlflow_auth_default_permission READ: a new user reads others' experiments, writes only its own."""
    # as the admin (root's credentials file): create a user with a fresh password, then act as that user
    got = mlflow_api(host, "permissions", BASE)
    assert got["create_user"] == 200 and got["wrong_password"] == 401, got
    assert got["read_admin_experiment"] == 200 and got["write_admin_experiment"] == 403, got
    assert got["create_own_experiment"] == 200 and got["write_own_experiment"] == 200, got
    # the user is a row in the auth database, not in the tracking database
    assert sql(host, "SELECT count(*) FROM users WHERE username = '%s'" % got["user"], db="mlflow_auth") == "1"


def test_a_changed_password_locks_the_old_one_out_within_the_cache_ttl(host, hostvars):
    """mlflow_auth_cache_ttl_seconds caches successful checks per worker: after a password change the old password
    may work on other workers for up to the TTL, never longer; the new one works at once."""
    ttl = int(hostvars["mlflow_auth_cache_ttl_seconds"])
    assert "auth_cache_ttl_seconds = %d" % ttl in host.file(AUTH_CONFIG).content_string
    got = mlflow_api(host, "password-rotation", BASE, ttl)
    assert got["create"] == 200 and got["update"] == 200 and got["old_before"] == [200], got
    assert got["new_at_once"] == [200], got
    assert got["old_after_ttl"] == [401] and got["new_after_ttl"] == [200], got


def test_auth_database_is_separate_and_at_head(host, hostvars):
    admin = hostvars.get("mlflow_auth_admin_username", "admin")
    assert sql(host, "SELECT is_admin FROM users WHERE username = '%s'" % admin, db="mlflow_auth") == "t"
    assert sql(host, "SELECT count(*) FROM pg_tables WHERE tablename = 'users'", db="mlflow") == "0"
    assert (
        sql(host, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'mlflow_auth'", db="postgres")
        == "mlflow"
    )
    uri = host.check_output("bash -c 'set -a; . %s; echo \"$MLFLOW_BACKEND_STORE_URI\"'", ENV_FILE)
    result = host.ansible(
        "mlops.mlflow.db_upgrade",
        "python=%s schema=auth backend_store_uri=%s" % (ENV_PYTHON, uri.replace("/mlflow?", "/mlflow_auth?")),
        check=False,
        become=True,
    )
    assert result["changed"] is False and result["pending"] == [], result
    assert result["current_revision"] == result["head_revision"]
    assert sql(host, "SELECT version_num FROM alembic_version_auth", db="mlflow_auth") == result["head_revision"]


@pytest.fixture(scope="module")
def roundtrip(host):
    return run_roundtrip(host, BASE)


def test_client_round_trip_goes_through_the_proxy(roundtrip):
    assert roundtrip["artifact_uri"].startswith("mlflow-artifacts:/"), roundtrip


def test_artifacts_are_in_the_bucket(host, roundtrip):
    assert_run_artifact_in_bucket(host, roundtrip)
    model_objects = bucket_objects(host, "mlflow-artifacts", "%s/" % roundtrip["experiment_id"])
    assert any(key.endswith("/MLmodel") for key in model_objects), sorted(model_objects)


def test_rows_are_in_postgresql(host, roundtrip):
    assert_run_rows_in_postgresql(host, roundtrip)


def test_db_upgrade_is_a_noop_at_head(host):
    uri = host.check_output("bash -c 'set -a; . %s; echo \"$MLFLOW_BACKEND_STORE_URI\"'", ENV_FILE)
    result = host.ansible(
        "mlops.mlflow.db_upgrade", "python=%s backend_store_uri=%s" % (ENV_PYTHON, uri), check=False, become=True
    )
    assert result["changed"] is False, result
    assert result["pending"] == []
    assert result["current_revision"] == result["head_revision"]
    assert result["mlflow_version"] == pinned_mlflow_version()


def test_db_upgrade_initialises_dry_runs_and_refuses_a_newer_schema(host, hostvars):
    """db_upgrade on a scratch database of the real PostgreSQL, as the postgres superuser (peer auth)."""
    sql(host, "DROP DATABASE IF EXISTS mlflow_scratch", db="postgres")
    sql(host, "CREATE DATABASE mlflow_scratch", db="postgres")
    uri = "postgresql+psycopg2:///mlflow_scratch?host=/var/run/postgresql&port=%s" % hostvars["mlflow_postgresql_port"]
    args = "python=%s backend_store_uri=%s" % (ENV_PYTHON, uri)
    try:
        dry = host.ansible("mlops.mlflow.db_upgrade", args, check=True, become=True, become_user="postgres")
        assert dry["changed"] is True and dry["current_revision"] is None
        assert len(dry["pending"]) > 50 and dry["pending"][-1]["revision"] == dry["head_revision"]
        assert sql(host, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", db="mlflow_scratch") == "0"

        done = host.ansible("mlops.mlflow.db_upgrade", args, check=False, become=True, become_user="postgres")
        assert done["changed"] is True and done["initialized"] is True
        assert done["current_revision"] == done["head_revision"]
        assert int(sql(host, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", db="mlflow_scratch")) > 20

        again = host.ansible("mlops.mlflow.db_upgrade", args, check=False, become=True, become_user="postgres")
        assert again["changed"] is False and again["pending"] == []

        # a schema migrated by a newer MLflow than the installed one: refuse, change nothing
        sql(host, "UPDATE alembic_version SET version_num = 'ffffffffffff'", db="mlflow_scratch")
        try:
            refused = host.ansible("mlops.mlflow.db_upgrade", args, check=False, become=True, become_user="postgres")
        except AnsibleException as exc:  # testinfra raises only when the result carries failed=true
            refused = exc.result
        assert "was migrated by a newer MLflow" in refused.get("msg", ""), refused
        assert refused["changed"] is False and refused["current_revision"] == "ffffffffffff"
        assert sql(host, "SELECT version_num FROM alembic_version", db="mlflow_scratch") == "ffffffffffff"
    finally:
        sql(host, "DROP DATABASE IF EXISTS mlflow_scratch", db="postgres")


def test_the_upgrade_outage_with_one_server(host):
    """side_effect's upgrade (a schema migration, one server) while the laptop asked /health through the proxy: the
    server stops for the dump and the migration, then starts; the longest stretch without an answer is printed."""
    if (os.environ.get("MLFLOW_TEST_PLATFORM") or "debian12") != "debian12":
        pytest.skip("the side effect runs on Debian 12 only (scripts/test.sh platform_sequence)")
    laptop = group_hosts("outside_clients")[0]
    log = laptop.file("/root/probe.log").content_string
    assert log.strip().splitlines()[-1].endswith(" 200"), log[-300:]
    longest, failed = longest_outage(log)
    print(
        "\nUPGRADE one server, schema migrated one revision: /health through the proxy unanswered for %.1f s "
        "(%d failed probes)" % (longest, failed)
    )
    assert longest < 120


def test_upgrade_backed_up_first_and_kept_the_data(host):
    """side_effect put the schema one revision back with a sentinel row, then re-ran the site playbook."""
    if (os.environ.get("MLFLOW_TEST_PLATFORM") or "debian12") != "debian12":
        pytest.skip("the side effect runs on Debian 12 only (scripts/test.sh platform_sequence)")
    dumps = host.check_output("ls -1A /var/backups/mlflow").split()
    assert dumps and all(d.endswith(".pgc") for d in dumps), dumps
    dump = "/var/backups/mlflow/" + sorted(d for d in dumps if d.startswith("mlflow-pre-migration-"))[-1]
    assert host.file(dump).user == "postgres" and host.file(dump).mode == 0o600
    assert host.file("/var/backups/mlflow").mode == 0o700
    # pg_dump's custom format, taken from the cluster on port 5433 (molecule.yml): pg_restore --create makes the
    # database again from it
    script = host.check_output("runuser -u postgres -- pg_restore --create --schema-only -f - %s", dump)
    assert "CREATE DATABASE mlflow " in script, script[:2000]
    sentinel = host.check_output(
        "runuser -u postgres -- pg_restore --data-only -f - %s | grep -c pre-upgrade-sentinel || true", dump
    )
    assert int(sentinel) >= 1
    assert sql(host, "SELECT count(*) FROM experiments WHERE name = 'pre-upgrade-sentinel'") == "1"


def test_nginx_drops_idle_upstream_connections_before_mlflow_does(host):
    """The keep-alive race (sporadic 502s on POST): nginx must never reuse a connection MLflow is closing, so its
    upstream keepalive_timeout is below the idle time after which the running server really closes one."""
    measured = run_env_script(host, os.path.join(FILES, "keepalive_probe.py"), "127.0.0.1", "5000")[
        "idle_close_seconds"
    ]
    config = host.check_output("nginx -T 2>/dev/null")
    upstream = config[config.index("upstream mlflow_tracking") :]
    upstream = upstream[: upstream.index("}")]
    timeouts = [
        line.split()[1].rstrip(";") for line in upstream.splitlines() if line.strip().startswith("keepalive_timeout")
    ]
    assert len(timeouts) == 1, upstream
    nginx_seconds = float(timeouts[0].rstrip("s"))
    print("KEEPALIVE nginx upstream %.0f s, MLflow closes an idle connection after %.1f s" % (nginx_seconds, measured))
    assert nginx_seconds <= measured - 0.5, (nginx_seconds, measured)
