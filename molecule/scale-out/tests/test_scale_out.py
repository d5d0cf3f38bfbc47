"""Scale-out: nginx TLS proxy -(HTTPS)-> two MLflow tracking servers -> one PostgreSQL + a SeaweedFS cluster.

The client runs on a laptop (outside_clients) that shares only the public network with the proxy: it knows
only https://mlflow.scale-out.test (self-signed certificate, trusted through MLFLOW_TRACKING_SERVER_CERT_PATH)
and reaches neither the store nor the tracking servers, as a data scientist's machine. The store is real
SeaweedFS on two hosts (data, data2), every object on both.
"""

import json
import os
import re
import time

import pytest
from mlflow_checks import (
    ACCESS_LOG,
    API,
    CLIENT_PYTHON,
    FILES,
    MULTIPART,
    SYSTEM_PYTHON,
    access_log_length,
    ansible_log,
    artifact_requests,
    assert_every_artifact_byte_through_the_proxy,
    assert_no_secret_anywhere,
    assert_run_artifact_in_bucket,
    assert_run_rows_in_postgresql,
    default_ipv4,
    env_script_command,
    failed_tasks,
    group_hosts,
    group_names,
    http_response,
    http_status,
    is_presigned_request,
    pinned_mlflow_version,
    private_key_lines,
    read_back,
    roundtrip_command,
    run_playbook,
    run_roundtrip,
    script_report,
    server_info,
    tcp_reach,
    tls_handshake,
    unit_exposure,
)

testinfra_hosts = group_names("outside_clients")

SERVERS_CA = "/etc/ssl/mlflow-servers-ca.pem"  # the test CA of the servers' HTTPS certificates (prepare.yml)


def direct(app_address, path=""):
    """A tracking server's own URL (HTTPS: mlflow_server_tls_cert; its certificate names its address)."""
    return "https://%s:5000%s" % (app_address, path)


@pytest.fixture(scope="module")
def auth(hostvars):
    return bool(hostvars.get("mlflow_auth_enabled"))


@pytest.fixture(scope="module")
def apps():
    return group_hosts("mlflow_server")


@pytest.fixture(scope="module")
def app_addresses(apps):
    """{inventory name: private address} of the tracking servers."""
    return {app.backend.get_hostname(): default_ipv4(app) for app in apps}


@pytest.fixture(scope="module")
def client_env(cert):
    """The client trusts the self-signed certificate; it logs in with root's ~/.mlflow/credentials (0600,
    written by prepare from the inventory: no password on a command line)."""
    return {"MLFLOW_TRACKING_SERVER_CERT_PATH": cert}


def upstreams_of_client_requests(proxy, since_line=0):
    """Upstream addresses ("ip:port") that served the MLflow client's requests, from line since_line on."""
    lines = proxy.file(ACCESS_LOG).content_string.splitlines()[since_line:]
    served = []
    for line in lines:
        match = re.search(r"upstream=(.*?) upstream_status=(\S+)", line)
        if "mlflow-python-client" in line and match:
            # "a:5000, b:5000" when nginx went on to the next server: the last one answered
            served.append(match.group(1).split(", ")[-1])
    return served


def test_http_answers_301_to_https(host, name, url):
    status, location = http_response(host, "http://%s%s" % (name, API), python=SYSTEM_PYTHON, follow_redirects=False)
    assert (status, location) == (301, url + API)


@pytest.mark.parametrize("version", ["TLSv1", "TLSv1_1"])
def test_tls_below_1_2_is_refused(host, name, cert, version):
    assert tls_handshake(host, name, 443, version, cert).startswith("REFUSED"), version


@pytest.mark.parametrize(("version", "agreed"), [("TLSv1_2", "TLSv1.2"), ("TLSv1_3", "TLSv1.3")])
def test_tls_1_2_and_1_3_are_served(host, name, cert, version, agreed):
    assert tls_handshake(host, name, 443, version, cert) == agreed


def test_other_host_names_get_no_answer(host, name, url, cert):
    # the certificate's name in the TLS handshake, another one in the Host header (DNS rebinding)
    assert http_response(host, url + API, "evil.example.com", python=SYSTEM_PYTHON, cafile=cert)[0] is None
    # plain HTTP by address, not by name
    ip = host.check_output("getent hosts %s | cut -d' ' -f1", name)
    assert http_response(host, "http://%s%s" % (ip, API), python=SYSTEM_PYTHON)[0] is None


def test_health_through_the_proxy(host, url, cert):
    assert http_status(host, url + "/health", python=SYSTEM_PYTHON, cafile=cert) == 200


def test_api_through_the_proxy_needs_credentials(host, url, cert, auth):
    assert auth, "mlflow_auth_enabled is not set in this scenario"
    assert http_status(host, url + API, python=SYSTEM_PYTHON, cafile=cert) == 401
    assert http_status(host, url + API, authenticated=True, python=SYSTEM_PYTHON, cafile=cert) == 200


def test_tracking_servers_listen_on_their_private_address_only(apps, app_addresses):
    for app in apps:
        listening = app.check_output("ss -Hltn 'sport = :5000' | awk '{print $4}' | sort -u").split()
        assert listening == ["%s:5000" % app_addresses[app.backend.get_hostname()]], listening


def test_tracking_servers_refuse_a_wrong_host_header(apps, app_addresses, name, auth):
    for app in apps:
        url = direct(app_addresses[app.backend.get_hostname()], API)
        assert http_status(app, url, "evil.example.com", cafile=SERVERS_CA) in (400, 403)
        # the public name, as the proxy sends it, is accepted (and then asks for credentials with auth on)
        assert http_status(app, url, name, cafile=SERVERS_CA) == (401 if auth else 200)


def test_tracking_servers_speak_https_only_and_the_proxy_checks_their_certificates(proxy, apps, app_addresses):
    for app in apps:
        address = app_addresses[app.backend.get_hostname()]
        assert http_status(app, direct(address, "/health"), cafile=SERVERS_CA) == 200
        # plain HTTP on the same port gets no HTTP answer: the server closes the connection (it expects TLS)
        status, error = http_response(app, "http://%s:5000/health" % address)
        assert status is None and error.startswith(("RemoteDisconnected(", "ConnectionResetError(")), error
    conf = proxy.file("/etc/nginx/nginx.conf").content_string
    assert "proxy_pass https://mlflow_tracking;" in conf and "proxy_ssl_verify on;" in conf, conf
    assert "proxy_ssl_name mlflow-tracking.internal;" in conf
    assert "proxy_pass http://" not in conf


@pytest.fixture(scope="module")
def roundtrip(host, proxy, url, client_env):
    """The round trip from the laptop, with an artifact big enough for the multipart path."""
    since = access_log_length(proxy)
    report = run_roundtrip(host, url, python=CLIENT_PYTHON, env={**client_env, **MULTIPART})
    report["upstreams"] = upstreams_of_client_requests(proxy, since)
    report["log_since"] = since
    return report


def test_client_round_trip_through_https(roundtrip):
    assert roundtrip["artifact_uri"].startswith("mlflow-artifacts:/"), roundtrip


def test_both_tracking_servers_served_the_client(roundtrip, app_addresses):
    served = {address.rsplit(":", 1)[0] for address in roundtrip["upstreams"]}
    assert served == set(app_addresses.values()), roundtrip["upstreams"]


def test_artifact_is_in_the_bucket(apps, roundtrip):
    assert_run_artifact_in_bucket(apps[0], roundtrip)


def test_rows_are_in_postgresql(roundtrip):
    assert_run_rows_in_postgresql(group_hosts("mlflow_db")[0], roundtrip)


def wait_for_file(host, path, timeout):
    deadline = time.monotonic() + timeout
    while not host.file(path).exists:
        assert time.monotonic() < deadline, "%s did not appear within %d s" % (path, timeout)
        time.sleep(2)


def start_in_background(host, unit, command, out):
    """Run command on host in a transient unit, its stdout, stderr and exit code into out.json, .err, .rc."""
    host.run("rm -f %s.json %s.err %s.rc", out, out, out)
    host.run_expect(
        [0],
        "systemd-run --unit=%s --collect /bin/sh -c %s",
        unit,
        "%s > %s.json 2> %s.err; echo $? > %s.rc" % (command, out, out, out),
    )


def background_report(host, out, timeout, what):
    """The JSON report of a start_in_background command, once it has finished (at most timeout s)."""
    wait_for_file(host, out + ".rc", timeout)
    return script_report(
        int(host.file(out + ".rc").content_string),
        host.file(out + ".json").content_string,
        host.file(out + ".err").content_string,
        what=what,
    )


def test_stopping_one_tracking_server_does_not_break_the_client(host, proxy, apps, app_addresses, url, client_env):
    app1 = apps[0]
    app1_address = app_addresses[app1.backend.get_hostname()]
    out = "/root/roundtrip-during-stop"
    command = roundtrip_command(host, url, 60, python=CLIENT_PYTHON, env=client_env)
    since = access_log_length(proxy)
    # in the background (a transient unit), so the server can be stopped while the client works
    start_in_background(host, "scale-out-roundtrip", command, out)
    try:
        # stop app1 once the client has started talking to the servers
        deadline = time.monotonic() + 120
        while len(upstreams_of_client_requests(proxy, since)) < 3:
            assert time.monotonic() < deadline and not host.file(out + ".rc").exists, "the client did not start"
            time.sleep(1)
        app1.run_expect([0], "systemctl stop mlflow")
        assert not host.file(out + ".rc").exists, "the client had finished before app1 stopped"
        report = background_report(host, out, 600, "client round trip while app1 stopped")
        assert report["size_bytes"] == 60 * 1024 * 1024

        # and a whole round trip with app1 down: every request is answered by the other server
        assert app1.run("systemctl is-active mlflow").stdout.strip() != "active"
        since = access_log_length(proxy)
        run_roundtrip(host, url, python=CLIENT_PYTHON, env=client_env)
        served = {address.rsplit(":", 1)[0] for address in upstreams_of_client_requests(proxy, since)}
        assert served and app1_address not in served, served
    finally:
        app1.run("systemctl start mlflow")
        deadline = time.monotonic() + 120
        while http_status(app1, direct(app1_address, "/health"), cafile=SERVERS_CA) != 200:
            assert time.monotonic() < deadline, "mlflow on app1 did not answer /health again"
            time.sleep(2)


def test_nginx_sandbox_exposure(proxy):
    """Exposure of nginx.service as Debian ships it (the unit file alone) and with the role's drop-in."""
    host = proxy
    # offline, under another name: as nginx.service it would pick up the drop-in too
    host.run_expect([0], "cp /lib/systemd/system/nginx.service /root/nginx-as-shipped.service")
    before = unit_exposure(host, "/root/nginx-as-shipped.service", offline=True)
    after = unit_exposure(host, "nginx.service")
    # "OK" in systemd-analyze's words (below 3.0 on systemd 252); Debian's unit alone is UNSAFE
    assert after < 3.0 < before, (before, after)
    unit = host.file("/etc/systemd/system/nginx.service.d/mlflow-hardening.conf").content_string
    for line in ("NoNewPrivileges=true", "ProtectSystem=strict", "PrivateTmp=true", "ProtectHome=true"):
        assert line in unit
    status = host.file("/proc/%s/status" % host.check_output("systemctl show -p MainPID --value nginx")).content_string
    assert re.search(r"^NoNewPrivs:\s+1$", status, re.M) and re.search(r"^Seccomp:\s+2$", status, re.M), status


def test_private_key_is_root_only_and_secrets_leak_nowhere(proxy, apps, secrets, proxy_cert):
    host = proxy
    key = host.file(proxy_cert[: -len(".crt")] + ".key")
    assert (key.user, key.group, key.mode) == ("root", "root", 0o600)
    assert host.file(os.path.dirname(proxy_cert)).mode == 0o700
    # nor the key's base64 lines, in any Ansible output either
    key_lines = private_key_lines(host, key.path)
    log = ansible_log()
    for target in [host, *apps]:
        assert_no_secret_anywhere(target, [*secrets, *key_lines], log)


# --- The laptop: outside the servers' network, every artifact byte through the proxy ---------------------------


def test_laptop_reaches_the_proxy_and_nothing_else(host, name, app_addresses):
    """The public name answers on 443; the store and the tracking servers, by name or address, do not."""
    data = group_hosts("mlflow_artifacts")[0]
    data_name = data.backend.get_hostname()
    data_address = default_ipv4(data)
    names = ["%s:8333" % data_name] + ["%s:5000" % app for app in app_addresses]
    addresses = ["%s:8333" % data_address] + ["%s:5000" % address for address in app_addresses.values()]
    targets = ["%s:443" % name, *names, *addresses]
    reach = tcp_reach(host, targets)
    assert reach["%s:443" % name] == "connected", reach
    # the inner network's names do not resolve here, and packets to its addresses are dropped (Docker isolates
    # the two networks): a connection attempt times out rather than being refused by a listening host
    assert {reach[target] for target in names} == {"no such name"}, reach
    assert {reach[target] for target in addresses} == {"TimeoutError"}, reach


def test_presigned_transfers_are_advertised_off_through_the_proxy(host, apps, app_addresses, url, cert):
    """MLflow 3.17 itself advertises presigned multipart transfers for the S3 store; the proxy turns them off."""
    app = apps[0]
    info = server_info(app, direct(app_addresses[app.backend.get_hostname()]), cafile=SERVERS_CA)
    assert info["multipart_uploads_enabled"] is True and info["multipart_downloads_enabled"] is True, info
    info = server_info(host, url, cafile=cert)
    assert info["multipart_uploads_enabled"] is False and info["multipart_downloads_enabled"] is False, info
    assert info["store_type"] == "SqlStore", info  # the rest of the answer is MLflow's own


def test_every_artifact_byte_went_through_the_proxy(proxy, roundtrip):
    """Upload and download of the multipart-sized artifact: MLflow's artifact API through nginx, no presigned URL."""
    assert_every_artifact_byte_through_the_proxy(proxy, roundtrip["log_since"], roundtrip)


def test_a_client_forcing_presigned_transfers_falls_back_through_the_proxy(host, proxy, url, client_env):
    """MLFLOW_ENABLE_PROXY_MULTIPART_*=true on the client: the proxy answers MLflow's own "not supported", the client
    falls back to the proxied path at once (no presigned URL to the store is ever handed out)."""
    forced = {"MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD": "true", "MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD": "true"}
    since = access_log_length(proxy)
    report = run_roundtrip(host, url, python=CLIENT_PYTHON, env={**client_env, **MULTIPART, **forced})
    requests = artifact_requests(proxy, since, report["run_id"])
    refused = [r for r in requests if is_presigned_request(r[1])]
    assert refused and all(r[2] == 501 for r in refused), requests
    blob = [(r[0], r[2]) for r in requests if r[1].endswith("/artifacts/data/blob.bin")]
    assert ("PUT", 200) in blob and ("GET", 200) in blob, requests


def test_a_wrong_password_fails_fast_with_a_clear_message(host, url, client_env):
    """Something wrong (here the password) ends the client in seconds with the reason, not a long hang."""
    wrong = {
        "HOME": "/root/nowhere",
        "MLFLOW_TRACKING_USERNAME": "admin",
        "MLFLOW_TRACKING_PASSWORD": "not-the-password-1",
    }
    started = time.monotonic()
    cmd = host.run(
        "timeout 120 " + roundtrip_command(host, url, 1, python=CLIENT_PYTHON, env={**client_env, **MULTIPART, **wrong})
    )
    elapsed = time.monotonic() - started
    assert cmd.rc not in (0, 124), (cmd.rc, cmd.stderr[-2000:])
    assert "401" in cmd.stderr and "You are not authenticated" in cmd.stderr, cmd.stderr[-2000:]
    assert elapsed < 60, elapsed


# --- The store: SeaweedFS on two hosts, one cluster ------------------------------------------------------------

DATA_DIR = "/var/lib/seaweedfs/data"


@pytest.fixture(scope="module")
def stores():
    return group_hosts("mlflow_artifacts")


def store_json(store, url):
    return json.loads(store.check_output("curl -fsS %s", url))


def test_both_store_hosts_form_one_cluster_with_one_master(stores):
    data, data2 = stores
    master = "%s:9333" % default_ipv4(data)
    status = store_json(data2, "http://%s/cluster/status" % master)
    assert status["IsLeader"] is True and status["Leader"].startswith(master), status
    topology = store_json(data2, "http://%s/dir/status" % master)["Topology"]
    nodes = {n["Url"] for dc in topology["DataCenters"] for rack in dc["Racks"] for n in rack["DataNodes"]}
    assert nodes == {"%s:8080" % default_ipv4(s) for s in stores}, topology
    # the second host runs no master of its own: it follows the data host's
    assert (
        "-master=false -master.peers=%s" % master in data2.file("/etc/systemd/system/seaweedfs.service").content_string
    )
    assert data2.run("curl -sS -o /dev/null http://%s:9333/cluster/status", default_ipv4(data2)).rc != 0


def test_every_artifact_byte_is_on_both_store_hosts(stores, roundtrip):
    # replication 001: each volume of the bucket's collection has a copy on both volume servers, byte for byte
    sizes = [
        {
            f.split()[1].rsplit("/", 1)[-1]: int(f.split()[0])
            for f in s.check_output("stat -c '%%s %%n' %s/mlflow-artifacts_*.dat", DATA_DIR).splitlines()
        }
        for s in stores
    ]
    assert sizes[0] == sizes[1], sizes
    assert sum(sizes[0].values()) >= roundtrip["size_bytes"], sizes


def test_the_filer_refuses_unsigned_writes_from_the_network(stores):
    """The filer's HTTP API on the cluster address would bypass the S3 identities: it wants a signed token."""
    data, data2 = stores
    out = data2.run(
        "curl -sS -o /dev/null -w '%%{http_code}' -F file=@/etc/hostname http://%s:8888/buckets/mlflow-artifacts/x",
        default_ipv4(data),
    )
    assert out.stdout == "401", (out.stdout, out.stderr)


def test_artifacts_stay_readable_with_one_store_host_down(host, stores, apps, roundtrip, url, client_env):
    data, data2 = stores
    data2.run_expect([0], "systemctl stop seaweedfs")
    try:
        # the artifact the round trip wrote, read again through the proxy while data2 is down
        report = read_back(host, url, roundtrip, python=CLIENT_PYTHON, env=client_env)
        assert report == {"sha256": roundtrip["sha256"], "predictions": [2, 4, 6]}, report
    finally:
        data2.run_expect([0], "systemctl start seaweedfs")


def client_statuses(proxy, since_line):
    """HTTP status nginx sent for each MLflow client request logged from line since_line on."""
    lines = proxy.file(ACCESS_LOG).content_string.splitlines()[since_line:]
    return [line.split('" ', 1)[1].split()[0] for line in lines if "mlflow-python-client" in line]


def test_a_config_change_rolls_through_the_servers_with_no_failed_request(host, proxy, apps, url, client_env):
    """The site playbook with one server setting changed (an extra environment variable) and the package set changed
    at the same MLflow version (httptools off): each server leaves the proxy's rotation, restarts, answers /health and
    comes back, one at a time. A client logs metrics and reads an artifact through the proxy the whole time: not one
    request fails, and every answer the proxy sent it in the meantime is a success (its access log), so no error was
    hidden by a retry. The new package set is a new environment beside the one the servers ran: nothing in that one
    changed while they ran from it, and each server now runs from the new one.

    The client retries once (MLflow's default is 7): with retries off, one artifact read of about 23000 requests in
    five clean-clone runs failed, its cause not recorded (roll_load.py now records it). The likely one: each drain and
    undrain reloads nginx, whose old workers close their idle keep-alive connections, and a request sent on one at
    that instant gets no answer; HTTP clients retry that. An error a server or the proxy answered is still caught,
    here in the access log."""
    site = os.path.join(os.environ["MOLECULE_PROJECT_DIRECTORY"], "playbooks", "site.yml")
    pids = {app.backend.get_hostname(): app.check_output("systemctl show -p MainPID --value mlflow") for app in apps}
    envs = {app.backend.get_hostname(): app.check_output("readlink -f /opt/mlflow/current") for app in apps}
    for app in apps:
        app.run_expect([0], "touch /root/before-roll")
        app.run_expect([0], "%s/bin/python -c 'import httptools'", envs[app.backend.get_hostname()])
    since = access_log_length(proxy)
    out, stop = "/root/roll-load", "/root/roll-load.stop"
    host.run("rm -f %s", stop)
    command = env_script_command(
        host,
        os.path.join(FILES, "roll_load.py"),
        url,
        stop,
        python=CLIENT_PYTHON,
        env={**client_env, "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1"},
    )
    start_in_background(host, "scale-out-roll-load", command, out)
    started = time.monotonic()
    try:
        time.sleep(5)
        result = run_playbook(
            site,
            os.environ["MOLECULE_INVENTORY_FILE"],
            extra_vars={"mlflow_server_extra_env": {"MLFLOW_ROLL_TEST": "1"}, "mlflow_python_env_httptools": False},
            env={"ANSIBLE_STDOUT_CALLBACK": "json", "ANSIBLE_LOG_PATH": "/dev/null"},
            timeout=1200,
        )
        took = time.monotonic() - started
        time.sleep(3)
    finally:
        host.run("touch %s", stop)
    load = background_report(host, out, 120, "client load during the rolling restart")
    assert result.returncode == 0, failed_tasks(result.stdout) or result.stderr[-3000:]
    print(
        "\nROLLING restart of %d servers (site playbook %.0f s): %d client requests, %d failed, %d metric steps logged"
        % (len(apps), took, load["requests"], load["failures"], load["logged"])
    )
    for app in apps:
        name = app.backend.get_hostname()
        assert app.check_output("systemctl show -p MainPID --value mlflow") != pids[name], name + " did not restart"
        assert 'MLFLOW_ROLL_TEST="1"' in app.file("/etc/mlflow/mlflow.env").content_string
        # the environment the server ran until its restart: untouched, and still there; the new one beside it
        old, new = envs[name], app.check_output("readlink -f /opt/mlflow/current")
        assert app.check_output("find %s -newer /root/before-roll -print -quit", old) == "", name + ": changed"
        app.run_expect([0], "%s/bin/python -c 'import httptools'", old)
        assert new != old and os.path.dirname(new) == os.path.dirname(old), (old, new)
        assert re.fullmatch(r"mlflow-%s-[0-9a-f]{8}" % re.escape(pinned_mlflow_version()), os.path.basename(new)), new
        app.run_expect([1], "%s/bin/python -c 'import httptools'", new)
        cmdline = app.check_output(
            "tr '\\0' ' ' < /proc/%s/cmdline", app.check_output("systemctl show -p MainPID --value mlflow")
        )
        assert cmdline.startswith(new + "/bin/"), cmdline
    assert load["failures"] == 0, load["errors"]
    assert load["requests"] > 20 and load["logged"] == load["steps"] - load["failures"], load
    statuses = client_statuses(proxy, since)
    assert len(statuses) >= load["requests"], (len(statuses), load)  # the log holds the load's requests
    errors = sorted({status for status in statuses if not status.startswith("2")})
    assert not errors, "the proxy answered %s to the client during the roll" % errors


PLAYBOOKS = os.path.join(os.environ.get("MOLECULE_PROJECT_DIRECTORY", "."), "playbooks")
JSON_RUN = {"ANSIBLE_STDOUT_CALLBACK": "json", "ANSIBLE_LOG_PATH": "/dev/null"}
MARKER = "/etc/mlflow/restart-pending"


def main_pids(apps):
    return {app.backend.get_hostname(): app.check_output("systemctl show -p MainPID --value mlflow") for app in apps}


def rolling_restart():
    return run_playbook(
        os.path.join(PLAYBOOKS, "rolling_restart.yml"), os.environ["MOLECULE_INVENTORY_FILE"], env=JSON_RUN
    )


def test_pending_restarts_survive_a_roll_stopped_by_a_certificate_nginx_refuses(host, proxy, apps, url, cert):
    """A run that ends after the server role changed the configuration, before the roll (here: the server play
    alone, as a run stopped by a failure or Ctrl-C ends): the restart each server needs stays recorded on the host.
    The next run (rolling_restart.yml alone) restarts the first server, which comes up with a certificate for another
    name (put there by hand: preflight never saw it). It answers /health locally, but nginx would refuse it: the roll
    stops there with that server out of rotation, the second server is not touched and serves every request; both
    keep their pending restart. With the right certificate back, the next roll restarts both, one at a time, on the
    changed configuration."""
    first, second = apps
    pids = main_pids(apps)
    changed = run_playbook(
        [
            {"import_playbook": os.path.join(PLAYBOOKS, "preflight.yml")},
            {"hosts": "mlflow_server", "gather_facts": False, "roles": ["mlops.mlflow.server"]},
        ],
        os.environ["MOLECULE_INVENTORY_FILE"],
        extra_vars={"mlflow_server_extra_env": {"MLFLOW_ROLL_TEST": "2"}},
        env=JSON_RUN,
        timeout=900,
    )
    assert changed.returncode == 0, failed_tasks(changed.stdout) or changed.stderr[-3000:]
    assert main_pids(apps) == pids, "the server play restarted a server itself"
    for app in apps:
        assert app.file(MARKER).exists, app.backend.get_hostname()

    tls = "/etc/mlflow/tls"
    first.run_expect(
        [0], "cp -p %s/server.crt /root/server.crt.good && cp -p %s/server.key /root/server.key.good", tls, tls
    )
    first.run_expect(
        [0],
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=wrong.internal "
        "-addext subjectAltName=DNS:wrong.internal -keyout %s/server.key -out %s/server.crt 2>/dev/null",
        tls,
        tls,
    )
    try:
        result = rolling_restart()
        assert result.returncode == 2, result.stdout[-3000:] + result.stderr[-3000:]
        messages = " ".join(message for _, message in failed_tasks(result.stdout))
        assert "nginx would refuse its certificate" in messages, messages
        after = main_pids(apps)
        assert after[first.backend.get_hostname()] != pids[first.backend.get_hostname()]
        assert after[second.backend.get_hostname()] == pids[second.backend.get_hostname()]
        assert first.file(MARKER).exists and second.file(MARKER).exists
        conf = proxy.file("/etc/nginx/nginx.conf").content_string
        assert re.search(r"server\s+%s:5000\s[^;]*down;" % re.escape(default_ipv4(first)), conf), conf
        statuses = [
            http_status(host, url + API, authenticated=True, python=SYSTEM_PYTHON, cafile=cert) for _ in range(20)
        ]
        assert statuses == [200] * 20, statuses
    finally:
        # the right certificate back and the roll run again, whatever failed above (the tests after this one need
        # both servers serving)
        first.run_expect(
            [0], "cp -p /root/server.crt.good %s/server.crt && cp -p /root/server.key.good %s/server.key", tls, tls
        )
        result = rolling_restart()
    assert result.returncode == 0, failed_tasks(result.stdout) or result.stderr[-3000:]
    conf = proxy.file("/etc/nginx/nginx.conf").content_string
    assert " down;" not in conf, conf
    after = main_pids(apps)
    for app in apps:
        name = app.backend.get_hostname()
        assert after[name] != pids[name], name + " did not restart"
        assert not app.file(MARKER).exists, name
        environ = app.check_output("cat /proc/%s/environ | tr '\\0' '\\n'", after[name])
        assert "MLFLOW_ROLL_TEST=2" in environ.splitlines(), name
