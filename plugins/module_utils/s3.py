# Copyright: (c) 2026, mlops.mlflow contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared S3 helpers: argument spec, bucket-name rules, client construction, error explanations."""

from __future__ import annotations

import ipaddress
import re

S3_COMMON_ARGUMENT_SPEC = dict(
    endpoint_url=dict(type="str"),
    region=dict(type="str", default="us-east-1"),
    access_key=dict(type="str", required=True, no_log=True, aliases=["aws_access_key_id"]),
    secret_key=dict(type="str", required=True, no_log=True, aliases=["aws_secret_access_key"]),
    validate_certs=dict(type="bool", default=True),
    ca_bundle=dict(type="path"),
    addressing_style=dict(type="str", default="path", choices=["auto", "path", "virtual"]),
)

_BUCKET_CHARS = re.compile(r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$")


def bucket_name_problems(name):
    """Return the list of reasons why ``name`` is not a valid S3 bucket name (empty when valid).

    Rules from the AWS general-purpose bucket naming rules, which MinIO also enforces.
    """
    problems = []
    if not isinstance(name, str) or not name:
        return ["the name is empty"]
    if not 3 <= len(name) <= 63:
        problems.append("it must be 3 to 63 characters long (it is %d)" % len(name))
    if not _BUCKET_CHARS.match(name):
        problems.append(
            "it may contain only lowercase letters, digits, dots and hyphens, and must begin and end with a letter or digit"
        )
    if ".." in name:
        problems.append("it must not contain two adjacent dots")
    try:
        ipaddress.IPv4Address(name)
        problems.append("it must not be formatted as an IP address")
    except ValueError:
        pass
    for prefix in ("xn--", "sthree-", "amzn-s3-demo-"):
        if name.startswith(prefix):
            problems.append("it must not start with %r" % prefix)
    for suffix in ("-s3alias", "--ol-s3", "--x-s3", ".mrap"):
        if name.endswith(suffix):
            problems.append("it must not end with %r" % suffix)
    return problems


# What a user should do about an error, by S3/botocore error code.
_ERROR_ADVICE = {
    "InvalidAccessKeyId": "the access key is not known to the endpoint: check access_key",
    "SignatureDoesNotMatch": "the secret key does not match the access key: check secret_key",
    "AccessDenied": "the credentials are valid but lack permission on this bucket",
    "AllAccessDisabled": "the credentials are valid but lack permission on this bucket",
    "BucketAlreadyExists": "the bucket name is taken by another account: choose another name",
    "InvalidBucketName": "the endpoint rejected the bucket name: see the S3 bucket naming rules",
    "BucketNotEmpty": "the bucket still holds objects: empty it first or set force=true",
    "IllegalLocationConstraintException": "the region does not match the endpoint: check region",
    "AuthorizationHeaderMalformed": "the region does not match the endpoint: check region",
    "InvalidLocationConstraint": "the region is not valid for this endpoint: check region",
    "RequestTimeTooSkewed": "the clock of the host running the module differs from the endpoint's: fix time sync",
}


def explain_error_code(code):
    """Advice for an S3 error code, or None when there is nothing more useful than the code itself."""
    return _ERROR_ADVICE.get(str(code))


def client_error_code(exc):
    """Error code of a botocore ClientError (or anything shaped like one)."""
    response = getattr(exc, "response", None) or {}
    error = response.get("Error", {}) if isinstance(response, dict) else {}
    return str(error.get("Code", "")) or None


def http_status(exc):
    response = getattr(exc, "response", None) or {}
    meta = response.get("ResponseMetadata", {}) if isinstance(response, dict) else {}
    return meta.get("HTTPStatusCode")


def client_kwargs(params):
    """Keyword arguments for boto3.client('s3', ...) from the module parameters (pure, testable)."""
    kwargs = dict(
        aws_access_key_id=params["access_key"],
        aws_secret_access_key=params["secret_key"],
        region_name=params.get("region") or "us-east-1",
    )
    if params.get("endpoint_url"):
        kwargs["endpoint_url"] = params["endpoint_url"]
    if not params.get("validate_certs", True):
        kwargs["verify"] = False
    elif params.get("ca_bundle"):
        kwargs["verify"] = params["ca_bundle"]
    return kwargs


def make_client(params, connect_timeout=10, read_timeout=60, retries=2):
    import boto3  # imported here: callers report a missing boto3 themselves
    from botocore.config import Config

    config = Config(
        s3={"addressing_style": params.get("addressing_style") or "path"},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries={"max_attempts": retries, "mode": "standard"},
        signature_version="s3v4",
    )
    return boto3.client("s3", config=config, **client_kwargs(params))
