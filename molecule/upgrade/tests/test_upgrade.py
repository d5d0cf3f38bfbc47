"""Version upgrade from MLflow 2.20.3 (the seed guide's) to the collection's default with the site playbook, on two
tracking servers behind the proxy with authentication on, and the day-2 jobs on the upgraded servers: the backup
timer's dump and a restore, gc, metrics. The tests run in order; the upgrade is a module fixture. Clients run on the
proxy's host and reach MLflow by the public name only (prepare.yml resolves it to 127.0.0.1)."""

import json
import os
import re
import time

import pytest
from mlflow_checks import (
    FILES,
    SYSTEM_PYTHON,
    bucket_objects,
    copy_script,
    env_command,
    environment_of,
    failed_tasks,
    longest_outage,
    pinned_mlflow_version,
    run_env_script,
    run_playbook,
    sql,
)

testinfra_hosts = ["mlflow-up-aio"]

SITE = os.path.join(os.environ.get("MOLECULE_PROJECT_DIRECTORY", "."), "playbooks", "site.yml")
RESTORE = os.path.join(os.environ.get("MOLECULE_PROJECT_DIRECTORY", "."), "playbooks", "restore.yml")
MIGRATE = os.path.join(os.environ.get("MOLECULE_PROJECT_DIRECTORY", "."), "playbooks", "migrate.yml")
INVENTORY = os.environ.get("MOLECULE_INVENTORY_FILE", "")
OLD, NEW = "2.20.3", pinned_mlflow_version()
ENVS = "/opt/mlflow/envs"
URL = "https://mlflow.upgrade.test"
CERT = "/etc/nginx/mlflow-tls/mlflow.upgrade.test.crt"
CLIENT_ENV = {"MLFLOW_TRACKING_SERVER_CERT_PATH": CERT}
DATA = os.path.join(FILES, "upgrade_data.py")
JSON_RUN = {"ANSIBLE_STDOUT_CALLBACK": "json", "ANSIBLE_LOG_PATH": "/dev/null"}
SERVERS = ["mlflow-up-aio", "mlflow-up-app2"]


def env_of(host, version):
    return environment_of(host, ENVS + "/mlflow", version)


def python_of(host, version):
    return env_of(host, version) + "/bin/python"


def runs(server, version):
    """The server's unit runs MLflow from an environment of <version>."""
    pattern = r"ExecStart=%s/mlflow-%s-[0-9a-f]{8}/bin/mlflow server" % (ENVS, re.escape(version))
    return re.search(pattern, unit_of(server)) is not None


def data(host, *args, python=None):
    python = python or python_of(host, NEW)
    return run_env_script(host, DATA, *args, what="upgrade_data.py %s" % args[0], python=python, env=CLIENT_ENV)


def site(extra_vars=None):
    return run_playbook(SITE, INVENTORY, extra_vars=extra_vars, env=JSON_RUN, timeout=1500)


def migrate(extra_vars=None, limit=None):
    """playbooks/migrate.yml alone, as the site playbook runs it (it installs the new environment first)."""
    return run_playbook(MIGRATE, INVENTORY, extra_vars=extra_vars, env=JSON_RUN, timeout=1500, limit=limit)


def changed_count(result):
    return sum(stats["changed"] for stats in json.loads(result.stdout)["stats"].values())


def report(line):
    print("\nUPGRADE " + line)


def unit_of(server):
    return server.file("/etc/systemd/system/mlflow.service").content_string


@pytest.fixture(scope="module")
def servers(host):
    import testinfra

    return {name: testinfra.get_host("ansible://%s" % name, ansible_inventory=INVENTORY) for name in SERVERS}


def test_the_old_version_runs_from_its_constraints_file(host, servers):
    """Each server runs MLflow 2.20.3 from its own versioned venv, installed exactly as the shipped constraints
    file pins it (SQLAlchemy below 2.1, which 2.20.3's server needs)."""
    for name, server in servers.items():
        assert runs(server, OLD), name
        pinned = dict(
            line.split("==")
            for line in server.file(env_of(server, OLD) + ".constraints.txt").content_string.splitlines()
            if "==" in line
        )
        frozen = dict(
            line.lower().replace("_", "-").split("==")
            for line in server.check_output("%s -m pip freeze --all", python_of(server, OLD)).splitlines()
            if "==" in line
        )
        assert frozen["mlflow"] == OLD and frozen["sqlalchemy"].startswith("2.0."), name
        differ = {pkg: (v, pinned[pkg]) for pkg, v in frozen.items() if pkg in pinned and pinned[pkg] != v}
        assert not differ, (name, differ)
        unpinned = [pkg for pkg in frozen if pkg not in pinned and pkg not in ("pip", "setuptools", "wheel")]
        assert not unpinned, (name, unpinned)


@pytest.fixture(scope="module")
def written(host):
    return data(host, "write", URL, python=python_of(host, OLD))


def test_a_2_20_3_client_writes_runs_models_and_users(written):
    assert written["predictions"] == [1.0, 3.0, 5.0, 11.0]


def test_the_upgrade_is_refused_while_mlflow_would_drop_a_no_permissions_grant(host, servers, written):
    """dave may not see the experiment (NO_PERMISSIONS): MLflow 3's auth migration would drop that grant and give
    him READ. The migration (playbooks/migrate.yml, which the site playbook imports; alone here, to save the other
    plays' time) stops before anything the servers run changes, naming the grant and the variable."""
    data(host, "deny", URL, "grant", python=python_of(host, OLD))
    revision = sql(host, "SELECT version_num FROM alembic_version")
    result = migrate({"mlflow_version": NEW})
    try:
        assert result.returncode == 2, result.stdout[-3000:] + result.stderr[-3000:]
        messages = " ".join(message for _, message in failed_tasks(result.stdout))
        assert "dave" in messages and "NO_PERMISSIONS" in messages, messages
        assert "mlflow_auth_dropped_permissions" in messages, messages
        assert sql(host, "SELECT version_num FROM alembic_version") == revision
        for name, server in servers.items():
            assert runs(server, OLD), name
            assert server.service("mlflow").is_running, name
    finally:
        data(host, "deny", URL, "revoke", python=python_of(host, OLD))


def assert_the_old_version_serves(host, servers, written):
    """Both servers run 2.20.3 from its environment again, and the 2.20.3 client reads what it wrote through the
    proxy."""
    for name, server in servers.items():
        assert runs(server, OLD), name
        assert server.service("mlflow").is_running, name
    back = data(host, "check", URL, python=python_of(host, OLD))
    assert back["run_id"] == written["run_id"] and back["sha256"] == written["sha256"]
    assert back["predictions"] == written["predictions"]


def restore_as_named(host, servers, written, message, before):
    """Runs the restore command a failed upgrade named in its message (its dump options), then checks that both
    databases are back at the revisions before and that 2.20.3 serves what it wrote. Returns (seconds, dumps)."""
    options = message.split("mlops.mlflow.restore", 1)[1].split()
    dumps = dict(option.split("=", 1) for option in options if option.startswith("mlflow_restore_"))
    assert sorted(dumps) == ["mlflow_restore_auth_dump", "mlflow_restore_tracking_dump"], message
    started = time.monotonic()
    restored = run_playbook(RESTORE, INVENTORY, extra_vars=dumps, env=JSON_RUN, timeout=900)
    took = time.monotonic() - started
    assert restored.returncode == 0, failed_tasks(restored.stdout) or restored.stderr[-3000:]
    assert revisions(host) == before
    assert_the_old_version_serves(host, servers, written)
    return took, dumps


def revisions(host):
    """The tracking and auth schema revisions. MLflow before 3.6 keeps the auth revision in alembic_version (3.6 and
    later in alembic_version_auth, stamped over a legacy database at its first start)."""
    auth_table = sql(
        host, "SELECT coalesce(to_regclass('alembic_version_auth')::text, 'alembic_version')", db="mlflow_auth"
    )
    return sql(host, "SELECT version_num FROM alembic_version"), sql(
        host, "SELECT version_num FROM %s" % auth_table, db="mlflow_auth"
    )


def start_probe(host):
    """A probe asks /health through the proxy every 0.1 s until stop_probe."""
    probe = copy_script(host, os.path.join(FILES, "health_probe.py"))
    host.run("rm -f /root/probe.stop /root/probe.log")
    host.run_expect(
        [0], "setsid nohup %s %s %s/health %s /root/probe.stop >/root/probe.log 2>&1 &", SYSTEM_PYTHON, probe, URL, CERT
    )


def stop_probe(host, wait=180):
    """(longest outage in s, failed probes) since start_probe, once the proxy answers again (up to wait s): a run may
    end before its servers serve through the proxy, and the outage lasts until they do."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        last = host.run("tail -n 1 /root/probe.log").stdout.split()
        if last[1:] == ["200"]:
            break
        time.sleep(0.5)
    host.run("touch /root/probe.stop")
    time.sleep(0.5)
    return longest_outage(host.file("/root/probe.log").content_string)


def test_a_migration_is_refused_while_a_server_is_left_out_of_the_run(host, servers, written):
    """migrate.yml with --limit leaving out mlflow-up-app2: it would keep serving 2.20.3 on the migrated schema. The
    run stops naming it before any server stops or any database changes."""
    before = revisions(host)
    result = migrate({"mlflow_version": NEW}, limit="mlflow-up-aio")
    assert result.returncode == 2, result.stdout[-3000:] + result.stderr[-3000:]
    messages = " ".join(message for _, message in failed_tasks(result.stdout))
    assert "mlflow-up-app2" in messages and "--limit" in messages, messages
    assert revisions(host) == before
    assert_the_old_version_serves(host, servers, written)


def test_a_failed_dump_starts_the_old_servers_again(host, servers, written):
    """The site playbook's upgrade: the server play writes the new version's unit and files while 2.20.3 serves, then
    the dump before the migration fails (the backup directory is full: a 4 KiB tmpfs over it), after every server
    stopped: nothing was migrated, so the servers get back what they ran from and start again on 2.20.3, and the run
    says so."""
    before = revisions(host)
    host.run_expect(
        [0], "mount -t tmpfs -o size=4k,mode=0700,uid=$(id -u postgres),gid=$(id -g postgres) full /var/backups/mlflow"
    )
    try:
        start_probe(host)
        result = site({"mlflow_version": NEW})
        outage, failed = stop_probe(host)
    finally:
        host.run("umount /var/backups/mlflow")
    assert result.returncode == 2, result.stdout[-3000:] + result.stderr[-3000:]
    messages = " ".join(message for _, message in failed_tasks(result.stdout))
    assert "failed before it changed any database" in messages, messages
    assert "No space left on device" in messages, messages
    assert revisions(host) == before
    for name, server in servers.items():
        assert runs(server, OLD), name
        assert not server.file("/etc/mlflow.pre-migration.tar").exists, name
    assert_the_old_version_serves(host, servers, written)
    report(
        "failed dump: servers stopped, dump failed, 2.20.3 serving again; /health through the proxy unanswered "
        "for %.1f s (%d failed probes)" % (outage, failed)
    )


def test_a_failed_migration_stops_with_the_dumps_and_the_command_that_restores_them(host, servers, written):
    """The site playbook's upgrade: the tracking database migrates, then the auth migration fails (the MLflow role's
    sessions in that database are read-only): the servers get back the unit and files of 2.20.3 but stay stopped,
    and the run names the pre-migration dumps and the restore command; that command brings 2.20.3 back with
    everything it wrote."""
    before = revisions(host)
    # Sessions of the MLflow role in the auth database are read-only: its migration fails at its first DDL. A setting
    # of the role in that database, not in the database: the pre-migration dump does not carry it (an event trigger
    # would be restored with the dump, and refused, as superuser-only, by the restore).
    sql(host, "ALTER ROLE mlflow IN DATABASE mlflow_auth SET default_transaction_read_only = on", db="postgres")
    try:
        result = site({"mlflow_version": NEW})
    finally:
        sql(host, "ALTER ROLE mlflow IN DATABASE mlflow_auth RESET default_transaction_read_only", db="postgres")
    assert result.returncode == 2, result.stdout[-3000:] + result.stderr[-3000:]
    message = " ".join(message for _, message in failed_tasks(result.stdout))
    assert "failed after it changed mlflow (%s -> " % before[0] in message, message
    assert "read-only transaction" in message, message
    assert revisions(host)[1] == before[1] and revisions(host)[0] != before[0]
    for name, server in servers.items():
        assert not server.service("mlflow").is_running, name
        assert runs(server, OLD), name
    took, dumps = restore_as_named(host, servers, written, message, before)
    for path in dumps.values():
        assert "-pre-migration-" in path and host.file(path).mode == 0o600, path
    report(
        "failed migration: tracking migrated, auth refused; the named restore command served 2.20.3 again "
        "in %.0f s" % took
    )


def test_a_new_version_that_does_not_start_stops_every_server_and_names_the_restore(host, servers, written):
    """The site playbook's upgrade: both databases migrate, then MLflow 3 does not start on the first server (uvicorn,
    which `mlflow server` runs, is missing from its environment; the migration does not use it, and the unit passes
    systemd's checks): the run stops every server, the one systemd would restart included (it would come back on
    2.20.3's files over the migrated schema), puts back 2.20.3's files and names the restore command, which brings
    2.20.3 back with everything it wrote. mlflow_server_health_timeout 20 s (default 180) keeps the wait for an answer
    that cannot come short."""
    before = revisions(host)
    uvicorn = {name: env_of(server, NEW) + "/lib/python3.11/site-packages/uvicorn" for name, server in servers.items()}
    for name, server in servers.items():
        server.run_expect([0], "mv %s /root/uvicorn.moved", uvicorn[name])
    try:
        result = site({"mlflow_version": NEW, "mlflow_server_health_timeout": 20})
        time.sleep(8)  # longer than the unit's RestartSec: a unit left to systemd would have started again
        for name, server in servers.items():
            assert not server.service("mlflow").is_running, name
            assert runs(server, OLD), name
    finally:
        for name, server in servers.items():
            server.run_expect([0], "mv /root/uvicorn.moved %s", uvicorn[name])
    assert result.returncode == 2, result.stdout[-3000:] + result.stderr[-3000:]
    message = " ".join(message for _, message in failed_tasks(result.stdout))
    assert "failed after it changed mlflow (%s -> " % before[0] in message, message
    assert "mlflow_auth (%s -> " % before[1] in message, message
    assert "/health" in message, message
    took, _dumps = restore_as_named(host, servers, written, message, before)
    report(
        "new version does not start: servers stopped, the named restore command served 2.20.3 again in %.0f s" % took
    )


@pytest.fixture(scope="module")
def upgraded(host, written):
    """The site playbook with the default mlflow_version, while a probe asks /health through the proxy."""
    start_probe(host)
    started = time.monotonic()
    result = site({"mlflow_version": NEW})
    took = time.monotonic() - started
    outage, failed = stop_probe(host)
    report(
        "%s -> %s, 2 servers, schema migrated: site playbook %.0f s, /health through the proxy unanswered for %.1f s "
        "(%d failed probes)" % (OLD, NEW, took, outage, failed)
    )
    return result, outage


def test_the_site_playbook_upgrades_both_servers(upgraded, servers):
    result, _outage = upgraded
    assert result.returncode == 0, failed_tasks(result.stdout) or result.stderr[-3000:]
    for name, server in servers.items():
        assert runs(server, NEW), name
        assert server.file("/opt/mlflow/current").linked_to == env_of(server, NEW), name
        assert server.file("/etc/mlflow/mlflow-version").content_string.strip() == NEW, name
        # the previous environment stays until the next version change (a way back with the dump)
        assert server.file(python_of(server, OLD)).exists, name


def test_both_databases_were_dumped_before_the_migration(host, upgraded):
    """By the postgresql role's dump script: complete files only (no .partial left), readable by postgres only."""
    dumps = host.check_output("ls -A /var/backups/mlflow").split()
    assert any(d.startswith("mlflow-pre-migration-") and d.endswith(".pgc") for d in dumps), dumps
    assert any(d.startswith("mlflow_auth-pre-migration-") and d.endswith(".pgc") for d in dumps), dumps
    assert not [d for d in dumps if d.endswith(".partial")], dumps
    for d in dumps:
        assert host.file("/var/backups/mlflow/" + d).mode == 0o600, d


def test_everything_written_by_2_20_3_reads_back_with_the_new_client(host, upgraded, written):
    back = data(host, "check", URL)
    assert back["run_id"] == written["run_id"] and back["runs"] == 1
    assert (back["param"], back["tag"]) == ("0.5", "written-by-2.20.3")
    assert back["loss_steps"] == 50 and back["loss_last"] == pytest.approx(1 / 50)
    assert back["sha256"] == written["sha256"]
    assert back["model_version"] == written["model_version"]
    assert back["predictions"] == written["predictions"]
    assert back["carol_run"]


def test_a_second_run_changes_nothing(upgraded):
    result = site({"mlflow_version": NEW})
    assert result.returncode == 0, failed_tasks(result.stdout) or result.stderr[-3000:]
    assert changed_count(result) == 0, [
        (task["task"]["name"], h)
        for play in json.loads(result.stdout)["plays"]
        for task in play["tasks"]
        for h, outcome in task["hosts"].items()
        if outcome.get("changed")
    ]


def test_a_downgrade_is_refused_before_anything_changes(host, upgraded, servers):
    result = site({"mlflow_version": OLD})
    assert result.returncode == 2
    messages = " ".join(message for _, message in failed_tasks(result.stdout))
    assert "mlflow_version %s is older than MLflow %s" % (OLD, NEW) in messages, messages
    for name, server in servers.items():
        assert runs(server, NEW), name


# Python lines that read the admin's login from root's MLflow credentials file into `auth` (a header dict).
CREDENTIALS = (
    "import base64, configparser, ssl, urllib.request\n"
    "p = configparser.ConfigParser(); p.read('/root/.mlflow/credentials')\n"
    "auth = {'Authorization': 'Basic ' + base64.b64encode(('%s:%s' % (p['mlflow']['mlflow_tracking_username'], "
    "p['mlflow']['mlflow_tracking_password'])).encode()).decode()}\n"
)


def metrics_total(server):
    """Sum of mlflow_http_request_total on this server's /metrics (admin login, the server's own port)."""
    cmd = server.run(
        env_command(
            [
                SYSTEM_PYTHON,
                "-c",
                CREDENTIALS
                + "host = open('/etc/mlflow/mlflow.env').read().split('MLFLOW_HOST=')[1].split()[0].strip('\"')\n"
                "r = urllib.request.Request('http://%s:5000/metrics' % host, headers=auth)\n"
                "print(urllib.request.urlopen(r, timeout=10).read().decode())",
            ]
        )
    )
    assert cmd.rc == 0, cmd.stderr
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in cmd.stdout.splitlines()
        if line.startswith("mlflow_http_request_total")
    )


def test_every_server_counts_requests_for_prometheus_and_the_proxy_hides_them(host, servers, upgraded):
    before = {name: metrics_total(server) for name, server in servers.items()}
    requests = 40
    cmd = host.run(
        env_command(
            [
                SYSTEM_PYTHON,
                "-c",
                CREDENTIALS + "c = ssl.create_default_context(cafile=%r)\n"
                "for _ in range(%d):\n"
                "    urllib.request.urlopen(urllib.request.Request(%r, headers=auth), timeout=10, context=c).read()"
                % (CERT, requests, URL + "/api/2.0/mlflow/experiments/search?max_results=1"),
            ]
        )
    )
    assert cmd.rc == 0, cmd.stderr
    after = {name: metrics_total(server) for name, server in servers.items()}
    report(
        "metrics: mlflow_http_request_total before %s, after %d API requests through the proxy %s"
        % (before, requests, after)
    )
    assert all(after[name] > before[name] for name in servers), (before, after)
    status = host.check_output("curl -s -o /dev/null -w '%%{http_code}' --cacert %s -u admin:x %s/metrics", CERT, URL)
    assert status == "404"


def test_gc_removes_a_long_deleted_run_from_postgresql_and_the_bucket(host, upgraded):
    runs = data(host, "gc-setup", URL)
    prefix = "%s/" % runs["experiment_id"]
    time.sleep(22)  # mlflow_server_gc_older_than: 20s
    host.run_expect([0], "systemctl start mlflow-gc.service")
    assert sql(host, "SELECT count(*) FROM runs WHERE run_uuid = '%s'" % runs["deleted"]) == "0"
    assert sql(host, "SELECT count(*) FROM runs WHERE run_uuid = '%s'" % runs["live"]) == "1"
    objects = bucket_objects(host, "mlflow-artifacts", prefix)
    assert not [k for k in objects if runs["deleted"] in k], objects
    assert [k for k in objects if runs["live"] in k], objects
    log = host.check_output("journalctl -u mlflow-gc.service --no-pager -o cat | tail -5")
    report("gc: run %s removed from PostgreSQL and the bucket, live run kept; journal: %s" % (runs["deleted"], log))


def test_a_scheduled_dump_restores_both_databases_after_they_are_dropped(host, upgraded, written):
    """The backup timer's service dumps both databases; then both are dropped (the disaster); restore.yml stops the
    servers, restores the dumps and starts the servers: everything the 2.20.3 client wrote reads back, and what was
    written after the dump is gone."""
    host.run_expect([0], "systemctl start mlflow-db-backup.service")
    dumps = sorted(host.check_output("ls /var/backups/mlflow").split())
    tracking = [d for d in dumps if d.startswith("mlflow-scheduled-")][-1]
    auth = [d for d in dumps if d.startswith("mlflow_auth-scheduled-")][-1]
    after_dump = data(host, "gc-setup", URL)
    for db in ("mlflow", "mlflow_auth"):
        sql(host, "DROP DATABASE %s WITH (FORCE)" % db, db="postgres")
    started = time.monotonic()
    result = run_playbook(
        RESTORE,
        INVENTORY,
        extra_vars={
            "mlflow_restore_tracking_dump": "/var/backups/mlflow/" + tracking,
            "mlflow_restore_auth_dump": "/var/backups/mlflow/" + auth,
        },
        env=JSON_RUN,
        timeout=900,
    )
    took = time.monotonic() - started
    assert result.returncode == 0, failed_tasks(result.stdout) or result.stderr[-3000:]
    back = data(host, "check", URL)
    assert back["sha256"] == written["sha256"] and back["predictions"] == written["predictions"]
    assert back["carol_run"]
    gone = sql(host, "SELECT count(*) FROM experiments WHERE experiment_id = %s" % after_dump["experiment_id"])
    assert gone == "0"
    sizes = host.check_output(
        "du -k /var/backups/mlflow/%s /var/backups/mlflow/%s | cut -f1 | paste -sd/", tracking, auth
    )
    report("restore: both databases dropped, restore.yml back to serving in %.0f s (dumps %s KiB)" % (took, sizes))


def test_a_dump_of_a_newer_mlflow_is_refused_before_anything_changes(host, servers, upgraded):
    """The servers run the new version; a dump whose revision it does not know (here: a dump claiming a revision no
    MLflow has, as a newer MLflow's would) is refused before any server stops."""
    host.run_expect([0], "systemctl start mlflow-db-backup.service")
    dumps = sorted(host.check_output("ls /var/backups/mlflow").split())
    tracking = "/var/backups/mlflow/" + [d for d in dumps if d.startswith("mlflow-scheduled-")][-1]
    auth = "/var/backups/mlflow/" + [d for d in dumps if d.startswith("mlflow_auth-scheduled-")][-1]
    # the same dump with its Alembic row at a revision from the future, made by hand in the backup directory
    newer = "/var/backups/mlflow/mlflow-by-hand-newer.pgc"
    sql(host, "DROP DATABASE IF EXISTS mlflow_newer", db="postgres")
    sql(host, "CREATE DATABASE mlflow_newer", db="postgres")
    host.run_expect([0], "runuser -u postgres -- pg_restore --no-owner -d mlflow_newer %s", tracking)
    sql(host, "UPDATE alembic_version SET version_num = 'ffffffffffff'", db="mlflow_newer")
    host.run_expect([0], "runuser -u postgres -- pg_dump -Fc -f %s mlflow_newer", newer)
    sql(host, "DROP DATABASE mlflow_newer", db="postgres")
    pids = {name: server.check_output("systemctl show -p MainPID --value mlflow") for name, server in servers.items()}
    result = run_playbook(
        RESTORE,
        INVENTORY,
        extra_vars={"mlflow_restore_tracking_dump": newer, "mlflow_restore_auth_dump": auth},
        env=JSON_RUN,
        timeout=900,
    )
    assert result.returncode == 2, result.stdout[-3000:] + result.stderr[-3000:]
    messages = " ".join(message for _, message in failed_tasks(result.stdout))
    assert "ffffffffffff" in messages and "does not know" in messages, messages
    for name, server in servers.items():
        assert server.check_output("systemctl show -p MainPID --value mlflow") == pids[name], name


def test_a_rollback_brings_2_20_3_back_with_the_pre_upgrade_data(host, servers, upgraded, written):
    """The documented way back after a successful upgrade: restore.yml with the pre-migration dumps and
    mlflow_restore_version (the version the servers ran, whose environment is kept), then the site playbook with that
    mlflow_version. 2.20.3 serves everything it wrote before the upgrade."""
    dumps = sorted(host.check_output("ls /var/backups/mlflow").split())
    tracking = [d for d in dumps if d.startswith("mlflow-pre-migration-")][-1]
    auth = [d for d in dumps if d.startswith("mlflow_auth-pre-migration-")][-1]
    started = time.monotonic()
    restored = run_playbook(
        RESTORE,
        INVENTORY,
        extra_vars={
            "mlflow_restore_version": OLD,
            "mlflow_restore_tracking_dump": "/var/backups/mlflow/" + tracking,
            "mlflow_restore_auth_dump": "/var/backups/mlflow/" + auth,
        },
        env=JSON_RUN,
        timeout=900,
    )
    assert restored.returncode == 0, failed_tasks(restored.stdout) or restored.stderr[-3000:]
    assert "Run the site playbook now with mlflow_version: %s" % OLD in restored.stdout, restored.stdout[-3000:]
    for name, server in servers.items():
        assert server.file("/etc/mlflow/mlflow-version").content_string.strip() == OLD, name
    result = site({"mlflow_version": OLD})
    took = time.monotonic() - started
    assert result.returncode == 0, failed_tasks(result.stdout) or result.stderr[-3000:]
    assert_the_old_version_serves(host, servers, written)
    for name, server in servers.items():
        assert server.file("/opt/mlflow/current").linked_to == env_of(server, OLD), name
    report("rollback %s -> %s: restore.yml + site playbook %.0f s" % (NEW, OLD, took))
