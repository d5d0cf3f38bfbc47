# Copyright: (c) 2026, mlops.mlflow contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  endpoint_url:
    description:
      - URL of the S3-compatible endpoint, for example V(https://minio.example.com:9000).
      - Leave unset for AWS S3, where the endpoint follows from O(region).
    type: str
  region:
    description:
      - Region of the bucket. MinIO accepts any region and defaults to V(us-east-1).
    type: str
    default: us-east-1
  access_key:
    description:
      - Access key ID.
    type: str
    required: true
    aliases: [aws_access_key_id]
  secret_key:
    description:
      - Secret access key. Never logged.
    type: str
    required: true
    aliases: [aws_secret_access_key]
  validate_certs:
    description:
      - Verify the endpoint's TLS certificate. Set to V(false) only for test endpoints.
    type: bool
    default: true
  ca_bundle:
    description:
      - Path to a PEM CA bundle used to verify the endpoint's certificate, on the host that runs the module.
    type: path
  addressing_style:
    description:
      - S3 addressing style. MinIO and most on-premises stores need V(path).
    type: str
    choices: [auto, path, virtual]
    default: path
requirements:
  - boto3 >= 1.26 (on the host that runs the module)
"""
