#!/usr/bin/env python3
"""The table scripts/bench-server.sh prints: figures from its results file (one JSON object a line: server, kind
and the measured fields), with ratios to the guide's server (a) and to direct S3.

Usage: scripts/lib/bench_report.py RESULTS SECONDS_PER_THROUGHPUT_RUN ARTIFACT_MB
"""

import json
import sys

with open(sys.argv[1]) as results:
    rows = [json.loads(line) for line in results]
secs, mb = sys.argv[2], int(sys.argv[3])
got = {(r["server"], r["kind"]): r for r in rows}
names = {
    "guide": "(a) guide's command line, 8 workers, no auth",
    "direct": "(b) collection, direct, auth on",
    "proxy": "(c) collection via TLS proxy, auth on",
}
servers = [s for s in ("guide", "direct", "proxy") if (s, "latency") in got]
servers += [s for s in dict.fromkeys(r["server"] for r in rows) if s.startswith("variant")]
names.update({s: s for s in servers if s.startswith("variant")})


def fig(server, kind, field):
    return got.get((server, kind), {}).get(field)


def cell(server, value, base, unit="", fmt="%.1f"):
    if value is None:
        return "-"
    text = (fmt % value) + unit
    if base and server != "guide":
        text += " (%.2fx)" % (value / base)
    return text


guide_p50 = fig("guide", "latency", "p50_ms")
guide_mem = fig("guide", "memory", "bytes")
guide_mem = int(guide_mem) / 2**20 if guide_mem not in (None, "[not set]") else None
header = ["server", "log_metric p50 / p90", "req/s 8 clients", "req/s 16 clients", "memory after load"]
lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
for server in servers:
    p50, p90 = fig(server, "latency", "p50_ms"), fig(server, "latency", "p90_ms")
    mem = fig(server, "memory", "bytes")
    mem = int(mem) / 2**20 if mem not in (None, "[not set]") else None
    lines.append(
        "| "
        + " | ".join(
            [
                names[server],
                "-"
                if p50 is None
                else "%.1f / %.1f ms" % (p50, p90)
                + ("" if server == "guide" or not guide_p50 else " (%.2fx)" % (p50 / guide_p50)),
                cell(server, fig(server, "load8", "rps"), fig("guide", "load8", "rps")),
                cell(server, fig(server, "load16", "rps"), fig("guide", "load16", "rps")),
                cell(server, mem, guide_mem, " MB", "%.0f"),
            ]
        )
        + " |"
    )
errors = sum(r.get("errors", 0) for r in rows)
s3_up, s3_down = fig("s3", "transfer", "up_s"), fig("s3", "transfer", "down_s")
if s3_up and fig("proxy", "transfer", "up_s"):
    lines += ["", "| %d MB artifact | upload | download |" % mb, "|---|---|---|"]
for server, label in (
    ("s3", "boto3 straight to the store, in the container"),
    ("proxy", "MLflow client via the TLS proxy, from the host"),
):
    if not s3_up or not fig(server, "transfer", "up_s"):
        continue
    up, down = fig(server, "transfer", "up_s"), fig(server, "transfer", "down_s")

    def ratio(seconds, base, server=server):
        return "" if server == "s3" else " (%.2fx of direct S3)" % (base / seconds)

    lines.append(
        "| %s | %.2f s, %.0f MiB/s%s | %.2f s, %.0f MiB/s%s |"
        % (label, up, mb / up, ratio(up, s3_up), down, mb / down, ratio(down, s3_down))
    )
print()
print("Ratios in parentheses: to (a) for the server figures, to direct S3 for the transfers (throughput).")
print("Goals: latency <= 0.30x, req/s >= 1.30x, memory <= 0.50x, transfers >= 0.90x. Failed requests: %d." % errors)
print("Throughput runs: %s s each." % secs)
print()
print("\n".join(lines))
