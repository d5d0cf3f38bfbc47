# Copyright: (c) 2026, mlops.mlflow contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""MinIO's admin API (the calls `mc admin` makes), without `mc`: SigV4-signed requests, and the request bodies
MinIO wants encrypted with the caller's secret key (madmin-go's EncryptData).

EncryptData's format, ported byte for byte from madmin-go v3.0.109 encrypt.go and sio-go v0.3.1 (the versions MinIO
RELEASE.2025-09-07T16-13-09Z is built with; checked against madmin-go's fixed ciphertexts in the unit tests):

    salt(32) || algorithm id(1) || nonce(8) || sio stream

- id 0x00: argon2id (time 1, 64 MiB, 4 threads, 32-byte key) + AES-256-GCM, what `mc` sends on CPUs with AES;
  0x01 the same with ChaCha20-Poly1305; 0x02 PBKDF2-HMAC-SHA256 (8192 rounds) + AES-256-GCM (FIPS builds). MinIO
  decrypts all three.
- the sio stream: 16384-byte fragments, each sealed with nonce || LE32(sequence number, from 1) and associated data
  flag || tag0, where flag is 0x80 on the last fragment (else 0x00) and tag0 the tag of an empty seal at sequence 0.

MinIO encrypts answers too, with the same function and the caller's secret key: of the calls made here, the answer
to idp/builtin/policy/attach (a madmin.PolicyAssociationResp). MinIO picks the algorithm itself: argon2id + AES-GCM
on CPUs with AES instructions, argon2id + ChaCha20-Poly1305 without, PBKDF2 only in FIPS builds. So reading that
answer needs argon2-cffi (Debian's python3-argon2) whatever the client sends.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import urllib.error
import urllib.parse

from ansible.module_utils.urls import open_url

ARGON2ID_AESGCM, ARGON2ID_CHACHA20POLY1305, PBKDF2_AESGCM = 0x00, 0x01, 0x02
SALT_LEN, NONCE_LEN, TAG_LEN, BUF_SIZE = 32, 8, 16, 1 << 14
HEADER_LEN = SALT_LEN + 1 + NONCE_LEN
FLAG_MORE, FLAG_FINAL = 0x00, 0x80


class MinioAdminError(Exception):
    """An admin call MinIO refused: status, MinIO's error code and message."""

    def __init__(self, status, code, message):
        super().__init__("HTTP %s %s: %s" % (status, code, message))
        self.status, self.code, self.message = status, code, message


def _derive_key(password, salt, algorithm):
    secret = password.encode("utf-8")
    if algorithm in (ARGON2ID_AESGCM, ARGON2ID_CHACHA20POLY1305):
        try:
            from argon2.low_level import Type, hash_secret_raw
        except ImportError:
            raise ValueError(
                "argon2id-encrypted data (MinIO encrypts its admin answers so) needs the Python library argon2-cffi "
                "(Debian's python3-argon2), which is not installed"
            ) from None

        return hash_secret_raw(
            secret, salt, time_cost=1, memory_cost=64 * 1024, parallelism=4, hash_len=32, type=Type.ID
        )
    if algorithm == PBKDF2_AESGCM:
        return hashlib.pbkdf2_hmac("sha256", secret, salt, 8192, 32)
    raise ValueError("unknown encryption algorithm id %r" % algorithm)


def _aead(algorithm, key):
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

    return ChaCha20Poly1305(key) if algorithm == ARGON2ID_CHACHA20POLY1305 else AESGCM(key)


def _fragment_nonce(nonce, sequence):
    return nonce + struct.pack("<I", sequence)


def _associated_data(aead, nonce):
    tag0 = aead.encrypt(_fragment_nonce(nonce, 0), b"", None)
    return bytes([FLAG_MORE]) + tag0, bytes([FLAG_FINAL]) + tag0


def default_algorithm():
    """argon2id + AES-GCM as `mc` sends it, or PBKDF2 + AES-GCM where argon2-cffi is missing."""
    try:
        import argon2.low_level  # noqa: F401 - only whether it imports

        return ARGON2ID_AESGCM
    except ImportError:
        return PBKDF2_AESGCM


def is_encrypted(data):
    """madmin.IsEncrypted: whether data starts with a salt and one of the three algorithm ids."""
    return len(data) > SALT_LEN and data[SALT_LEN] in (ARGON2ID_AESGCM, ARGON2ID_CHACHA20POLY1305, PBKDF2_AESGCM)


def encrypt_data(password, data, algorithm=None, salt=None, nonce=None):
    """madmin.EncryptData. salt and nonce only for repeatable tests (they are random otherwise)."""
    algorithm = default_algorithm() if algorithm is None else algorithm
    salt = os.urandom(SALT_LEN) if salt is None else salt
    nonce = os.urandom(NONCE_LEN) if nonce is None else nonce
    aead = _aead(algorithm, _derive_key(password, salt, algorithm))
    more, final = _associated_data(aead, nonce)
    fragments, sequence, offset = [], 1, 0
    while len(data) - offset > BUF_SIZE:
        fragments.append(aead.encrypt(_fragment_nonce(nonce, sequence), data[offset : offset + BUF_SIZE], more))
        sequence, offset = sequence + 1, offset + BUF_SIZE
    fragments.append(aead.encrypt(_fragment_nonce(nonce, sequence), data[offset:], final))
    return salt + bytes([algorithm]) + nonce + b"".join(fragments)


def decrypt_data(password, data):
    """madmin.DecryptData (any of the three algorithms). Raises ValueError when the data is not authentic."""
    if len(data) < HEADER_LEN + TAG_LEN:
        raise ValueError("not madmin-encrypted data (too short)")
    salt, algorithm, nonce = data[:SALT_LEN], data[SALT_LEN], data[SALT_LEN + 1 : HEADER_LEN]
    aead = _aead(algorithm, _derive_key(password, salt, algorithm))
    more, final = _associated_data(aead, nonce)
    stream, size = data[HEADER_LEN:], BUF_SIZE + TAG_LEN
    chunks = [stream[i : i + size] for i in range(0, len(stream), size)]
    if len(chunks[-1]) < TAG_LEN:
        raise ValueError("not authentic: truncated")
    plain = []
    for sequence, chunk in enumerate(chunks, start=1):
        try:
            plain.append(
                aead.decrypt(_fragment_nonce(nonce, sequence), chunk, final if sequence == len(chunks) else more)
            )
        except Exception as exc:  # cryptography's InvalidTag: wrong password or altered data
            raise ValueError("not authentic: wrong password or altered data") from exc
    return b"".join(plain)


class AdminClient:
    """Signed calls to https://minio:9000/minio/admin/v3/... as the root user (or an admin user)."""

    def __init__(self, endpoint_url, access_key, secret_key, ca_bundle=None, validate_certs=True, region="us-east-1"):
        self.endpoint = endpoint_url.rstrip("/")
        self.access_key, self.secret_key, self.region = access_key, secret_key, region
        self.ca_bundle, self.validate_certs = ca_bundle, validate_certs

    def call(self, method, action, query=None, body=b"", content_type=None, encrypted=False, encrypted_answer=False):
        """One admin call; returns the answer's body or raises MinioAdminError. encrypted: the body is sent
        encrypted; encrypted_answer: MinIO answers encrypted (always, for that call), and the answer is decrypted."""
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        if encrypted:
            body = encrypt_data(self.secret_key, body)
        url = "%s/minio/admin/v3/%s" % (self.endpoint, action)
        if query:
            url += "?" + urllib.parse.urlencode(sorted(query.items()), quote_via=urllib.parse.quote)
        headers = {"X-Amz-Content-Sha256": hashlib.sha256(body).hexdigest()}
        if content_type:
            headers["Content-Type"] = content_type
        request = AWSRequest(method=method, url=url, data=body, headers=headers)
        SigV4Auth(Credentials(self.access_key, self.secret_key), "s3", self.region).add_auth(request)
        if not url.startswith(("https://", "http://")):
            raise ValueError("endpoint_url must be http(s)://host:port, not %r" % self.endpoint)
        try:
            answer = open_url(
                url,
                data=body or None,
                headers=dict(request.headers.items()),
                method=method,
                validate_certs=self.validate_certs,
                ca_path=self.ca_bundle,
                timeout=60,
                use_proxy=False,
            )
            data = answer.read()
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                detail = json.loads(raw.decode("utf-8"))
            except ValueError:
                detail = {"Code": "", "Message": raw.decode("utf-8", "replace")[:300]}
            raise MinioAdminError(error.code, detail.get("Code", ""), detail.get("Message", "")) from None
        if encrypted_answer:
            if not is_encrypted(data):
                raise ValueError("MinIO's answer to %s is not madmin-encrypted (%d bytes)" % (action, len(data)))
            return decrypt_data(self.secret_key, data)
        return data

    def _info(self, action, query, missing):
        """The JSON answer of a GET, or None when MinIO answers with the error code `missing`."""
        try:
            return json.loads(self.call("GET", action, query))
        except MinioAdminError as error:
            if error.code == missing:
                return None
            raise

    def policy(self, name):
        """A canned policy's document, or None when MinIO has none of that name."""
        return self._info("info-canned-policy", {"name": name}, "XMinioAdminNoSuchPolicy")

    def set_policy(self, name, document):
        self.call("PUT", "add-canned-policy", {"name": name}, json.dumps(document).encode("utf-8"))

    def user(self, access_key):
        """{status, policyName, ...} of a user, or None when MinIO has none with that access key."""
        return self._info("user-info", {"accessKey": access_key}, "XMinioAdminNoSuchUser")

    def set_user(self, access_key, secret_key):
        body = json.dumps({"secretKey": secret_key, "status": "enabled"}).encode("utf-8")
        self.call("PUT", "add-user", {"accessKey": access_key}, body, encrypted=True)

    def attach_policy(self, access_key, name):
        """Attach a canned policy to a user; returns MinIO's decrypted answer, a madmin.PolicyAssociationResp
        ({"policiesAttached": [...], "updatedAt": ...})."""
        body = json.dumps({"policies": [name], "user": access_key}).encode("utf-8")
        answer = self.call(
            "POST",
            "idp/builtin/policy/attach",
            body=body,
            content_type="application/octet-stream",
            encrypted=True,
            encrypted_answer=True,
        )
        return json.loads(answer.decode("utf-8"))
