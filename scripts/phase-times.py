"""Pass molecule's output through and append how long each action took.

Usage: molecule test -s NAME 2>&1 | python3 scripts/phase-times.py
"""

import re
import sys
import time

pattern = re.compile(r"\[(?P<scenario>[\w-]+) > (?P<action>[\w-]+)\] (?P<what>Executing|Executed)")
started = {}
rows = []
for line in sys.stdin:
    sys.stdout.write(line)
    sys.stdout.flush()
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
