"""SFTP artifact store: a real MLflow client through the proxy, files on the SFTP host, and an SFTP
account that takes keys only and gives no shell.

The tracking server reaches the store as its service account (mlflow) with the key, known_hosts line
and ssh config the sftp role wrote into ~/.ssh; the checks below connect the same way.
"""

import os

import pytest
import testinfra
import testinfra.utils.ansible_runner
from mlflow_checks import ENV_FILE, ENV_PYTHON, FILES, env_command, group_names, run_env_script, run_roundtrip

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
testinfra_hosts = group_names("mlflow_server")

STORE = "mlflow-sftp-store"
SFTP_USER = "mlflow-sftp"
DESTINATION = "sftp://%s@%s/artifacts" % (SFTP_USER, STORE)
STORE_DIR = "/srv/mlflow/artifacts"  # chroot /srv/mlflow + /artifacts
HOME = "/var/lib/mlflow"
SSH_PROBE = os.path.join(FILES, "ssh_probe.py")


@pytest.fixture(scope="module")
def store():
    return testinfra.get_host("ansible://%s" % STORE, ansible_inventory=INVENTORY)


def as_mlflow(host, code, *args):
    """Python in the MLflow environment as the service account, with only HOME set (like the unit)."""
    return host.run(env_command([ENV_PYTHON, "-c", code, *args], env={"HOME": HOME}, user="mlflow"))


def probe(host, *args):
    """tests/clients/ssh_probe.py as the service account, with the account's ~/.ssh (see as_mlflow)."""
    return run_env_script(host, SSH_PROBE, *args, what="ssh_probe.py %s" % args[0], env={"HOME": HOME}, user="mlflow")


def test_server_writes_to_the_sftp_destination_through_the_proxy(host):
    content = host.file(ENV_FILE).content_string
    assert 'MLFLOW_SERVE_ARTIFACTS="true"' in content
    assert 'MLFLOW_ARTIFACTS_DESTINATION="%s"' % DESTINATION in content
    assert "MLFLOW_DEFAULT_ARTIFACT_ROOT" not in content
    assert host.service("mlflow").is_running


@pytest.fixture(scope="module")
def roundtrip(host):
    return run_roundtrip(host, "http://mlflow-sftp-server:5000")


def test_client_round_trip_goes_through_the_proxy(roundtrip):
    # the client ran with an empty environment: no ~/.ssh, no key; it read everything back (sha256, model)
    assert roundtrip["artifact_uri"].startswith("mlflow-artifacts:/"), roundtrip


def test_artifacts_are_on_the_sftp_host_under_the_configured_path(store, roundtrip):
    blob = "%s/%s/%s/artifacts/data/blob.bin" % (STORE_DIR, roundtrip["experiment_id"], roundtrip["run_id"])
    f = store.file(blob)
    assert f.is_file, blob
    assert f.size == roundtrip["size_bytes"]
    assert f.user == SFTP_USER
    models = store.check_output("find %s/%s -name MLmodel", STORE_DIR, roundtrip["experiment_id"])
    assert models.strip(), "no MLmodel under the experiment"


def test_sftp_account_has_no_shell(host, store):
    assert store.user(SFTP_USER).shell == "/usr/sbin/nologin"
    # with the server's own key the account is accepted, but a command is refused by sshd itself (ForceCommand
    # internal-sftp): its own message, then the channel closes; nothing the command would print comes back
    out = probe(host, "exec", STORE, SFTP_USER, HOME + "/.ssh/id_rsa")
    assert out == {"output": "This service allows sftp connections only.\n"}, out


def test_sftp_account_is_jailed_in_the_chroot(host):
    """MLflow's own SFTP repository, given no user in the URI, takes it (and the key) from ~/.ssh/config;
    the account's / is the chroot, where only the artifact directory is."""
    code = (
        "from mlflow.store.artifact.sftp_artifact_repo import SFTPArtifactRepository\n"
        "repo = SFTPArtifactRepository('sftp://%s/')\n"
        "print(sorted(f.path for f in repo.list_artifacts()))\n" % STORE
    )
    cmd = as_mlflow(host, code)
    assert cmd.rc == 0, cmd.stderr
    assert cmd.stdout.strip().splitlines()[-1] == "['artifacts']"


def test_password_auth_is_refused_for_the_sftp_account(host):
    assert probe(host, "auth_none", STORE, SFTP_USER)["allowed"] == ["publickey"]
    out = probe(host, "password", STORE, SFTP_USER)
    assert out["result"] == "refused", out


def test_only_the_servers_keys_are_authorized_and_root_owns_them(host, store):
    keys = store.file("/etc/ssh/mlflow-sftp-authorized-keys/%s" % SFTP_USER)
    assert keys.user == "root" and keys.mode == 0o644
    lines = [line for line in keys.content_string.splitlines() if line and not line.startswith("#")]
    server_pub = host.file(HOME + "/.ssh/id_rsa.pub").content_string.split()[:2]
    assert len(lines) == 1
    assert lines[0].split()[0] == "restrict" and lines[0].split()[1:3] == server_pub


def test_known_hosts_line_is_plain_and_matches_the_store_host_key(host, store):
    line = host.file(HOME + "/.ssh/known_hosts").content_string.strip()
    assert "\n" not in line and not line.startswith("|1|") and not line.startswith("[")
    name, keytype, key = line.split()
    assert name == STORE and keytype == "ssh-rsa"
    assert store.file("/etc/ssh/ssh_host_rsa_key.pub").content_string.split()[1] == key


def test_ssh_files_belong_to_the_service_account(host):
    key = host.file(HOME + "/.ssh/id_rsa")
    assert key.user == "mlflow" and key.mode == 0o600
    assert "PRIVATE KEY" in host.check_output("head -1 %s/.ssh/id_rsa", HOME)
    assert host.file(HOME + "/.ssh").mode == 0o700
    for name in ("known_hosts", "config"):
        f = host.file("%s/.ssh/%s" % (HOME, name))
        assert f.user == "mlflow" and f.mode == 0o644
