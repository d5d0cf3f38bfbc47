"""Bad input fails in playbooks/preflight.yml, before any change, with a message naming the variable.

Each case runs the real preflight playbook (argument specs + preflight tasks of every role) against
localhost in all groups, with one wrong input on top of a valid baseline. The baseline itself must
pass with changed=0, so a case can only pass for the reason it names.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import shutil
import socket
import sys
import tempfile
from pathlib import Path

import pytest
from mlflow_checks import failed_tasks, run_playbook

ROOT = Path(__file__).resolve().parents[2]

BASELINE = {
    "mlflow_db_password": "a-valid-db-password-123",
    "mlflow_crypto_kek_passphrase": "a-valid-kek-passphrase-0123456789abcdef",
    "mlflow_s3_access_key": "test-access-key",
    "mlflow_s3_secret_key": "a-valid-secret-key-456",
    "mlflow_s3_endpoint_url": "http://127.0.0.1:9000",
    "mlflow_proxy_server_name": "mlflow.example.test",
    "mlflow_proxy_tls_source": "selfsigned",
}

# Authentication on, valid: the auth cases change one of these.
AUTH = {
    "mlflow_auth_enabled": True,
    "mlflow_auth_admin_password": "a-valid-admin-pw-789",
    "mlflow_auth_secret_key": "0123456789abcdef" * 4,
}


CERTS_DIR = Path(tempfile.mkdtemp(prefix="mlflow-preflight-certs-"))
atexit.register(shutil.rmtree, CERTS_DIR, True)
FACTS_DIR = Path(tempfile.mkdtemp(prefix="mlflow-preflight-facts-"))
atexit.register(shutil.rmtree, FACTS_DIR, True)


def _certificates():
    """Provided-certificate inputs on the controller: a valid pair for the baseline's public name, a key of
    another pair, an expired certificate and one for another name (cryptography, written once per run)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    directory = CERTS_DIR
    now = datetime.datetime.now(datetime.timezone.utc)

    def pair(name, dns, days, ca=None):
        """A certificate for dns valid until days from now (negative: expired), self-signed or issued by ca
        (a (certificate, key) pair of cryptography objects); written as <name>.crt and <name>.key."""
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, dns)])
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(ca[0].subject if ca else subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now + datetime.timedelta(days=min(days, 0) - 30))
            .not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(dns)]), critical=False)
        )
        if ca:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca[1].public_key()), critical=False
            )
        else:
            builder = builder.add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            ).add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        cert = builder.sign(ca[1] if ca else key, hashes.SHA256())
        written[name] = (cert, key)
        (directory / (name + ".crt")).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        (directory / (name + ".key")).write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        return str(directory / (name + ".crt")), str(directory / (name + ".key"))

    written = {}
    upstream_ca = pair("upstream-ca", "Tracking servers' CA", 3650)
    pair("other-ca", "Tracking servers' CA", 3650)
    return {
        # the tracking servers' certificates, as nginx checks them: CA mlflow_proxy_upstream_tls_ca, one name
        "upstream ca": upstream_ca,
        "upstream": pair("upstream", "mlflow-tracking.internal", 90, written["upstream-ca"]),
        "upstream expired": pair("upstream-expired", "mlflow-tracking.internal", -1, written["upstream-ca"]),
        "upstream wrong name": pair("upstream-wrong-name", "app1.example.test", 90, written["upstream-ca"]),
        # the same name and the same CA subject, but another CA's key signed it
        "upstream other ca": pair("upstream-other-ca", "mlflow-tracking.internal", 90, written["other-ca"]),
        "valid": pair("valid", "mlflow.example.test", 90),
        "other": pair("other", "mlflow.example.test", 90),
        "expired": pair("expired", "mlflow.example.test", -1),
        "wrong name": pair("wrong-name", "other.example.test", 90),
    }


CERTS = _certificates()


def provided(certificate, key):
    return {
        "mlflow_proxy_tls_source": "provided",
        "mlflow_proxy_tls_certificate_src": certificate,
        "mlflow_proxy_tls_private_key_src": key,
    }


# HTTPS from the proxy to the servers and PostgreSQL over TLS only with verify-full, valid (the test certificates
# stand in for the CA files: preflight checks that they are files).
TLS_INSIDE = {
    "mlflow_server_tls_cert": CERTS["upstream"][0],
    "mlflow_server_tls_key": CERTS["upstream"][1],
    "mlflow_proxy_upstream_tls": True,
    "mlflow_proxy_upstream_tls_ca": CERTS["upstream ca"][0],
    "mlflow_proxy_upstream_tls_name": "mlflow-tracking.internal",
    "mlflow_postgresql_tls_cert": CERTS["valid"][0],
    "mlflow_postgresql_tls_key": CERTS["valid"][1],
    "mlflow_postgresql_require_tls": True,
    "mlflow_db_sslmode": "verify-full",
    "mlflow_db_ssl_ca": CERTS["valid"][0],
}

# SeaweedFS deployed by the site playbook (the default with no endpoint), valid.
SEAWEEDFS = {
    "mlflow_s3_endpoint_url": None,
    "mlflow_seaweedfs_admin_access_key": "unit-seaweedfs-admin",
    "mlflow_seaweedfs_admin_secret_key": "unit-seaweedfs-admin-secret-9",
}
# AWS S3: no endpoint, no MinIO.
AWS = {"mlflow_s3_endpoint_url": None, "mlflow_s3_server": "none"}

# A host that already runs MLflow 3.17.2: the version file the server role records when it switches (preflight
# refuses a downgrade), in a configuration directory of its own.
RUNNING_DIR = Path(tempfile.mkdtemp(prefix="mlflow-preflight-running-"))
atexit.register(shutil.rmtree, RUNNING_DIR, True)
(RUNNING_DIR / "mlflow-version").write_text("3.17.2\n")
RUNNING = {"mlflow_server_config_dir": str(RUNNING_DIR)}

# MinIO deployed by the site playbook, MLflow with a user of its own, valid.
MINIO = {
    "mlflow_s3_endpoint_url": None,
    "mlflow_s3_server": "minio",
    "mlflow_minio_root_user": "unit-minio-root",
    "mlflow_minio_root_password": "unit-minio-pw-Xk39vQ2m",
}

# Placeholder for a port this test process listens on while the case runs.
BUSY_PORT = "<a port in use>"

# "group_vars/<group>": variables set on that group only. The inventory then has a second host, in
# mlflow_artifacts only, so that a group's variables reach only some of the hosts.
GROUP_VARS = "group_vars/"
SECOND_HOST = "mlflow-artifacts-2"

# (case id, variables to set (None removes it), the variable the message must name)
CASES = [
    ("KEK passphrase missing", {"mlflow_crypto_kek_passphrase": None}, "mlflow_crypto_kek_passphrase"),
    ("KEK passphrase short", {"mlflow_crypto_kek_passphrase": "short-passphrase"}, "mlflow_crypto_kek_passphrase"),
    (
        "KEK passphrase MLflow's public default",
        {"mlflow_crypto_kek_passphrase": "mlflow-default-kek-passphrase-for-development-only"},
        "mlflow_crypto_kek_passphrase",
    ),
    ("MLflow version without constraints", {"mlflow_version": "3.16.0"}, "mlflow_python_env_allow_unconstrained"),
    (
        "constraints file missing",
        {"mlflow_python_env_constraints_file": "/nonexistent/c.txt"},
        "mlflow_python_env_constraints_file",
    ),
    ("restart strategy unknown", {"mlflow_server_restart_strategy": "all-at-once"}, "mlflow_server_restart_strategy"),
    ("gc older-than not MLflow's format", {"mlflow_server_gc_older_than": "30 days"}, "mlflow_server_gc_older_than"),
    ("gc host not a server", {"mlflow_server_gc_host": "elsewhere"}, "mlflow_server_gc_host"),
    ("db password missing", {"mlflow_db_password": None}, "mlflow_db_password"),
    ("db password short", {"mlflow_db_password": "short"}, "mlflow_db_password"),
    ("db password known default", {"mlflow_db_password": "password1234"}, "mlflow_db_password"),
    ("db password not a string", {"mlflow_db_password": ["a", "list"]}, "mlflow_db_password"),
    ("s3 secret key missing", {"mlflow_s3_secret_key": None}, "mlflow_s3_secret_key"),
    ("s3 secret key minioadmin", {"mlflow_s3_secret_key": "minioadmin"}, "mlflow_s3_secret_key"),
    ("s3 access key missing", {"mlflow_s3_access_key": None}, "mlflow_s3_access_key"),
    ("bucket name uppercase", {"mlflow_s3_bucket": "MLflow_Artifacts"}, "mlflow_s3_bucket"),
    ("bucket name is an IP", {"mlflow_s3_bucket": "10.0.0.1"}, "mlflow_s3_bucket"),
    ("endpoint without scheme", {"mlflow_s3_endpoint_url": "minio:9000"}, "mlflow_s3_endpoint_url"),
    ("unknown env manager", {"mlflow_python_env_manager": "pipenv"}, "mlflow_python_env_manager"),
    ("unknown artifact store", {"mlflow_artifact_store": "gcs"}, "mlflow_artifact_store"),
    ("mlflow version not a release", {"mlflow_version": "latest"}, "mlflow_version"),
    (
        "conda checksum malformed",
        {"mlflow_python_env_manager": "conda", "mlflow_python_env_conda_installer_checksum": "md5:abc"},
        "mlflow_python_env_conda_installer_checksum",
    ),
    ("backup directory relative", {"mlflow_postgresql_backup_dir": "backups"}, "mlflow_postgresql_backup_dir"),
    ("scheduled dumps kept zero", {"mlflow_postgresql_backup_keep": 0}, "mlflow_postgresql_backup_keep"),
    (
        "backup schedule not systemd's",
        {"mlflow_postgresql_backup_on_calendar": "every night"},
        "mlflow_postgresql_backup_on_calendar ('every night') is not a systemd OnCalendar expression",
    ),
    (
        "backup delay not a time span",
        {"mlflow_postgresql_backup_randomized_delay": "a while"},
        "mlflow_postgresql_backup_randomized_delay ('a while') is not a systemd time span",
    ),
    ("pre-migration dumps kept zero", {"mlflow_server_db_backup_keep": 0}, "mlflow_server_db_backup_keep (0)"),
    ("port not a number", {"mlflow_server_port": "http"}, "mlflow_server_port"),
    ("port out of range", {"mlflow_server_port": 70000}, "mlflow_server_port"),
    ("workers zero", {"mlflow_server_workers": 0}, "mlflow_server_workers"),
    (
        "pg_hba open to all without opt-in",
        {"mlflow_postgresql_extra_client_cidrs": ["0.0.0.0/0"]},
        "mlflow_postgresql_allow_any_address",
    ),
    (
        "pg_hba CIDR malformed",
        {"mlflow_postgresql_extra_client_cidrs": ["10.0.0.5"]},
        "mlflow_postgresql_extra_client_cidrs",
    ),
    ("db name with capitals", {"mlflow_db_name": "MLflow-DB"}, "mlflow_db_name"),
    (
        "sftp destination with ~",
        {"mlflow_server_artifacts_destination": "sftp://mlflow@store:~/mlflow/mlruns"},
        "mlflow_server_artifacts_destination",
    ),
    (
        "relative artifact destination",
        {"mlflow_server_artifacts_destination": "mlruns"},
        "mlflow_server_artifacts_destination",
    ),
    ("sslmode unknown", {"mlflow_db_sslmode": "on"}, "mlflow_db_sslmode"),
    ("port already used by another program", {"mlflow_server_port": BUSY_PORT}, "mlflow_server_port"),
    ("auth admin password missing", {**AUTH, "mlflow_auth_admin_password": None}, "mlflow_auth_admin_password"),
    (
        "auth admin password is MLflow's old default",
        {**AUTH, "mlflow_auth_admin_password": "password1234"},
        "mlflow_auth_admin_password",
    ),
    ("auth admin password short", {**AUTH, "mlflow_auth_admin_password": "admin123"}, "mlflow_auth_admin_password"),
    ("auth secret key missing", {**AUTH, "mlflow_auth_secret_key": None}, "mlflow_auth_secret_key"),
    ("auth secret key short", {**AUTH, "mlflow_auth_secret_key": "my-secret-key"}, "mlflow_auth_secret_key"),
    ("auth database is the tracking database", {**AUTH, "mlflow_auth_db_name": "mlflow"}, "mlflow_auth_db_name"),
    (
        "auth default permission unknown",
        {**AUTH, "mlflow_auth_default_permission": "ALL"},
        "mlflow_auth_default_permission",
    ),
    ("auth enabled not a boolean", {"mlflow_auth_enabled": "perhaps"}, "mlflow_auth_enabled"),
    ("private users not auto/true/false", {"mlflow_server_private_users": "maybe"}, "mlflow_server_private_users"),
    ("proxy server name missing", {"mlflow_proxy_server_name": None}, "mlflow_proxy_server_name"),
    (
        "proxy server name is a URL",
        {"mlflow_proxy_server_name": "https://mlflow.example.test/"},
        "mlflow_proxy_server_name",
    ),
    (
        "proxy certificate not on the controller",
        {"mlflow_proxy_tls_source": "provided", "mlflow_proxy_tls_certificate_src": "/nonexistent/mlflow.crt"},
        "mlflow_proxy_tls_certificate_src",
    ),
    ("proxy TLS source unknown", {"mlflow_proxy_tls_source": "letsencrypt"}, "mlflow_proxy_tls_source"),
    ("proxy ports equal", {"mlflow_proxy_http_port": 443}, "mlflow_proxy_http_port"),
    ("proxy body size malformed", {"mlflow_proxy_client_max_body_size": "10 GB"}, "mlflow_proxy_client_max_body_size"),
    ("auth cache TTL negative", {**AUTH, "mlflow_auth_cache_ttl_seconds": -1}, "mlflow_auth_cache_ttl_seconds"),
    (
        "presigned transfers to a loopback store",
        {"mlflow_presigned_artifact_transfers": True},
        "mlflow_presigned_artifact_transfers",
    ),
    ("removed multipart variable set", {"mlflow_server_multipart_upload": True}, "mlflow_presigned_artifact_transfers"),
    ("s3 secret key minio123", {"mlflow_s3_secret_key": "minio123"}, "mlflow_s3_secret_key"),
    ("proxy upstream without a port", {"mlflow_proxy_upstreams": ["10.0.0.5"]}, "mlflow_proxy_upstreams"),
    (
        "auth enabled only on the servers",
        {**AUTH, "mlflow_auth_enabled": None, GROUP_VARS + "mlflow_server": {"mlflow_auth_enabled": True}},
        "mlflow_auth_enabled",
    ),
    (
        "bucket differs between servers and store",
        {
            "mlflow_s3_bucket": None,
            GROUP_VARS + "mlflow_server": {"mlflow_s3_bucket": "mlflow-artifacts"},
            GROUP_VARS + "mlflow_artifacts": {"mlflow_s3_bucket": "mlflow-store"},
        },
        "mlflow_s3_bucket",
    ),
    (
        "proxy key of another certificate",
        provided(CERTS["valid"][0], CERTS["other"][1]),
        "the key in mlflow_proxy_tls_private_key_src does not belong to it",
    ),
    ("proxy certificate expired", provided(*CERTS["expired"]), "would be refused: it expired on"),
    ("proxy certificate for another name", provided(*CERTS["wrong name"]), "it has DNS:other.example.test"),
    # A renewed tracking-server certificate nginx would refuse (proxy_ssl_verify): refused before any change, not
    # found by nginx on every server at once.
    (
        "server certificate expired",
        {
            **TLS_INSIDE,
            "mlflow_server_tls_cert": CERTS["upstream expired"][0],
            "mlflow_server_tls_key": CERTS["upstream expired"][1],
        },
        "mlflow_server_tls_cert ('%s') would be refused: it expired on" % CERTS["upstream expired"][0],
    ),
    (
        "server certificate for another name",
        {
            **TLS_INSIDE,
            "mlflow_server_tls_cert": CERTS["upstream wrong name"][0],
            "mlflow_server_tls_key": CERTS["upstream wrong name"][1],
        },
        "it must name mlflow_proxy_upstream_tls_name (mlflow-tracking.internal) in its subject alternative names; it has DNS:app1.example.test",
    ),
    (
        "server certificate from another CA",
        {
            **TLS_INSIDE,
            "mlflow_server_tls_cert": CERTS["upstream other ca"][0],
            "mlflow_server_tls_key": CERTS["upstream other ca"][1],
        },
        "it was not issued by the CA in mlflow_proxy_upstream_tls_ca",
    ),
    (
        "server key of another certificate",
        {**TLS_INSIDE, "mlflow_server_tls_key": CERTS["upstream expired"][1]},
        "the key in mlflow_server_tls_key does not belong to it",
    ),
    (
        "postgresql key of another certificate",
        {**TLS_INSIDE, "mlflow_postgresql_tls_key": CERTS["other"][1]},
        "the key in mlflow_postgresql_tls_key does not belong to it",
    ),
    (
        "unauthenticated server on all interfaces",
        {"mlflow_server_listen_address": "0.0.0.0"},  # noqa: S104 - the input under test
        "accept it on a closed network with mlflow_server_allow_unauthenticated: true",
    ),
    (
        "extra env overrides the S3 secret",
        {"mlflow_server_extra_env": {"AWS_SECRET_ACCESS_KEY": "from-extra-env"}},
        "AWS_SECRET_ACCESS_KEY comes from mlflow_s3_secret_key",
    ),
    ("extra env key not a name", {"mlflow_server_extra_env": {"BAD KEY": "1"}}, "environment variable names (BAD KEY)"),
    ("db port is not PostgreSQL's", {"mlflow_db_port": 5433}, "but PostgreSQL on localhost listens on 5432"),
    ("s3 server unknown", {"mlflow_s3_server": "ceph"}, "mlflow_s3_server"),
    ("removed mlflow_minio_enabled", {"mlflow_minio_enabled": True}, "mlflow_s3_server"),
    (
        "seaweedfs admin secret missing",
        {**SEAWEEDFS, "mlflow_seaweedfs_admin_secret_key": None},
        "mlflow_seaweedfs_admin_secret_key",
    ),
    (
        "seaweedfs admin secret short",
        {**SEAWEEDFS, "mlflow_seaweedfs_admin_secret_key": "short-key"},
        "mlflow_seaweedfs_admin_secret_key",
    ),
    (
        "seaweedfs admin key is mlflow's",
        {**SEAWEEDFS, "mlflow_seaweedfs_admin_access_key": BASELINE["mlflow_s3_access_key"]},
        "mlflow_seaweedfs_admin_access_key",
    ),
    (
        "seaweedfs checksum without url",
        {**SEAWEEDFS, "mlflow_seaweedfs_archive_url": "https://example.test/weed.tar.gz"},
        "mlflow_seaweedfs_archive_checksum",
    ),
    ("db verify-full without a CA", {"mlflow_db_sslmode": "verify-full"}, "set mlflow_db_ssl_ca to"),
    (
        "db TLS required, servers without TLS",
        {"mlflow_postgresql_require_tls": True, "mlflow_db_sslmode": "disable"},
        "admits the servers over TLS only (mlflow_postgresql_require_tls)",
    ),
    (
        "proxy HTTPS to servers that serve HTTP",
        {**TLS_INSIDE, "mlflow_server_tls_cert": None, "mlflow_server_tls_key": None},
        "but localhost do not serve HTTPS (mlflow_server_tls_cert)",
    ),
    (
        "proxy HTTPS to the servers without a name",
        {**TLS_INSIDE, "mlflow_proxy_upstream_tls_name": None},
        "mlflow_proxy_upstream_tls_name (the DNS name each server's certificate carries; got '')",
    ),
    (
        "server HTTPS key without certificate",
        {"mlflow_server_tls_key": CERTS["valid"][1]},
        "mlflow_server_tls_cert ('') and mlflow_server_tls_key",
    ),
    (
        "postgresql TLS key without certificate",
        {"mlflow_postgresql_tls_key": CERTS["valid"][1]},
        "mlflow_postgresql_tls_cert ('') and mlflow_postgresql_tls_key",
    ),
    (
        "seaweedfs cluster without a secret",
        {**SEAWEEDFS, "mlflow_seaweedfs_cluster_address": "127.0.0.1", GROUP_VARS + "mlflow_artifacts": {}},
        "mlflow_seaweedfs_cluster_secret must be set",
    ),
    (
        "seaweedfs replication beyond the hosts",
        {
            **SEAWEEDFS,
            "mlflow_seaweedfs_cluster_address": "127.0.0.1",
            "mlflow_seaweedfs_cluster_secret": "unit-cluster-secret-0123456789abcdef",
            "mlflow_seaweedfs_replication": "002",
            GROUP_VARS + "mlflow_artifacts": {},
        },
        "mlflow_seaweedfs_replication 002 keeps 3 copies of every object, but mlflow_artifacts has 2 host(s)",
    ),
    (
        "minio user's secret is the root password",
        {
            "mlflow_s3_endpoint_url": None,
            "mlflow_s3_server": "minio",
            "mlflow_minio_root_user": "unit-minio-root",
            "mlflow_minio_root_password": "unit-minio-pw-Xk39vQ2m",
            "mlflow_s3_secret_key": "unit-minio-pw-Xk39vQ2m",
        },
        "so the role makes it MLflow's own MinIO user, limited to the bucket",
    ),
    (
        "s3 secret differs between servers and store",
        {
            "mlflow_s3_secret_key": None,
            GROUP_VARS + "mlflow_server": {"mlflow_s3_secret_key": "server-side-secret-Hq4"},
            GROUP_VARS + "mlflow_artifacts": {"mlflow_s3_secret_key": "store-side-secret-Mz8"},
        },
        "mlflow_s3_secret_key differs between hosts: hidden value",
    ),
    # A secret with a line break (a trailing newline from a file, a CR from a Windows editor): one rule for every
    # secret (roles/_common/tasks/secret.yml), the message names the variable and never holds the value.
    (
        "db password ends with a newline",
        {"mlflow_db_password": BASELINE["mlflow_db_password"] + "\n"},
        "mlflow_db_password holds a line break",
    ),
    (
        "auth secret key ends with CR LF",
        {**AUTH, "mlflow_auth_secret_key": AUTH["mlflow_auth_secret_key"] + "\r\n"},
        "mlflow_auth_secret_key holds a line break",
    ),
    (
        "s3 secret key ends with a newline",
        {"mlflow_s3_secret_key": BASELINE["mlflow_s3_secret_key"] + "\n"},
        "mlflow_s3_secret_key holds a line break",
    ),
    (
        "KEK passphrase ends with a newline",
        {"mlflow_crypto_kek_passphrase": BASELINE["mlflow_crypto_kek_passphrase"] + "\n"},
        "mlflow_crypto_kek_passphrase holds a line break",
    ),
    (
        "seaweedfs admin secret ends with a newline",
        {**SEAWEEDFS, "mlflow_seaweedfs_admin_secret_key": SEAWEEDFS["mlflow_seaweedfs_admin_secret_key"] + "\n"},
        "mlflow_seaweedfs_admin_secret_key holds a line break",
    ),
    (
        "minio root password ends with a newline",
        {**MINIO, "mlflow_minio_root_password": MINIO["mlflow_minio_root_password"] + "\n"},
        "mlflow_minio_root_password holds a line break",
    ),
    (
        "server listen address with a port",
        {**AUTH, "mlflow_server_listen_address": "10.0.0.5:5000"},
        "mlflow_server_listen_address ('10.0.0.5:5000')",
    ),
    (
        "server listen address IPv6 in brackets",
        {**AUTH, "mlflow_server_listen_address": "[::1]"},
        "mlflow_server_listen_address ('[::1]')",
    ),
    ("db host with a port", {"mlflow_db_host": "db.example.com:5432"}, "mlflow_db_host ('db.example.com:5432')"),
    (
        "gc schedule not systemd's",
        {"mlflow_server_gc_on_calendar": "*-*-* 25:00:00"},
        "mlflow_server_gc_on_calendar ('*-*-* 25:00:00') is not a systemd OnCalendar expression",
    ),
    (
        "proxy upstreams not the servers' addresses",
        {"mlflow_proxy_upstreams": ["127.0.0.1:5001"]},
        "localhost publishes 127.0.0.1:5000",
    ),
    ("proxy drain timeout negative", {"mlflow_proxy_drain_timeout": -1}, "mlflow_proxy_drain_timeout (-1)"),
    ("proxy drain timeout a boolean", {"mlflow_proxy_drain_timeout": True}, "mlflow_proxy_drain_timeout (True)"),
    (
        "pre-migration backup on a host without PostgreSQL",
        {"mlflow_server_db_backup_host": SECOND_HOST, GROUP_VARS + "mlflow_artifacts": {}},
        "mlflow_server_db_backup_host (%s)" % SECOND_HOST,
    ),
    (
        "pre-migration backup directory shared",
        {"mlflow_server_db_backup_dir": "/var/backups"},
        "mlflow_server_db_backup_dir ('/var/backups') is a shared directory",
    ),
    (
        "scheduled backup directory shared",
        {"mlflow_postgresql_backup_dir": "/srv/"},
        "mlflow_postgresql_backup_dir ('/srv/') is a shared directory",
    ),
    (
        "proxy server name is an IP address",
        {"mlflow_proxy_server_name": "192.0.2.10"},
        "mlflow_proxy_server_name ('192.0.2.10') is an IP address",
    ),
    ("server port privileged", {"mlflow_server_port": 1023}, "mlflow_server_port (1023) is below 1024"),
    ("db user is postgres", {"mlflow_db_user": "postgres"}, "mlflow_db_user ('postgres')"),
    ("db name is template1", {"mlflow_db_name": "template1"}, "mlflow_db_name ('template1')"),
    ("auth database is postgres", {**AUTH, "mlflow_auth_db_name": "postgres"}, "mlflow_auth_db_name ('postgres')"),
    (
        "downgrade to a pre-release (PEP 440)",
        {**RUNNING, "mlflow_version": "3.17.2rc1", "mlflow_python_env_allow_unconstrained": True},
        "mlflow_version 3.17.2rc1 is older than MLflow 3.17.2",
    ),
    (
        "s3 endpoint with a path",
        {"mlflow_s3_endpoint_url": "http://127.0.0.1:9000/mlflow-artifacts"},
        "mlflow_s3_endpoint_url ('http://127.0.0.1:9000/mlflow-artifacts') has a path",
    ),
]


def run_preflight(
    variables,
    groups=("mlflow_db", "mlflow_server", "mlflow_artifacts", "mlflow_proxy"),
    hosts=None,
    limit=None,
    os_facts=None,
    env=None,
):
    """variables go to -e, except GROUP_VARS keys; hosts: more hosts, {name: [groups]}, all local.
    os_facts: "<distribution>|<version>|<release>|<os family>" the hosts report instead of the controller's own
    (tests/unit_repo/library/mlflow_test_os_facts.py runs after setup and overrides its distribution facts)."""
    group_vars = {k[len(GROUP_VARS) :]: v for k, v in variables.items() if k.startswith(GROUP_VARS)}
    hosts = {"localhost": groups, **(hosts or {}), **({SECOND_HOST: ["mlflow_artifacts"]} if group_vars else {})}
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    env = {
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_GATHER_SUBSET": "!all,!min,distribution",
        **(env or {}),
    }
    if not os_facts:
        # The controller's facts, gathered by the first case of this process and then read from a cache: every
        # case runs on the same machine (repo tests 343 -> 312 s on 2 cores).
        env.update(
            ANSIBLE_GATHERING="smart",
            ANSIBLE_CACHE_PLUGIN="jsonfile",
            ANSIBLE_CACHE_PLUGIN_CONNECTION=str(FACTS_DIR),
            ANSIBLE_CACHE_PLUGIN_TIMEOUT="0",
        )
    else:
        local["ansible_facts_parallel"] = False  # the facts modules in order: the stand-in's facts win
        env.update(
            MLFLOW_TEST_OS_FACTS=os_facts,
            ANSIBLE_LIBRARY=str(Path(__file__).parent / "library"),
            ANSIBLE_FACTS_MODULES="ansible.builtin.setup,mlflow_test_os_facts",
            ANSIBLE_VERBOSITY="1",  # include_vars then names the vars files it loaded
        )
    children = {
        g: {"hosts": {h: {} for h, in_groups in hosts.items() if g in in_groups}} for g in set().union(*hosts.values())
    }
    for group, group_variables in group_vars.items():
        children[group]["vars"] = group_variables
    inventory = {"all": {"hosts": dict.fromkeys(hosts, local), "children": children}}
    return run_playbook(
        ROOT / "playbooks" / "preflight.yml",
        inventory,
        extra_vars={k: v for k, v in variables.items() if v is not None and not k.startswith(GROUP_VARS)},
        env=env,
        limit=limit,
        timeout=300,
    )


@pytest.mark.parametrize(
    "extra",
    [
        {},
        AUTH,
        AWS,
        SEAWEEDFS,
        MINIO,
        provided(*CERTS["valid"]),
        TLS_INSIDE,
        {**AUTH, "mlflow_server_listen_address": "::1"},
    ],
    ids=[
        "baseline",
        "baseline with authentication",
        "baseline with AWS S3",
        "baseline with SeaweedFS",
        "baseline with MinIO",
        "baseline with a provided certificate",
        "baseline with TLS to the servers and to PostgreSQL",
        "baseline with MLflow on IPv6 loopback",
    ],
)
def test_valid_baseline_passes_and_changes_nothing(extra):
    result = run_preflight({**BASELINE, **extra})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "changed=0" in result.stdout and "failed=0" in result.stdout


@pytest.mark.parametrize(("case", "override", "variable"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_fails_naming_the_variable(case, override, variable):
    variables = dict(BASELINE)
    variables.update(override)
    with contextlib.ExitStack() as stack:
        if BUSY_PORT in variables.values():
            listener = stack.enter_context(socket.create_server(("127.0.0.1", 0)))
            variables = {k: listener.getsockname()[1] if v == BUSY_PORT else v for k, v in variables.items()}
        result = run_preflight(variables, env={"ANSIBLE_STDOUT_CALLBACK": "json"})
    output = result.stdout + result.stderr
    assert result.returncode != 0, "%s was accepted:\n%s" % (case, output[-3000:])
    # The message of the task that failed must say it: not a task header, not a dump of every argument spec.
    failed = failed_tasks(result.stdout)
    assert failed, "%s: no task failed:\n%s" % (case, output[-3000:])
    assert any(variable in str(message) for _, message in failed), "%s: no failed task's message names %s: %s" % (
        case,
        variable,
        failed,
    )
    stats = json.loads(result.stdout)["stats"]
    assert all(host["changed"] == 0 for host in stats.values()), stats
    group_secrets = [
        value
        for key, values in override.items()
        if key.startswith(GROUP_VARS)
        for name, value in values.items()
        if "secret" in name or "password" in name
    ]
    for value in group_secrets:
        assert value not in output, "%s: a secret is printed:\n%s" % (case, output[-3000:])


def test_without_a_proxy_preflight_says_what_clients_need():
    """MLflow 3.17 advertises presigned transfers and has no server switch: without the proxy role, say so."""
    variables = {k: v for k, v in BASELINE.items() if not k.startswith("mlflow_proxy_")}
    variables["mlflow_server_allow_unauthenticated"] = True  # no proxy, no auth: MLflow on 0.0.0.0
    result = run_preflight(variables, groups=("mlflow_db", "mlflow_server", "mlflow_artifacts"))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    warning = "MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD=false and MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD=false"
    assert warning in " ".join(result.stdout.split()), result.stdout[-3000:]
    # with the proxy in front (the baseline) nothing is said
    with_proxy = run_preflight(BASELINE)
    assert with_proxy.returncode == 0 and "MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD" not in with_proxy.stdout


def test_a_collection_wide_variable_set_on_some_hosts_names_them_and_group_vars_all():
    """mlflow_auth_enabled only in group_vars/mlflow_server: the postgresql role on the other hosts would not agree."""
    result = run_preflight({**BASELINE, **AUTH, "mlflow_auth_enabled": None, GROUP_VARS + "mlflow_server": AUTH})
    output = " ".join(result.stdout.split())
    assert result.returncode != 0, output[-3000:]
    expected = "mlflow_auth_enabled differs between hosts: true on localhost; not set on %s." % SECOND_HOST
    assert expected in output and "set it in group_vars/all" in output, output[-3000:]
    assert "PLAY RECAP" in output and "changed=0" in output


@pytest.mark.parametrize("endpoint", [None, "http://store-1.example.test:9000"], ids=["derived", "explicit"])
def test_a_consumer_without_its_owner_in_the_run_needs_the_explicit_variable(endpoint):
    """The server reads the endpoint the MinIO host publishes in preflight; --limit leaves that host out."""
    variables = {**BASELINE, "mlflow_s3_endpoint_url": endpoint, "mlflow_s3_server": "minio"}
    variables.update(mlflow_minio_root_user="unit-minio-root", mlflow_minio_root_password="unit-minio-pw-Xk39vQ2m")
    groups = ("mlflow_db", "mlflow_server", "mlflow_proxy")
    result = run_preflight(variables, groups=groups, hosts={"store-1": ["mlflow_artifacts"]}, limit="localhost")
    output = " ".join(result.stdout.split())
    if endpoint:
        assert result.returncode == 0, output[-3000:]
    else:
        assert result.returncode != 0, output[-3000:]
        assert "has not published its endpoint (mlflow_minio_endpoint_url)" in output, output[-3000:]
        assert "set mlflow_s3_endpoint_url" in output, output[-3000:]


TESTED = ["Debian|12.12|bookworm|Debian", "Debian|13.2|trixie|Debian", "Ubuntu|24.04|noble|Debian"]


@pytest.mark.parametrize("os_facts", TESTED, ids=["Debian 12", "Debian 13", "Ubuntu 24.04"])
def test_each_tested_platform_passes_with_its_own_variables(os_facts):
    """Every role's vars file for the platform loads (postgresql, python_env, proxy) and nothing is refused."""
    result = run_preflight({**BASELINE, **AUTH}, os_facts=os_facts)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "changed=0" in result.stdout and "failed=0" in result.stdout
    distribution, version = os_facts.split("|")[:2]
    for role in ("postgresql", "python_env", "proxy"):
        assert "roles/%s/vars/%s-%s.yml" % (role, distribution, version.split(".")[0]) in result.stdout, role


@pytest.mark.parametrize(
    "os_facts", ["Debian|14|forky|Debian", "Ubuntu|22.04|jammy|Debian"], ids=["Debian 14", "Ubuntu 22.04"]
)
def test_an_untested_release_is_refused_unless_the_operator_opts_in(os_facts):
    refused = run_preflight(BASELINE, os_facts=os_facts)
    output = " ".join(refused.stdout.split())
    assert refused.returncode != 0, output[-3000:]
    distribution, version, release = os_facts.split("|")[:3]
    assert "This host runs %s %s (%s)" % (distribution, version, release) in output, output[-3000:]
    assert "mlflow_allow_untested_platform" in output and "changed=0" in output, output[-3000:]
    # opted in: the family's generic variables (vars/Debian.yml) apply
    accepted = run_preflight({**BASELINE, "mlflow_allow_untested_platform": True}, os_facts=os_facts)
    assert accepted.returncode == 0, accepted.stdout[-3000:] + accepted.stderr[-2000:]
    assert "roles/postgresql/vars/Debian.yml" in accepted.stdout


def test_another_family_stops_even_when_opted_in_naming_the_missing_vars_file():
    result = run_preflight({**BASELINE, "mlflow_allow_untested_platform": True}, os_facts="Rocky|9.4|Blue Onyx|RedHat")
    output = " ".join(result.stdout.split())
    assert result.returncode != 0, output[-3000:]
    assert "has no variables for Rocky 9 (os family RedHat)" in output, output[-3000:]
    assert "vars/RedHat.yml" in output and "changed=0" in output, output[-3000:]
