#!/opt/s3-standin/bin/python
# STAND-IN FOR THE MINIO SERVER BINARY, FOR TESTS ONLY. NOT MINIO.
#
# The real binary cannot be downloaded on the machines the molecule scenarios run on (dl.min.io is
# unreachable), so the minio role installs this file through its normal local-file path
# (mlflow_minio_binary_src) and runs it with the unit it writes for MinIO. It accepts MinIO's command
# line and environment and checks what MinIO would refuse at start, then serves the S3 API with moto's
# server (in-memory, installed into /opt/s3-standin from the wheelhouse) and answers
# /minio/health/live and /minio/health/ready.
#
# Objects persist only across a clean stop: on SIGTERM (systemctl stop/restart, a host shutdown) a single-node
# stand-in writes its buckets and objects into the first data directory, and loads them at start. A kill -9
# loses what was written since the last start (MinIO itself writes every object to disk as it arrives).
#
# What it does NOT do: erasure coding, talking to the other nodes of a distributed layout, writing objects
# to disk as they arrive, checking S3 signatures against the root credentials, the console.
#
#   minio server [--address [HOST]:9000] [--console-address [HOST]:9001] [--certs-dir DIR] VOLUMES...
#   env: MINIO_ROOT_USER, MINIO_ROOT_PASSWORD (required), MINIO_VOLUMES, MINIO_OPTS (expanded by the unit)
import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import sys
import urllib.parse

VERSION = "minio version STANDIN (tests/standins/minio, moto server; not MinIO)"
MARKER = ".standin-minio.json"
SNAPSHOT = ".standin-objects"  # <data dir>/.standin-objects/<bucket>/<quoted key>, written on SIGTERM


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


def _s3_backend():
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    return s3_backends[DEFAULT_ACCOUNT_ID]["aws"]


def save_objects(directory):
    """Write every bucket and the latest version of every object under directory/SNAPSHOT (atomically)."""
    target = os.path.join(directory, SNAPSHOT)
    work = target + ".new"
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    backend, count = _s3_backend(), 0
    for bucket in list(backend.buckets.values()):
        os.makedirs(os.path.join(work, urllib.parse.quote(bucket.name, safe="")))
        for name in list(bucket.keys):
            key = bucket.keys[name]
            if not hasattr(key, "value"):  # a delete marker
                continue
            with open(
                os.path.join(work, urllib.parse.quote(bucket.name, safe=""), urllib.parse.quote(name, safe="")), "wb"
            ) as handle:
                handle.write(key.value)
            count += 1
    shutil.rmtree(target, ignore_errors=True)
    os.rename(work, target)
    return count


def load_objects(directory, region):
    """Re-create the buckets and objects a previous stand-in saved on its way down."""
    source = os.path.join(directory, SNAPSHOT)
    if not os.path.isdir(source):
        return 0
    backend, count = _s3_backend(), 0
    for quoted_bucket in sorted(os.listdir(source)):
        bucket = urllib.parse.unquote(quoted_bucket)
        backend.create_bucket(bucket, region)
        for quoted_key in sorted(os.listdir(os.path.join(source, quoted_bucket))):
            with open(os.path.join(source, quoted_bucket, quoted_key), "rb") as handle:
                backend.put_object(bucket, urllib.parse.unquote(quoted_key), handle.read())
            count += 1
    return count


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

    ssl_context = None
    cert, key = os.path.join(args.certs_dir, "public.crt"), os.path.join(args.certs_dir, "private.key")
    if os.path.exists(cert) and os.path.exists(key):
        ssl_context = (cert, key)

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import run_simple

    s3 = DomainDispatcherApplication(create_backend_app)
    loaded = 0
    if mode == "single":
        snapshot_dir = local_dirs[0]
        loaded = load_objects(snapshot_dir, os.environ.get("MINIO_REGION", "us-east-1"))

        def stop(signum, frame):
            saved = save_objects(snapshot_dir)
            print("STAND-IN MinIO: saved %d object(s) to %s, exiting" % (saved, snapshot_dir), flush=True)
            os._exit(0)

        signal.signal(signal.SIGTERM, stop)

    def app(environ, start_response):
        if environ.get("PATH_INFO") in ("/minio/health/live", "/minio/health/ready"):
            start_response("200 OK", [("Content-Length", "0"), ("Server", "minio-standin")])
            return [b""]
        return s3(environ, start_response)

    print(
        "STAND-IN MinIO (moto S3, in-memory): %s mode, %d endpoint(s), API %s:%d%s, %d object(s) loaded"
        % (mode, len(endpoints), host, port, " (TLS)" if ssl_context else "", loaded),
        flush=True,
    )
    run_simple(host, port, app, threaded=True, ssl_context=ssl_context)


if __name__ == "__main__":
    main()
