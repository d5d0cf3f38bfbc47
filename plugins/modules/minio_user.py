#!/usr/bin/python
# Copyright: (c) 2026, mlops.mlflow contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: minio_user
short_description: Ensure a MinIO user exists with a canned policy, through MinIO's admin API
version_added: 0.2.0
description:
  - Creates or updates a canned policy and a user of MinIO's built-in identity provider, and attaches the policy to
    the user, with the calls C(mc admin policy create), C(mc admin user add) and C(mc admin policy attach) make
    (admin API v3, SigV4-signed; the user's secret key travels encrypted with the caller's secret key, as C(mc) sends
    it, and MinIO's encrypted answer to the attach is decrypted and checked). No C(mc) binary, and no key on a
    command line.
  - Idempotent. MinIO never returns a user's secret key, so the module checks it by signing an S3 request with the
    user's keys (listing O(bucket)); only when MinIO refuses that signature is the secret key set again.
  - In check mode it reports what it would change without changing it.
author:
  - mlops.mlflow maintainers (@mlops-mlflow)
requirements:
  - boto3 (Debian's python3-boto3)
  - cryptography (python3-cryptography)
  - argon2-cffi (python3-argon2) - MinIO answers the policy attach encrypted with a key it derives from the root
    secret key with argon2id (PBKDF2 only in FIPS builds); the module reads that answer, and encrypts the user's
    secret key as C(mc) does (argon2id + AES-GCM)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
options:
  endpoint_url:
    description: MinIO's S3 API, C(http(s)://host:port).
    type: str
    required: true
  access_key:
    description: Access key of the root user (or an admin user) making the calls.
    type: str
    required: true
  secret_key:
    description: Its secret key; also the key the user's secret key is encrypted with on the way.
    type: str
    required: true
  user_access_key:
    description: Access key of the user to create.
    type: str
    required: true
  user_secret_key:
    description: Secret key of that user (at least 8 characters, as MinIO requires).
    type: str
    required: true
  policy_name:
    description: Name of the canned policy attached to the user.
    type: str
    required: true
  policy:
    description: The policy document (IAM JSON, C(Version) 2012-10-17).
    type: dict
    required: true
  bucket:
    description: A bucket the policy lets the user list; the user's keys are checked against it.
    type: str
    required: true
  region:
    description: Region the requests are signed for.
    type: str
    default: us-east-1
  ca_bundle:
    description: CA bundle on the host that MinIO's certificate is checked against.
    type: path
  validate_certs:
    description: Check MinIO's TLS certificate.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: MLflow's own MinIO user, limited to its bucket
  mlops.mlflow.minio_user:
    endpoint_url: https://minio.example.com:9000
    access_key: "{{ mlflow_minio_root_user }}"
    secret_key: "{{ mlflow_minio_root_password }}"
    user_access_key: "{{ mlflow_s3_access_key }}"
    user_secret_key: "{{ mlflow_s3_secret_key }}"
    policy_name: mlflow-artifacts
    bucket: mlflow-artifacts
    policy:
      Version: "2012-10-17"
      Statement:
        - {Effect: Allow, Action: ["s3:ListBucket", "s3:GetBucketLocation"], Resource: ["arn:aws:s3:::mlflow-artifacts"]}
        - {Effect: Allow, Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], Resource: ["arn:aws:s3:::mlflow-artifacts/*"]}
"""

RETURN = r"""
actions:
  description: Admin calls the module made (or would make in check mode).
  returned: always
  type: list
  elements: str
  sample: [add-canned-policy, add-user, policy-attach]
"""

import importlib
import json
import time

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.mlops.mlflow.plugins.module_utils.madmin import AdminClient, MinioAdminError

# botocore signs, cryptography encrypts, argon2-cffi derives the key of MinIO's encrypted answers (all imported
# where they are used): (module, the library to install).
REQUIRED_LIBS = (
    ("boto3", "boto3 (Debian: python3-boto3)"),
    ("cryptography", "cryptography (Debian: python3-cryptography)"),
    ("argon2.low_level", "argon2-cffi (Debian: python3-argon2)"),
)


def missing_libs():
    """The required libraries that do not import; checked before any call, so that a missing one changes nothing."""
    missing = []
    for name, library in REQUIRED_LIBS:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(library)
    return missing


# How MinIO answers an S3 request signed with a key it does not know, or with the wrong secret.
_WRONG_KEYS = ("InvalidAccessKeyId", "SignatureDoesNotMatch")


def user_keys_work(params, attempts=5):
    """List the bucket with the user's keys: None when MinIO accepts them, else its error code (a change to a user
    takes effect at once on MinIO; a refused signature is retried briefly all the same)."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    verify = params["ca_bundle"] or params["validate_certs"]
    client = boto3.client(
        "s3",
        endpoint_url=params["endpoint_url"],
        region_name=params["region"],
        aws_access_key_id=params["user_access_key"],
        aws_secret_access_key=params["user_secret_key"],
        verify=verify,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )
    code = None
    for attempt in range(attempts):
        try:
            client.list_objects_v2(Bucket=params["bucket"], MaxKeys=1)
            return None
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
        if code not in _WRONG_KEYS or attempt == attempts - 1:
            break
        time.sleep(1)
    return code


def normalized(document):
    return json.loads(json.dumps(document, sort_keys=True))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            endpoint_url=dict(type="str", required=True),
            access_key=dict(type="str", required=True, no_log=True),
            secret_key=dict(type="str", required=True, no_log=True),
            user_access_key=dict(type="str", required=True, no_log=False),
            user_secret_key=dict(type="str", required=True, no_log=True),
            policy_name=dict(type="str", required=True),
            policy=dict(type="dict", required=True),
            bucket=dict(type="str", required=True),
            region=dict(type="str", default="us-east-1"),
            ca_bundle=dict(type="path"),
            validate_certs=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    missing = missing_libs()
    if missing:
        module.fail_json(msg=missing_required_lib(" and ".join(missing)))
    p = module.params
    if p["user_access_key"] == p["access_key"]:
        module.fail_json(msg="user_access_key is the admin's own access key: give the user its own keys")
    if len(p["user_secret_key"]) < 8:
        module.fail_json(msg="user_secret_key must be at least 8 characters long (MinIO refuses shorter ones)")

    admin = AdminClient(
        p["endpoint_url"], p["access_key"], p["secret_key"], p["ca_bundle"], p["validate_certs"], p["region"]
    )
    actions = []

    def do(action, call, *args):
        actions.append(action)
        if not module.check_mode:
            call(*args)

    def attach():
        # MinIO answers with the policies it attached (encrypted; decrypted by the client)
        answer = admin.attach_policy(p["user_access_key"], p["policy_name"])
        if not isinstance(answer, dict) or p["policy_name"] not in (answer.get("policiesAttached") or []):
            raise ValueError("MinIO's answer does not list the policy %r as attached: %s" % (p["policy_name"], answer))

    step = "reading the policy"
    try:
        current = admin.policy(p["policy_name"])
        if current is None or normalized(current) != normalized(p["policy"]):
            step = "writing the policy"
            do("add-canned-policy", admin.set_policy, p["policy_name"], p["policy"])
        step = "reading the user"
        user = admin.user(p["user_access_key"])
        if user is None:
            step = "creating the user"
            do("add-user", admin.set_user, p["user_access_key"], p["user_secret_key"])
        attached = [name for name in ((user or {}).get("policyName") or "").split(",") if name]
        if p["policy_name"] not in attached:
            step = "attaching the policy"
            do("policy-attach", attach)
        if user is not None and not module.check_mode:
            step = "checking the user's keys"
            if user_keys_work(p, attempts=1) in _WRONG_KEYS:
                do("add-user", admin.set_user, p["user_access_key"], p["user_secret_key"])
    except MinioAdminError as error:
        hint = {
            "InvalidAccessKeyId": "access_key is not a MinIO user",
            "SignatureDoesNotMatch": "secret_key does not match access_key",
            "AccessDenied": "access_key is not allowed to administer users and policies",
            "XMinioAdminNotImplemented": "this server has no built-in identity provider admin API",
        }.get(error.code, "")
        module.fail_json(
            msg="MinIO refused %s at %s: %s%s" % (step, p["endpoint_url"], error, "; " + hint if hint else "")
        )
    except (OSError, ValueError) as error:
        module.fail_json(msg="%s at %s failed: %s" % (step, p["endpoint_url"], error))

    if not module.check_mode:
        refused = user_keys_work(p)
        if refused:
            module.fail_json(
                msg="MinIO refuses the user's keys for bucket %r after the changes (%s): check that the policy allows "
                "s3:ListBucket on arn:aws:s3:::%s" % (p["bucket"], refused, p["bucket"]),
                actions=actions,
            )
    module.exit_json(changed=bool(actions), actions=actions)


if __name__ == "__main__":
    main()
