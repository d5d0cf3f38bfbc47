# Copyright: (c) 2026, mlops.mlflow contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""MinIO's admin-API body encryption, checked against madmin-go's own fixed ciphertexts (encrypt_test.go,
decryptDataTests, madmin-go v3.0.109 and HEAD: Go's output for those passwords; all-zero plaintexts)."""

from __future__ import annotations

import json
import sys

import pytest
from ansible_collections.mlops.mlflow.plugins.module_utils import madmin

GO_VECTORS = [
    (
        "",
        "828aa81599df0651c0461adb82283e8b89956baee9f6e719947ef9cddc849028001dc9d3ac0938f66b07bacc9751437e1985f8a9"
        "763c240e81",
        0,
    ),
    (
        "",
        "1793c71df6647860437134073c15688cbb15961dc0758c7ee1225e66e79c724c00d790dba9c671eae89da2c736d858286ac9bd027"
        "abacc64430375cd41b63b67c070c7fba475a8dd66ae65ba905176c48cbe6f734fc74df87343d8ccff54bada4aeb0a04bd021633ebe"
        "6c4768e23f5dea142561d4fe3f90ed59d13dc5fb3a585dadec1742325291b9c81692bdd3420b2428127f8195e0ecd9a1c9237712ed"
        "67af7339fbbf7ff3ee1c516e1f81e69d933e057b30997e7274a2c9698e07c39f0e8d6818858f34c8191871b5a52bea9061806bd029"
        "024bfc1d9c1f230904968d6c9e10fddcbc006ba97356ff243570fd96df07dd6894e215a6b24c4ed730369519289ebd877aff6ccbd"
        "2265985e4ab1a2b7930bab9cfb767b97348a639ddf8db81bf5151da7e8f3d9638a1b86eb1dd78cc6a526f10a414c78638f",
        256,
    ),
    (
        'xPl.8/rhR"Q_1xLt',
        "b5c016e93b84b473fc8a37af94936563630c36d6df1841d23a86ee51ca161f9e00ac19116b32f643ff6a56a212b265d8c56195bb0"
        "d12ce199e13dfdc5272f80c1564da2c6fc2fa18da91d8062de02af5cdafea491c6f3cae1f",
        32,
    ),
    (
        "7h5oU4$te{;K}fgqlI^]",
        "c58edf7cfd557b6b655de6f48b1a3049d8d049dadb3a7bfa9ac9ccbb5baf37ec00f83086a26f43b7d6bc9075ad038bf5741f118d5"
        "02ebe94165e4072ba7f98535d6b1e3b6ae67a98115d146d9b4d90e4df4ae82df9cfa17ed7cd42465181559f7ddf09c98beec521bb"
        "4478e0cb73c4e0827af8688ff4e7a07327a10d5a180035e6ddb16d974a85257981cd9e0360a20f7b4d653190267dfb241148f018a"
        "e180568042e864b9e1b5bc05425a3abc2b0324f50c72d56798f924405dfc0f8523f4bb564ed65af8e1b1c82a7a0640552ecf81985d"
        "95d0993d99172592ddc1393dfa63e8f0b3d744b2cc4b73384ca4693f0c1aec0e9b00e85f2937e891105d67da8f59c14ca96608e04"
        "25c42f9c1e7c2a8b3413e1381784f9cfe01de7c47cea1f8d7a7d88f5d4aca783cf55332b47f957a6b9a65269d7eb606b877b",
        256,
    ),
]


@pytest.mark.parametrize(("password", "ciphertext", "size"), GO_VECTORS, ids=["empty", "256", "pw32", "pw256"])
def test_go_ciphertexts_decrypt_and_encrypt_byte_for_byte(password, ciphertext, size):
    data = bytes.fromhex(ciphertext)
    assert madmin.decrypt_data(password, data) == bytes(size)
    # the same salt and nonce give Go's bytes again: the encryption is Go's, not only a round trip of our own
    assert madmin.encrypt_data(password, bytes(size), data[32], salt=data[:32], nonce=data[33:41]) == data


def test_a_wrong_password_or_a_flipped_bit_is_refused():
    data = bytes.fromhex(GO_VECTORS[2][1])
    with pytest.raises(ValueError, match="not authentic"):
        madmin.decrypt_data("not-the-password", data)
    with pytest.raises(ValueError, match="not authentic"):
        madmin.decrypt_data(GO_VECTORS[2][0], data[:-1] + bytes([data[-1] ^ 1]))


@pytest.mark.parametrize("algorithm", [madmin.ARGON2ID_AESGCM, madmin.ARGON2ID_CHACHA20POLY1305, madmin.PBKDF2_AESGCM])
@pytest.mark.parametrize("size", [0, 1, 16384, 16385, 40000])
def test_several_fragments_round_trip_with_every_algorithm(algorithm, size):
    plain = bytes(range(256)) * (size // 256) + bytes(size % 256)
    data = madmin.encrypt_data('root "pw" \\ $x', plain, algorithm)
    # salt, id, nonce, then one 16-byte tag per 16 KiB fragment (at least one)
    assert len(data) == 41 + size + 16 * max(1, -(-size // 16384)) and data[32] == algorithm
    assert madmin.decrypt_data('root "pw" \\ $x', data) == plain


# --- MinIO's encrypted answers (the answer to idp/builtin/policy/attach) --------------------------------------------


class Answer:
    def __init__(self, data):
        self.data = data

    def read(self):
        return self.data


def client_answering(monkeypatch, data):
    """An AdminClient whose one request is answered with `data`; returns (client, the requests made)."""
    made = []

    def open_url(url, data=None, headers=None, method=None, **kwargs):
        made.append((method, url, data, headers))
        return Answer(answer)

    answer = data
    monkeypatch.setattr(madmin, "open_url", open_url)
    return madmin.AdminClient("http://minio.test:9000", "root-user", "root-secret-Pw1"), made


def hide_argon2(monkeypatch):
    """argon2-cffi not installed (a None in sys.modules makes its import raise ImportError)."""
    monkeypatch.setitem(sys.modules, "argon2", None)
    monkeypatch.setitem(sys.modules, "argon2.low_level", None)


@pytest.mark.parametrize("algorithm", [madmin.ARGON2ID_AESGCM, madmin.ARGON2ID_CHACHA20POLY1305, madmin.PBKDF2_AESGCM])
def test_the_encrypted_answer_to_a_policy_attach_is_decrypted(monkeypatch, algorithm):
    # what MinIO sends back: a madmin.PolicyAssociationResp, EncryptData'd with the caller's (root) secret key; the
    # algorithm is the server's choice (argon2id + AES-GCM with AES instructions, ChaCha20 without, PBKDF2 in FIPS)
    plain = b'{"policiesAttached":["mlflow-artifacts"],"updatedAt":"2026-12-07T07:00:00Z"}'
    client, made = client_answering(monkeypatch, madmin.encrypt_data("root-secret-Pw1", plain, algorithm))
    answer = client.attach_policy("mlflow-user", "mlflow-artifacts")
    assert answer == {"policiesAttached": ["mlflow-artifacts"], "updatedAt": "2026-12-07T07:00:00Z"}
    ((method, url, body, headers),) = made
    assert (method, url) == ("POST", "http://minio.test:9000/minio/admin/v3/idp/builtin/policy/attach")
    assert headers["Content-Type"] == "application/octet-stream"
    sent = json.loads(madmin.decrypt_data("root-secret-Pw1", body))
    assert sent == {"policies": ["mlflow-artifacts"], "user": "mlflow-user"}


@pytest.mark.parametrize("data", [b"", b'{"policiesAttached":["mlflow-artifacts"]}'], ids=["empty", "plain-json"])
def test_an_attach_answer_that_is_not_encrypted_is_refused(monkeypatch, data):
    # MinIO always encrypts it: an empty or plain answer is not MinIO's (the old stand-in sent an empty one)
    client = client_answering(monkeypatch, data)[0]
    with pytest.raises(ValueError, match="not madmin-encrypted"):
        client.attach_policy("mlflow-user", "mlflow-artifacts")


def test_an_attach_answer_encrypted_with_another_key_is_refused(monkeypatch):
    client = client_answering(monkeypatch, madmin.encrypt_data("another-secret", b"{}", madmin.PBKDF2_AESGCM))[0]
    with pytest.raises(ValueError, match="not authentic"):
        client.attach_policy("mlflow-user", "mlflow-artifacts")


def test_without_argon2_an_argon2id_answer_names_the_missing_package(monkeypatch):
    # the crash of the issue: madmin-go's (argon2id) ciphertext on a host without argon2-cffi was an ImportError
    hide_argon2(monkeypatch)
    with pytest.raises(ValueError, match="python3-argon2"):
        madmin.decrypt_data(GO_VECTORS[2][0], bytes.fromhex(GO_VECTORS[2][1]))


def test_is_encrypted_as_madmin_go_tells_it():
    assert all(madmin.is_encrypted(bytes.fromhex(vector[1])) for vector in GO_VECTORS)
    assert not madmin.is_encrypted(b"") and not madmin.is_encrypted(bytes(32))
    assert not madmin.is_encrypted(bytes(32) + b"\x03" + bytes(24))
