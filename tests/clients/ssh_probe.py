"""What an SSH server offers and allows an account, probed with paramiko (in the MLflow environment).

Usage:
  python ssh_probe.py auth_none HOST USER          the authentication methods the server offers USER
  python ssh_probe.py password HOST USER           whether a (wrong) password is even tried for USER
  python ssh_probe.py exec HOST USER KEY_FILE      the output of a shell command run with the key

Prints one JSON line with what the server answered.
"""

import json
import sys

import paramiko


def probe(mode, host, user, key_file=None):
    transport = paramiko.Transport((host, 22))
    transport.start_client(timeout=20)
    out = {}
    if mode == "auth_none":
        try:
            transport.auth_none(user)
        except paramiko.BadAuthenticationType as e:
            out["allowed"] = e.allowed_types
    elif mode == "password":
        try:
            transport.auth_password(user, "not-the-password")
            out["result"] = "accepted"
        except paramiko.BadAuthenticationType as e:
            out["result"] = "refused"
            out["allowed"] = e.allowed_types
        except paramiko.AuthenticationException:
            out["result"] = "failed"
    elif mode == "exec":
        transport.auth_publickey(user, paramiko.RSAKey.from_private_key_file(key_file))
        channel = transport.open_session()
        channel.settimeout(10)
        channel.exec_command("echo SHELL-$((6*7)); id")
        data = b""
        try:
            while True:
                chunk = channel.recv(4096)
                if not chunk:
                    break
                data += chunk
        except Exception:  # noqa: S110 - a timeout or a closed channel ends the output; what came is the answer
            pass
        out["output"] = data.decode("latin-1")
    transport.close()
    return out


if __name__ == "__main__":
    print(json.dumps(probe(*sys.argv[1:])))
