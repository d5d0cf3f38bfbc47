#!/usr/bin/python
# Copyright: (c) 2026, mlops.mlflow contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: s3_bucket
short_description: Ensure a bucket is present or absent on an S3-compatible endpoint (AWS S3, MinIO, ...)
version_added: 0.1.0
description:
  - Creates or deletes a bucket through the S3 API with boto3.
  - Idempotent; in check mode it reports what it would do without doing it.
  - Fails with a message that says what to fix for the usual mistakes (wrong access or secret key,
    endpoint down or TLS not trusted, invalid bucket name, a name owned by another account).
author:
  - mlops.mlflow maintainers (@mlops-mlflow)
extends_documentation_fragment:
  - mlops.mlflow.s3
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
options:
  name:
    description:
      - Bucket name. Checked against the S3 naming rules before anything is sent.
    type: str
    required: true
    aliases: [bucket]
  state:
    description:
      - Whether the bucket should exist.
    type: str
    choices: [present, absent]
    default: present
  force:
    description:
      - With O(state=absent), delete every object (and object version) in the bucket first.
      - Without it, deleting a bucket that still holds objects fails and nothing is deleted.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Artifact bucket on MinIO
  mlops.mlflow.s3_bucket:
    name: mlflow-artifacts
    endpoint_url: https://minio.example.com:9000
    access_key: "{{ mlflow_s3_access_key }}"
    secret_key: "{{ mlflow_s3_secret_key }}"
    ca_bundle: /etc/ssl/certs/internal-ca.pem

- name: Bucket on AWS S3 in eu-west-1
  mlops.mlflow.s3_bucket:
    name: acme-mlflow-artifacts
    region: eu-west-1
    addressing_style: auto
    access_key: "{{ aws_access_key }}"
    secret_key: "{{ aws_secret_key }}"
"""

RETURN = r"""
bucket:
  description: Name of the bucket.
  returned: always
  type: str
  sample: mlflow-artifacts
existed:
  description: Whether the bucket existed before the module ran.
  returned: always
  type: bool
actions:
  description: S3 operations the module performed (or would perform in check mode).
  returned: always
  type: list
  elements: str
  sample: [create_bucket]
"""

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.mlops.mlflow.plugins.module_utils.s3 import (
    S3_COMMON_ARGUMENT_SPEC,
    bucket_name_problems,
    client_error_code,
    explain_error_code,
    http_status,
    make_client,
)

try:
    import botocore.exceptions as boto_exc

    HAS_BOTO3 = True
    BOTO3_IMPORT_ERROR = None
except ImportError:
    HAS_BOTO3 = False
    BOTO3_IMPORT_ERROR = traceback.format_exc()


class S3BucketError(Exception):
    pass


def describe_failure(exc, params, operation):
    """A message a user can act on, for any exception raised while talking to the endpoint."""
    where = params.get("endpoint_url") or "AWS S3 (region %s)" % params.get("region")
    if isinstance(exc, boto_exc.SSLError):
        return (
            "TLS verification of %s failed during %s: trust its CA with ca_bundle, or set validate_certs=false "
            "for a test endpoint (%s)" % (where, operation, exc)
        )
    if isinstance(exc, (boto_exc.EndpointConnectionError, boto_exc.ConnectTimeoutError, boto_exc.ReadTimeoutError)):
        return "cannot reach the S3 endpoint %s during %s: is it running, and is endpoint_url right? (%s)" % (
            where,
            operation,
            exc,
        )
    if isinstance(exc, boto_exc.NoCredentialsError):
        return "no credentials: set access_key and secret_key"
    if isinstance(exc, boto_exc.ClientError):
        code = client_error_code(exc)
        advice = explain_error_code(code)
        status = http_status(exc)
        if advice:
            return "%s of bucket %r failed on %s: %s (%s, HTTP %s)" % (
                operation,
                params["name"],
                where,
                advice,
                code,
                status,
            )
        return "%s of bucket %r failed on %s: %s (HTTP %s)" % (operation, params["name"], where, exc, status)
    return "%s of bucket %r failed on %s: %s" % (operation, params["name"], where, exc)


def bucket_exists(client, params):
    """True/False, or raise S3BucketError when the bucket belongs to someone else or the call failed."""
    try:
        client.head_bucket(Bucket=params["name"])
        return True
    except boto_exc.ClientError as exc:
        status = http_status(exc)
        code = client_error_code(exc)
        if status == 404 or code in ("404", "NoSuchBucket"):
            return False
        if status == 403 or code in ("403", "AccessDenied"):
            # HEAD gives no error body: tell a bad key from a foreign bucket with a call that needs no bucket
            try:
                client.list_buckets()
            except boto_exc.ClientError as inner:
                raise S3BucketError(describe_failure(inner, params, "listing buckets")) from inner
            raise S3BucketError(
                "bucket %r exists but these credentials may not use it: it is owned by another account or "
                "the access key lacks permission. Choose another name or grant access (HTTP 403)" % params["name"]
            ) from exc
        raise S3BucketError(describe_failure(exc, params, "checking")) from exc
    except boto_exc.BotoCoreError as exc:
        raise S3BucketError(describe_failure(exc, params, "checking")) from exc


def create_bucket(client, params):
    kwargs = {"Bucket": params["name"]}
    region = params.get("region") or "us-east-1"
    if region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        client.create_bucket(**kwargs)
    except boto_exc.ClientError as exc:
        if client_error_code(exc) == "BucketAlreadyOwnedByYou":
            return False  # created concurrently by us: nothing changed by this call
        raise S3BucketError(describe_failure(exc, params, "creation")) from exc
    except boto_exc.BotoCoreError as exc:
        raise S3BucketError(describe_failure(exc, params, "creation")) from exc
    return True


def _empty_bucket(client, name):
    """Delete every object version and delete marker (falls back to plain objects without versioning)."""
    deleted = 0
    try:
        pages = client.get_paginator("list_object_versions").paginate(Bucket=name)
        for page in pages:
            keys = [
                {"Key": v["Key"], "VersionId": v["VersionId"]}
                for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
            ]
            if keys:
                client.delete_objects(Bucket=name, Delete={"Objects": keys, "Quiet": True})
                deleted += len(keys)
    except boto_exc.ClientError as exc:
        if client_error_code(exc) not in ("NotImplemented", "MethodNotAllowed"):
            raise
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=name):
        keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if keys:
            client.delete_objects(Bucket=name, Delete={"Objects": keys, "Quiet": True})
            deleted += len(keys)
    return deleted


def bucket_is_empty(client, name):
    return not client.list_objects_v2(Bucket=name, MaxKeys=1).get("KeyCount", 0)


def delete_bucket(client, params, check_mode):
    """Actions needed/taken to delete the bucket."""
    name = params["name"]
    actions = []
    try:
        if not bucket_is_empty(client, name):
            if not params["force"]:
                raise S3BucketError(
                    "bucket %r still holds objects: empty it first, or set force=true to delete them with the bucket"
                    % name
                )
            actions.append("delete_objects")
            if not check_mode:
                _empty_bucket(client, name)
        actions.append("delete_bucket")
        if not check_mode:
            client.delete_bucket(Bucket=name)
    except boto_exc.ClientError as exc:
        raise S3BucketError(describe_failure(exc, params, "deletion")) from exc
    except boto_exc.BotoCoreError as exc:
        raise S3BucketError(describe_failure(exc, params, "deletion")) from exc
    return actions


def ensure(client, params, check_mode):
    """Bring the bucket to params['state']; return the module result (without failing)."""
    existed = bucket_exists(client, params)
    actions = []
    if params["state"] == "present" and not existed:
        actions.append("create_bucket")
        if not check_mode and not create_bucket(client, params):
            actions = []
    elif params["state"] == "absent" and existed:
        actions = delete_bucket(client, params, check_mode)
    return dict(changed=bool(actions), bucket=params["name"], existed=existed, actions=actions)


def main():
    argument_spec = dict(
        name=dict(type="str", required=True, aliases=["bucket"]),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        force=dict(type="bool", default=False),
    )
    argument_spec.update(S3_COMMON_ARGUMENT_SPEC)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    if not HAS_BOTO3:
        module.fail_json(msg=missing_required_lib("boto3"), exception=BOTO3_IMPORT_ERROR)

    problems = bucket_name_problems(module.params["name"])
    if problems:
        module.fail_json(msg="name=%r is not a valid S3 bucket name: %s" % (module.params["name"], "; ".join(problems)))

    try:
        client = make_client(module.params)
        result = ensure(client, module.params, module.check_mode)
    except S3BucketError as exc:
        module.fail_json(msg=str(exc), bucket=module.params["name"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
