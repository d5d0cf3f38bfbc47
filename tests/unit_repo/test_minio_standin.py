"""The MinIO stand-in's admin API (tests/standins/minio) with the collection's own admin client in front of it,
in-process: SigV4 checked, the user's secret decrypted, and the policy attach answered encrypted as MinIO answers it
(madmin.EncryptData with the root secret key, argon2id + AES-GCM), which the client must decrypt."""

import http.client
import importlib.util
import io
import json
import types
import urllib.error
import urllib.parse
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ROOT_USER, ROOT_SECRET = "standin-root", 'standin "pw" \\ $HOME %s'  # noqa: S105 - test credentials


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def standin():
    return load("minio_standin", ROOT / "tests/standins/minio/minio.py")


@pytest.fixture(scope="module")
def madmin():
    return load("madmin_client", ROOT / "plugins/module_utils/madmin.py")


class Answer:
    def __init__(self, data):
        self.data = data

    def read(self):
        return self.data


@pytest.fixture
def client(tmp_path, standin, madmin, monkeypatch):
    """madmin.AdminClient whose requests the stand-in's Admin answers (as its HTTP front would)."""
    admin = standin.Admin(str(tmp_path), ROOT_USER, ROOT_SECRET)
    log = []

    def open_url(url, data=None, headers=None, method=None, **kwargs):
        split = urllib.parse.urlsplit(url)
        message = http.client.HTTPMessage()
        message["Host"] = split.netloc
        for key, value in headers.items():
            message[key] = value
        status, answer = admin.handle(method, split.path, split.query, message, data or b"")
        body = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
        log.append((split.path, status, body))
        if status != 200:
            raise urllib.error.HTTPError(url, status, "", {}, io.BytesIO(body))
        return Answer(body)

    monkeypatch.setattr(madmin, "open_url", open_url)
    return types.SimpleNamespace(
        admin=admin, log=log, api=madmin.AdminClient("http://minio.test:9000", ROOT_USER, ROOT_SECRET)
    )


POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": ["arn:aws:s3:::b1"]}]}  # fmt: skip


def test_attach_is_answered_encrypted_as_minio_does_and_the_client_reads_it(client, madmin):
    client.api.set_policy("p1", POLICY)
    client.api.set_user("user-1", "user-1-secret")
    assert client.api.attach_policy("user-1", "p1")["policiesAttached"] == ["p1"]
    path, status, body = client.log[-1]
    assert (path, status) == ("/minio/admin/v3/idp/builtin/policy/attach", 200)
    # madmin's header: 32-byte salt, AEAD id 0x00 (argon2id + AES-GCM, MinIO on a CPU with AES), 8-byte nonce
    assert madmin.is_encrypted(body) and body[32] == madmin.ARGON2ID_AESGCM
    answer = json.loads(madmin.decrypt_data(ROOT_SECRET, body))
    assert answer["policiesAttached"] == ["p1"] and answer["updatedAt"].endswith("Z")
    with pytest.raises(ValueError, match="not authentic"):
        madmin.decrypt_data("another-root-secret", body)
    assert client.api.user("user-1") == {"status": "enabled", "policyName": "p1", "memberOf": None}
    identities = json.loads((Path(client.admin.directory) / "s3.json").read_text())["identities"]
    assert {"name": "user-1", "credentials": [{"accessKey": "user-1", "secretKey": "user-1-secret"}], "actions": ["List:b1"]} in identities  # fmt: skip


def test_attaching_again_is_refused_as_minio_refuses_it(client, madmin):
    client.api.set_policy("p1", POLICY)
    client.api.set_user("user-1", "user-1-secret")
    client.api.attach_policy("user-1", "p1")
    with pytest.raises(madmin.MinioAdminError) as refused:
        client.api.attach_policy("user-1", "p1")
    assert refused.value.code == "XMinioAdminPolicyChangeAlreadyApplied"


def test_a_request_not_signed_by_the_root_user_is_refused(client, madmin):
    client.api.secret_key = "not-the-root-secret"
    with pytest.raises(madmin.MinioAdminError) as refused:
        client.api.policy("p1")
    assert refused.value.code == "SignatureDoesNotMatch"


def test_the_standin_is_labelled(standin):
    assert "STAND-IN" in (ROOT / "tests/standins/minio/minio.py").read_text().splitlines()[1]
    assert "not MinIO" in standin.VERSION
