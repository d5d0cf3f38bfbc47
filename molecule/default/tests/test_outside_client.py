"""The laptop: shares only the public network with the all-in-one host, as a data scientist's machine.

It knows https://mlflow.default.test (an /etc/hosts entry, set by prepare) and the proxy's self-signed
certificate, logs in with root's ~/.mlflow/credentials, and reaches nothing else of the deployment: MLflow,
PostgreSQL and the S3 stand-in listen on loopback behind the proxy on the same host.
"""

import pytest
from mlflow_checks import (
    SYSTEM_PYTHON,
    access_log_length,
    assert_every_artifact_byte_through_the_proxy,
    group_hosts,
    group_names,
    http_status,
    run_roundtrip,
    server_info,
    tcp_reach,
)

testinfra_hosts = group_names("outside_clients")

CLIENT_PYTHON = "/opt/mlflow-client/bin/python"
API = "/api/2.0/mlflow/experiments/search?max_results=1"
# The 12 MB artifact is over this, so a 3.17 client takes the multipart (presigned) path if it is offered.
MULTIPART = {"MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE": str(1024 * 1024)}


@pytest.fixture(scope="module")
def aio():
    return group_hosts("mlflow_proxy")[0]


@pytest.fixture(scope="module")
def name(hostvars):
    return hostvars["mlflow_proxy_server_name"]


@pytest.fixture(scope="module")
def cert(host, aio, name):
    """The proxy's self-signed certificate, handed to the laptop as a user gets it (a file they trust)."""
    path = "/root/mlflow-proxy.crt"
    content = aio.file("/etc/nginx/mlflow-tls/%s.crt" % name).content_string
    host.run_expect([0], "printf '%%s' %s > %s", content, path)
    return path


def test_the_laptop_reaches_the_public_name_and_nothing_else(host, aio, name):
    """443 of the public name answers; MLflow, PostgreSQL and the store on the same host do not, by the host's
    name or by its address on the network the laptop shares with it."""
    address = host.check_output("getent ahostsv4 %s | head -n1 | cut -d' ' -f1", name)
    aio_name = aio.backend.get_hostname()
    inner = ["%s:%d" % (target, port) for target in (aio_name, address) for port in (5000, 5432, 9000)]
    reach = tcp_reach(host, ["%s:443" % name, *inner])
    assert reach["%s:443" % name] == "connected", reach
    assert not [target for target in inner if reach[target] == "connected"], reach


def test_api_through_the_proxy_needs_credentials(host, name, cert):
    url = "https://%s%s" % (name, API)
    assert http_status(host, url, python=SYSTEM_PYTHON, cafile=cert) == 401
    assert http_status(host, url, authenticated=True, python=SYSTEM_PYTHON, cafile=cert) == 200


def test_presigned_transfers_are_advertised_off_through_the_proxy(host, name, cert):
    info = server_info(host, "https://%s" % name, cafile=cert)
    assert info["multipart_uploads_enabled"] is False and info["multipart_downloads_enabled"] is False, info


def test_round_trip_from_the_laptop_with_every_artifact_byte_through_the_proxy(host, aio, name, cert):
    """A run with a 12 MB artifact logged and read back over https://<public name>, as the admin (credentials
    file); the proxy's access log holds the upload and the full download, and no presigned transfer."""
    since = access_log_length(aio)
    env = {"MLFLOW_TRACKING_SERVER_CERT_PATH": cert, **MULTIPART}
    report = run_roundtrip(host, "https://%s" % name, python=CLIENT_PYTHON, env=env)
    assert report["artifact_uri"].startswith("mlflow-artifacts:/"), report
    assert_every_artifact_byte_through_the_proxy(aio, since, report)
