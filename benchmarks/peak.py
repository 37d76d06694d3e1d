"""Run a command; write its wall time and peak resident memory (MB) to a JSON file.

    peak.py OUT.json COMMAND [ARG...]

Linux keeps a process's memory high-water mark across fork and exec, so a command started by the
large benchmark process would report that process's size. This wrapper is small: a command it
starts reports its own peak (or its largest descendant's, e.g. dbt under `warehouse refresh`),
read from wait4 when it ends.
"""

import json
import os
import subprocess
import sys
import time

out, *command = sys.argv[1:]
started = time.perf_counter()
child = subprocess.Popen(command)
_, status, usage = os.wait4(child.pid, 0)
child.returncode = os.waitstatus_to_exitcode(status)
with open(out, "w") as handle:
    json.dump({"wall_s": round(time.perf_counter() - started, 2), "peak_mb": round(usage.ru_maxrss / 1024),
               "exit": child.returncode}, handle)
sys.exit(0)
