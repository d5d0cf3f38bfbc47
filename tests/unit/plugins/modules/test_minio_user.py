# Copyright: (c) 2026, mlops.mlflow contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""minio_user against a fake MinIO admin API that answers the policy attach as MinIO does: encrypted with the root
secret key (argon2id + AES-GCM, madmin's format)."""

from __future__ import annotations

import io
import json
import sys
import urllib.error
import urllib.parse

import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.mlops.mlflow.plugins.module_utils import madmin
from ansible_collections.mlops.mlflow.plugins.modules import minio_user

ROOT_USER, ROOT_SECRET = "minio-root-user", 'root "pw" \\ $x H8c3'  # noqa: S105 - test credentials
POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": ["arn:aws:s3:::mlflow-artifacts"]}],
}
ARGS = dict(
    endpoint_url="http://minio.test:9000",
    access_key=ROOT_USER,
    secret_key=ROOT_SECRET,
    user_access_key="mlflow-user",
    user_secret_key="mlflow-user-secret-1",
    policy_name="mlflow-artifacts",
    policy=POLICY,
    bucket="mlflow-artifacts",
)


class Answer:
    def __init__(self, data):
        self.data = data

    def read(self):
        return self.data


class FakeMinio:
    """The admin calls minio_user makes, answered as MinIO answers them (attach: encrypted, argon2id + AES-GCM)."""

    def __init__(self, attached_answer=None):
        self.policies, self.users, self.calls = {}, {}, []
        self.attached_answer = attached_answer  # what the attach answer lists (default: what was asked for)

    def open_url(self, url, data=None, headers=None, method=None, **kwargs):
        split = urllib.parse.urlsplit(url)
        action, query = split.path.split("/minio/admin/v3/", 1)[1], dict(urllib.parse.parse_qsl(split.query))
        self.calls.append(action)
        body = data or b""
        if action == "info-canned-policy":
            if query["name"] not in self.policies:
                raise self.error(url, 404, "XMinioAdminNoSuchPolicy")
            return Answer(json.dumps(self.policies[query["name"]]).encode())
        if action == "add-canned-policy":
            self.policies[query["name"]] = json.loads(body)
            return Answer(b"")
        if action == "user-info":
            if query["accessKey"] not in self.users:
                raise self.error(url, 404, "XMinioAdminNoSuchUser")
            user = self.users[query["accessKey"]]
            return Answer(json.dumps({"status": "enabled", "policyName": ",".join(user["policies"])}).encode())
        if action == "add-user":
            request = json.loads(madmin.decrypt_data(ROOT_SECRET, body))
            self.users[query["accessKey"]] = {"secretKey": request["secretKey"], "policies": []}
            return Answer(b"")
        assert action == "idp/builtin/policy/attach"
        request = json.loads(madmin.decrypt_data(ROOT_SECRET, body))
        self.users[request["user"]]["policies"] += request["policies"]
        attached = request["policies"] if self.attached_answer is None else self.attached_answer
        answer = json.dumps({"policiesAttached": attached, "updatedAt": "2026-12-07T07:00:00Z"}).encode()
        return Answer(madmin.encrypt_data(ROOT_SECRET, answer, madmin.ARGON2ID_AESGCM))

    @staticmethod
    def error(url, status, code):
        body = json.dumps({"Code": code, "Message": code}).encode()
        return urllib.error.HTTPError(url, status, code, {}, io.BytesIO(body))


@pytest.fixture
def minio(monkeypatch):
    fake = FakeMinio()
    monkeypatch.setattr(madmin, "open_url", fake.open_url)
    # the user's keys, checked with an S3 request (boto3): accepted once the user exists
    monkeypatch.setattr(minio_user, "user_keys_work", lambda params, attempts=5: None)
    return fake


def run(capsys, **over):
    with patch_module_args(dict(ARGS, **over)), pytest.raises(SystemExit) as exited:
        minio_user.main()
    result = json.loads(capsys.readouterr().out)
    result["rc"] = exited.value.code
    return result


def test_creates_the_policy_and_the_user_and_reads_minios_encrypted_attach_answer(minio, capsys):
    result = run(capsys)
    assert (result["rc"], result.get("failed"), result["changed"]) == (0, None, True), result
    assert result["actions"] == ["add-canned-policy", "add-user", "policy-attach"]
    assert minio.users["mlflow-user"] == {"secretKey": "mlflow-user-secret-1", "policies": ["mlflow-artifacts"]}
    assert minio.policies["mlflow-artifacts"] == POLICY
    # a second run: nothing to change
    result = run(capsys)
    assert (result["rc"], result["changed"], result["actions"]) == (0, False, [])


def test_without_argon2_it_fails_before_any_admin_call(minio, capsys, monkeypatch):
    # the issue: with no argon2-cffi on the host, the module made its changes and then died on MinIO's argon2id
    # answer to the attach with an ImportError traceback. Now: a clear failure before it changes anything.
    monkeypatch.setitem(sys.modules, "argon2", None)
    monkeypatch.setitem(sys.modules, "argon2.low_level", None)
    result = run(capsys)
    assert result["rc"] == 1 and result["failed"] is True
    assert "argon2-cffi (Debian: python3-argon2)" in result["msg"]
    assert minio.calls == []


def test_an_attach_answer_that_does_not_list_the_policy_fails(minio, capsys):
    minio.attached_answer = []
    result = run(capsys)
    assert result["rc"] == 1 and result["failed"] is True
    assert "attaching the policy" in result["msg"] and "does not list the policy 'mlflow-artifacts'" in result["msg"]


def test_check_mode_makes_no_admin_change(minio, capsys):
    result = run(capsys, _ansible_check_mode=True)
    assert (result["rc"], result["changed"]) == (0, True)
    assert result["actions"] == ["add-canned-policy", "add-user", "policy-attach"]
    assert minio.calls == ["info-canned-policy", "user-info"] and minio.users == {} and minio.policies == {}
