"""The laptop: shares only the public network with the all-in-one host, as a data scientist's machine.

It knows https://mlflow.default.test (an /etc/hosts entry, set by prepare) and the proxy's self-signed
certificate, logs in with root's ~/.mlflow/credentials, and reaches nothing else of the deployment: MLflow,
PostgreSQL and SeaweedFS listen on loopback behind the proxy on the same host.
"""

from mlflow_checks import (
    API,
    CLIENT_PYTHON,
    MULTIPART,
    SEAWEEDFS_PORTS,
    SYSTEM_PYTHON,
    access_log_length,
    assert_every_artifact_byte_through_the_proxy,
    group_names,
    http_status,
    run_roundtrip,
    server_info,
    tcp_reach,
)

testinfra_hosts = group_names("outside_clients")


def test_the_laptop_reaches_the_public_name_and_nothing_else(host, proxy, name):
    """443 of the public name answers; MLflow, PostgreSQL and the store on the same host do not, by the host's
    name or by its address on the network the laptop shares with it."""
    address = host.check_output("getent ahostsv4 %s | head -n1 | cut -d' ' -f1", name)
    proxy_name = proxy.backend.get_hostname()
    inner = ["%s:%d" % (target, port) for target in (proxy_name, address) for port in (5000, 5433) + SEAWEEDFS_PORTS]
    reach = tcp_reach(host, ["%s:443" % name, *inner])
    assert reach["%s:443" % name] == "connected", reach
    assert not [target for target in inner if reach[target] == "connected"], reach


def test_api_through_the_proxy_needs_credentials(host, url, cert):
    assert http_status(host, url + API, python=SYSTEM_PYTHON, cafile=cert) == 401
    assert http_status(host, url + API, authenticated=True, python=SYSTEM_PYTHON, cafile=cert) == 200


def test_presigned_transfers_are_advertised_off_through_the_proxy(host, url, cert):
    info = server_info(host, url, cafile=cert)
    assert info["multipart_uploads_enabled"] is False and info["multipart_downloads_enabled"] is False, info


def test_round_trip_from_the_laptop_with_every_artifact_byte_through_the_proxy(host, proxy, url, cert):
    """A run with a 12 MB artifact logged and read back over https://<public name>, as the admin (credentials
    file); the proxy's access log holds the upload and the full download, and no presigned transfer."""
    since = access_log_length(proxy)
    env = {"MLFLOW_TRACKING_SERVER_CERT_PATH": cert, **MULTIPART}
    report = run_roundtrip(host, url, python=CLIENT_PYTHON, env=env)
    assert report["artifact_uri"].startswith("mlflow-artifacts:/"), report
    assert_every_artifact_byte_through_the_proxy(proxy, since, report)
