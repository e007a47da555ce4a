#!/usr/bin/env python3
"""digest.py BUILD_DIR -- name every test that did not pass in BUILD_DIR's
last `meson test` run, with the last lines of its output.

CI shows only the end of a run's output; dev.sh prints this digest when
the suite fails and .ci/run prints it again after the last leg, so the
failing test and its last words are always in view."""
import json
import sys

TAIL = 40

def main():
    path = sys.argv[1] + "/meson-logs/testlog.json"
    try:
        lines = open(path, encoding="utf-8", errors="replace").readlines()
    except OSError as e:
        print(f"digest: no test log: {e}")
        return 0
    bad = 0
    for line in lines:
        try:
            t = json.loads(line)
        except ValueError:
            continue
        if t.get("result") in ("OK", "SKIP", "EXPECTEDFAIL"):
            continue
        bad += 1
        print(f"--- {t.get('name')}: {t.get('result')} "
              f"after {t.get('duration', 0):.1f}s "
              f"(exit {t.get('returncode')})")
        out = (t.get("stdout") or "") + (t.get("stderr") or "")
        for l in out.splitlines()[-TAIL:]:
            print("    " + l)
    if bad == 0:
        print("digest: every test in the log passed")
    return 0

if __name__ == "__main__":
    sys.exit(main())
