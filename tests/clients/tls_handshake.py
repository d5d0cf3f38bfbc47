"""The TLS protocol a server agrees to when the client offers only one version.

Usage: python tls_handshake.py NAME PORT CAFILE VERSION   (VERSION: TLSv1, TLSv1_1, TLSv1_2 or TLSv1_3)

Prints one JSON line: the agreed protocol ("TLSv1.2"), or "REFUSED <error>" when the handshake (or the
connection) failed.
"""

import json
import socket
import ssl
import sys


def handshake(name, port, cafile, version):
    ctx = ssl.create_default_context(cafile=cafile)
    # Let this client offer old protocols (OpenSSL 3 refuses them by default): the server must say no.
    ctx.set_ciphers("ALL:@SECLEVEL=0")
    ctx.minimum_version = ctx.maximum_version = getattr(ssl.TLSVersion, version)
    try:
        with (
            socket.create_connection((name, port), timeout=10) as raw,
            ctx.wrap_socket(raw, server_hostname=name) as tls,
        ):
            return tls.version()
    except (ssl.SSLError, OSError) as error:
        return "REFUSED %s" % error


if __name__ == "__main__":
    print(json.dumps(handshake(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4])))
