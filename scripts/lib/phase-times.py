"""Pass molecule's output through and append how long each action took, and the failed tasks again.

A failed task's message can sit far above the end of a long log, where CI shows only its tail: the task
headers and the first lines of every fatal/failed result are repeated at the end.

Usage: molecule test -s NAME 2>&1 | python3 scripts/lib/phase-times.py
"""

import re
import sys
import time

pattern = re.compile(r"\[(?P<scenario>[\w-]+) > (?P<action>[\w-]+)\] (?P<what>Executing|Executed)")
started = {}
rows = []
failures = []  # [task header, result lines...] of each failed task
task = ""
capturing = None
for line in sys.stdin:
    sys.stdout.write(line)
    sys.stdout.flush()
    if line.startswith("TASK ["):
        task = line.rstrip(" *\n")
    if capturing is not None:
        if line.strip() and (line.startswith(" ") or line.startswith("\t")) and len(capturing) < 40:
            capturing.append(line.rstrip("\n"))
            continue
        capturing = None
    if re.match(r"(fatal|failed): \[", line) and "...ignoring" not in line:
        capturing = [task, line.rstrip("\n")]
        failures.append(capturing)
    match = pattern.search(line)
    if not match:
        continue
    key = (match["scenario"], match["action"])
    if match["what"] == "Executing":
        started[key] = time.monotonic()
    elif key in started:
        rows.append("%s > %s: %.0f s" % (key[0], key[1], time.monotonic() - started.pop(key)))
if rows:
    print("=== molecule action times")
    print("\n".join(rows))
if failures:
    print("=== failed tasks (repeated from above)")
    for lines in failures[-5:]:
        print("\n".join(lines))
