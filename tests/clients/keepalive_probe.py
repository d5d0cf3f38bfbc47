"""How long the MLflow server keeps an idle HTTP/1.1 connection open (its keep-alive timeout, as served).

Usage: python keepalive_probe.py HOST PORT    prints {"idle_close_seconds": float}
"""

import json
import socket
import sys
import time


def idle_close_seconds(host, port):
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: %s\r\nConnection: keep-alive\r\n\r\n" % host.encode())
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += sock.recv(4096)
        start = time.monotonic()  # the response arrived: from here on the connection is idle
        while sock.recv(4096):
            pass
        return time.monotonic() - start


if __name__ == "__main__":
    print(json.dumps({"idle_close_seconds": round(idle_close_seconds(sys.argv[1], sys.argv[2]), 2)}))
