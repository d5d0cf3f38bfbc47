"""Which HOST:PORT targets this host can open a TCP connection to.

Usage: python tcp_reach.py HOST:PORT...

Prints one JSON line: {target: "connected" | "no such name" | the connection error's class name}.
"""

import json
import socket
import sys


def reach(target):
    host, port = target.rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=3).close()
    except socket.gaierror:
        return "no such name"
    except OSError as exc:
        return type(exc).__name__
    return "connected"


if __name__ == "__main__":
    print(json.dumps({target: reach(target) for target in sys.argv[1:]}))
