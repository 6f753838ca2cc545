"""Burns CPU until this process has used SECONDS of CPU, then prints its own process_time
(the whole process: interpreter start-up included) to stdout and exits at once (no interpreter
teardown after the report). Used by tests/accuracy_test.ts."""
import os
import sys
import time

secs = float(sys.argv[1])
while time.process_time() < secs:
    pass
print("%.4f" % time.process_time(), flush=True)
os._exit(0)
