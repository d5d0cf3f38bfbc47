"""What an SSH server offers and allows an account, probed with paramiko (in the MLflow environment).

Usage:
  python ssh_probe.py auth_none HOST USER          the authentication methods the server offers USER
  python ssh_probe.py password HOST USER           whether a (wrong) password is even tried for USER
  python ssh_probe.py exec HOST USER KEY_FILE      what a shell command run with the key gets: its output, and
                                                   the SFTP server's answer to an SFTP client's first packet

Prints one JSON line with what the server answered.
"""

import json
import struct
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
        # A command, then an SFTP client's first packet (SSH_FXP_INIT, version 3) on the same channel: a shell runs
        # the command and prints; an SFTP server would answer SSH_FXP_VERSION (type 2); sshd with ForceCommand
        # internal-sftp refuses the command with its own message and closes the channel.
        transport.auth_publickey(user, paramiko.RSAKey.from_private_key_file(key_file))
        channel = transport.open_session()
        channel.settimeout(10)
        channel.exec_command("echo SHELL-$((6*7)); id")
        channel.sendall(struct.pack(">IBI", 5, 1, 3))
        data = b""
        try:
            while len(data) < 4 or len(data) < 4 + struct.unpack(">I", data[:4])[0]:
                chunk = channel.recv(4096)
                if not chunk:
                    break
                data += chunk
        except TimeoutError as error:
            out["error"] = repr(error)
        out["output"] = data.decode("latin-1")
        if len(data) >= 9 and len(data) >= 4 + struct.unpack(">I", data[:4])[0]:
            out["sftp_reply"] = {"type": data[4], "version": struct.unpack(">I", data[5:9])[0]}
    transport.close()
    return out


if __name__ == "__main__":
    print(json.dumps(probe(*sys.argv[1:])))
