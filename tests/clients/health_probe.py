"""Ask URL/health every 0.1 s until STOPFILE exists; print "<seconds since start> <status>" lines.

    python3 health_probe.py URL CAFILE STOPFILE

The upgrade and rolling-restart tests run it in the background during a site playbook run and take the longest
stretch without a 200 from its output as the outage. The standard library only (system Python).
"""

import os
import ssl
import sys
import time
import urllib.error
import urllib.request

url, cafile, stopfile = sys.argv[1:4]
context = ssl.create_default_context(cafile=cafile)
start = time.monotonic()
while not os.path.exists(stopfile):
    try:
        with urllib.request.urlopen(url, timeout=2, context=context) as response:  # noqa: S310 - https only
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except Exception:  # noqa: BLE001 - any failure is an unanswered probe
        status = 0
    print("%.2f %d" % (time.monotonic() - start, status), flush=True)
    time.sleep(0.1)
