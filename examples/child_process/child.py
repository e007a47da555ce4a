# A child for spawn_output: it prints as it works, unbuffered.
import os
import sys

print(f"hello from python, pid {os.getpid()}", flush=True)
for i in range(1, 4):
    print(f"step {i} of 3", flush=True)
print("done", file=sys.stderr, flush=True)
