"""The molecule tests' MLflow REST client: plain HTTP calls to a tracking server, standard library only.

Runs on the test hosts with any Python 3 (the MLflow environment's, the client venv's or the system's), as
root with an empty environment: HOME=/root holds MLflow's credentials file (~/.mlflow/credentials, written
by resources/playbooks/test_clients.yml), so no password is ever on a command line. Every command prints
one JSON line for the test to judge (see mlflow_checks.mlflow_api).

  mlflow_api.py get URL [--host-header NAME] [--cafile FILE] [--no-follow] [--authenticated] [--timeout S]
      [status, Location header] of a GET; [null, error] when no HTTP answer came
  mlflow_api.py server-info BASE_URL [--cafile FILE]
      the server's /api/3.0/mlflow/server-info answer
  mlflow_api.py permissions BASE_URL
      as the admin, create a user; as that user, read and write the admin's experiment and its own
  mlflow_api.py password-rotation BASE_URL TTL_SECONDS
      as the admin, create a user and change its password; the statuses of the old and new password
      at once and after the credential cache's TTL
"""

import argparse
import base64
import configparser
import json
import os
import secrets
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import namedtuple

SEARCH = "/api/2.0/mlflow/experiments/search?max_results=1"

Response = namedtuple("Response", "status headers body")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def admin_credentials():
    """(username, password) from MLflow's credentials file in HOME."""
    config = configparser.ConfigParser()
    config.read(os.path.expanduser("~/.mlflow/credentials"))
    return config["mlflow"]["mlflow_tracking_username"], config["mlflow"]["mlflow_tracking_password"]


def call(
    url,
    method="GET",
    body=None,
    params=None,
    auth=None,
    host_header=None,
    cafile=None,
    follow_redirects=True,
    timeout=10,
):
    """One request, on a new connection; a Response for every HTTP answer (error statuses included).
    body: sent as JSON; params: the query string; auth: (username, password), sent as basic auth.
    Raises OSError when no HTTP answer came (refused, timed out, TLS handshake failed)."""
    if params:
        url += ("&" if "?" in url else "?") + urllib.parse.urlencode(params)
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - the tests' own URLs
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if host_header:
        request.add_header("Host", host_header)
    if auth:
        request.add_header("Authorization", "Basic " + base64.b64encode(("%s:%s" % auth).encode()).decode())
    handlers = [urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=cafile or None))]
    if not follow_redirects:
        handlers.append(_NoRedirect())
    try:
        with urllib.request.build_opener(*handlers).open(request, timeout=timeout) as response:
            return Response(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        return Response(error.code, error.headers, error.read())


def get(args):
    auth = admin_credentials() if args.authenticated else None
    try:
        response = call(
            args.url,
            auth=auth,
            host_header=args.host_header,
            cafile=args.cafile,
            follow_redirects=not args.no_follow,
            timeout=args.timeout,
        )
    except OSError as error:
        return [None, repr(error)]
    return [response.status, response.headers.get("Location")]


def server_info(args):
    response = call(args.base_url + "/api/3.0/mlflow/server-info", cafile=args.cafile)
    if response.status != 200:
        sys.exit("server-info answered %s: %s" % (response.status, response.body[:500]))
    return json.loads(response.body)


def permissions(args):
    """With mlflow_auth_default_permission READ, a new user reads others' experiments and writes only its own."""
    base, admin = args.base_url, admin_credentials()
    name, password = "reader-" + secrets.token_hex(4), secrets.token_urlsafe(18)
    user = (name, password)
    api = base + "/api/2.0/mlflow"
    out = {"user": name}
    new_user = {"username": name, "password": password}
    out["create_user"] = call(api + "/users/create", "POST", new_user, auth=admin).status
    admin_exp = json.loads(call(api + "/experiments/create", "POST", {"name": "admin-only-" + name}, auth=admin).body)[
        "experiment_id"
    ]
    out["wrong_password"] = call(base + SEARCH, auth=(name, "x" * 16)).status
    out["read_admin_experiment"] = call(api + "/experiments/get", params={"experiment_id": admin_exp}, auth=user).status
    out["write_admin_experiment"] = call(api + "/runs/create", "POST", {"experiment_id": admin_exp}, auth=user).status
    own = call(api + "/experiments/create", "POST", {"name": "own-" + name}, auth=user)
    out["create_own_experiment"] = own.status
    own_exp = json.loads(own.body).get("experiment_id")
    out["write_own_experiment"] = call(api + "/runs/create", "POST", {"experiment_id": own_exp}, auth=user).status
    return out


def password_rotation(args):
    """The old password may work on some workers (each caches successful checks) for up to the TTL, never longer."""
    base, ttl, admin = args.base_url, args.ttl, admin_credentials()
    name, old, new = "rotated-" + secrets.token_hex(4), secrets.token_urlsafe(18), secrets.token_urlsafe(18)
    api = base + "/api/2.0/mlflow"

    def statuses(password, n=24):  # a new connection each: the requests spread over the workers
        return sorted({call(base + SEARCH, auth=(name, password)).status for _ in range(n)})

    out = {"create": call(api + "/users/create", "POST", {"username": name, "password": old}, auth=admin).status}
    out["old_before"] = statuses(old)  # checked once, then cached by each worker that saw it
    out["update"] = call(
        api + "/users/update-password", "PATCH", {"username": name, "password": new}, auth=admin
    ).status
    changed = time.monotonic()
    out["new_at_once"] = statuses(new)
    time.sleep(max(0.0, ttl + 2 - (time.monotonic() - changed)))
    out["old_after_ttl"] = statuses(old)
    out["new_after_ttl"] = statuses(new)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("get")
    command.add_argument("url")
    command.add_argument("--host-header")
    command.add_argument("--cafile")
    command.add_argument("--no-follow", action="store_true")
    command.add_argument("--authenticated", action="store_true")
    command.add_argument("--timeout", type=float, default=10)
    command.set_defaults(run=get)
    command = commands.add_parser("server-info")
    command.add_argument("base_url")
    command.add_argument("--cafile")
    command.set_defaults(run=server_info)
    command = commands.add_parser("permissions")
    command.add_argument("base_url")
    command.set_defaults(run=permissions)
    command = commands.add_parser("password-rotation")
    command.add_argument("base_url")
    command.add_argument("ttl", type=int)
    command.set_defaults(run=password_rotation)
    args = parser.parse_args(argv)
    print(json.dumps(args.run(args)), flush=True)


if __name__ == "__main__":
    main()
