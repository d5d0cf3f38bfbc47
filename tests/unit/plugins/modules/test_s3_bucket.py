# Unit tests of the s3_bucket module logic against moto's in-process S3 (real boto3 calls, no network).
from __future__ import annotations

import pytest

boto3 = pytest.importorskip("boto3")
moto = pytest.importorskip("moto")

from ansible_collections.mlops.mlflow.plugins.module_utils.s3 import (  # noqa: E402
    bucket_name_problems,
    client_kwargs,
    make_client,
)
from ansible_collections.mlops.mlflow.plugins.modules import s3_bucket  # noqa: E402
from botocore.exceptions import ClientError, EndpointConnectionError, SSLError  # noqa: E402


def params(**over):
    base = dict(
        name="mlflow-artifacts",
        state="present",
        force=False,
        endpoint_url=None,
        region="us-east-1",
        access_key="AKIATESTTESTTEST",
        secret_key="test-secret",  # noqa: S105 - moto accepts any key
        validate_certs=True,
        ca_bundle=None,
        addressing_style="path",
    )
    base.update(over)
    return base


@pytest.fixture
def client(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with moto.mock_aws():
        yield make_client(params())


@pytest.mark.parametrize(
    "name",
    ["abc", "mlflow-artifacts", "my.bucket.name", "a" * 63, "0bucket9"],
)
def test_valid_bucket_names(name):
    assert bucket_name_problems(name) == []


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("", "empty"),
        ("ab", "3 to 63"),
        ("a" * 64, "3 to 63"),
        ("MLflow", "lowercase"),
        ("my_bucket", "lowercase"),
        ("-bucket", "begin and end"),
        ("bucket-", "begin and end"),
        ("my..bucket", "adjacent dots"),
        ("192.168.1.10", "IP address"),
        ("xn--bucket", "xn--"),
        ("bucket-s3alias", "-s3alias"),
    ],
)
def test_invalid_bucket_names(name, fragment):
    problems = bucket_name_problems(name)
    assert problems, name
    assert any(fragment in p for p in problems), problems


def test_client_kwargs_tls_choices():
    assert client_kwargs(params(endpoint_url="https://minio:9000"))["endpoint_url"] == "https://minio:9000"
    assert "verify" not in client_kwargs(params())
    assert client_kwargs(params(validate_certs=False))["verify"] is False
    assert client_kwargs(params(ca_bundle="/etc/ca.pem"))["verify"] == "/etc/ca.pem"
    # validate_certs=false wins over a CA bundle
    assert client_kwargs(params(validate_certs=False, ca_bundle="/etc/ca.pem"))["verify"] is False


def test_create_is_idempotent(client):
    first = s3_bucket.ensure(client, params(), check_mode=False)
    assert first == dict(changed=True, bucket="mlflow-artifacts", existed=False, actions=["create_bucket"])
    assert "mlflow-artifacts" in [b["Name"] for b in client.list_buckets()["Buckets"]]
    second = s3_bucket.ensure(client, params(), check_mode=False)
    assert second["changed"] is False and second["existed"] is True and second["actions"] == []


def test_check_mode_reports_without_creating(client):
    result = s3_bucket.ensure(client, params(), check_mode=True)
    assert result["changed"] is True and result["actions"] == ["create_bucket"]
    assert client.list_buckets()["Buckets"] == []


def test_region_other_than_us_east_1_sets_location(monkeypatch):
    with moto.mock_aws():
        c = make_client(params(region="eu-west-1"))
        s3_bucket.ensure(c, params(region="eu-west-1"), check_mode=False)
        assert c.get_bucket_location(Bucket="mlflow-artifacts")["LocationConstraint"] == "eu-west-1"


def test_absent_refuses_non_empty_bucket_without_force(client):
    s3_bucket.ensure(client, params(), check_mode=False)
    client.put_object(Bucket="mlflow-artifacts", Key="run/model.pkl", Body=b"x")
    with pytest.raises(s3_bucket.S3BucketError, match="still holds objects"):
        s3_bucket.ensure(client, params(state="absent"), check_mode=False)
    assert client.head_bucket(Bucket="mlflow-artifacts")  # nothing deleted


def test_absent_with_force_empties_then_deletes(client):
    s3_bucket.ensure(client, params(), check_mode=False)
    for i in range(3):
        client.put_object(Bucket="mlflow-artifacts", Key="k%d" % i, Body=b"x")
    check = s3_bucket.ensure(client, params(state="absent", force=True), check_mode=True)
    assert check["actions"] == ["delete_objects", "delete_bucket"]
    assert client.list_objects_v2(Bucket="mlflow-artifacts")["KeyCount"] == 3
    done = s3_bucket.ensure(client, params(state="absent", force=True), check_mode=False)
    assert done["changed"] is True
    assert client.list_buckets()["Buckets"] == []
    again = s3_bucket.ensure(client, params(state="absent", force=True), check_mode=False)
    assert again["changed"] is False and again["existed"] is False


def _client_error(code, status, operation="HeadBucket"):
    return ClientError(
        {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, operation
    )


@pytest.mark.parametrize(
    ("exc", "fragment"),
    [
        (_client_error("InvalidAccessKeyId", 403), "check access_key"),
        (_client_error("SignatureDoesNotMatch", 403), "check secret_key"),
        (_client_error("BucketAlreadyExists", 409), "taken by another account"),
        (_client_error("InvalidBucketName", 400), "naming rules"),
        (EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), "cannot reach the S3 endpoint"),
        (SSLError(endpoint_url="https://minio:9000", error="CERTIFICATE_VERIFY_FAILED"), "ca_bundle"),
    ],
)
def test_failures_tell_the_user_what_to_fix(exc, fragment):
    msg = s3_bucket.describe_failure(exc, params(endpoint_url="http://minio:9000"), "creation")
    assert fragment in msg
    assert "test-secret" not in msg


class _ForeignBucketClient:
    """head_bucket answers 403 while the credentials themselves are fine: a bucket owned by someone else."""

    def head_bucket(self, Bucket):  # noqa: N803 - boto3's parameter name
        raise _client_error("403", 403)

    def list_buckets(self):
        return {"Buckets": []}


class _BadKeyClient(_ForeignBucketClient):
    def list_buckets(self):
        raise _client_error("InvalidAccessKeyId", 403, "ListBuckets")


def test_foreign_bucket_is_reported_as_such():
    with pytest.raises(s3_bucket.S3BucketError, match="owned by another account"):
        s3_bucket.ensure(_ForeignBucketClient(), params(), check_mode=False)


def test_403_from_a_bad_key_names_the_key():
    with pytest.raises(s3_bucket.S3BucketError, match="check access_key"):
        s3_bucket.ensure(_BadKeyClient(), params(), check_mode=False)


def test_unreachable_endpoint_fails_fast_with_endpoint_in_message():
    c = make_client(params(endpoint_url="http://127.0.0.1:9"), connect_timeout=1, retries=1)
    with pytest.raises(s3_bucket.S3BucketError, match=r"cannot reach the S3 endpoint http://127\.0\.0\.1:9"):
        s3_bucket.ensure(c, params(endpoint_url="http://127.0.0.1:9"), check_mode=False)
