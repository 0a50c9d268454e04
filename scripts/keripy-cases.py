#!/usr/bin/env python3
"""keripy-cases.py VERIFY DIR: run keripy's verifier on every rule case that
`go test ./kel -run TestRuleCases` wrote to DIR (KEREMONY_KERIPY_CASES=DIR)
and compare keripy's acceptance of each message with the case's expectation.
Prints one line per case; exit 1 when keripy disagrees with any."""
import json
import os
import subprocess
import sys


def main():
    if len(sys.argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    verify, d = sys.argv[1], sys.argv[2]
    cases = sorted(f[:-5] for f in os.listdir(d) if f.endswith(".json"))
    if not cases:
        sys.stderr.write(f"keripy-cases.py: no cases in {d}\n")
        return 2
    bad = 0
    for name in cases:
        with open(os.path.join(d, name + ".json")) as f:
            exp = json.load(f)
        files = [os.path.join(d, x) for x in exp["files"]]
        out = subprocess.run([verify, "--json"] + files, capture_output=True, text=True)
        if out.returncode not in (0, 1):
            sys.stderr.write(out.stderr)
            return 2
        got = []
        for res in json.loads(out.stdout)["results"]:
            for fl in res["files"]:
                got += [m["accepted"] for m in fl["messages"]]
        verdict = "agrees" if got == exp["keripy"] else "DISAGREES"
        note = f" ({exp['note']})" if exp.get("note") else ""
        acc = "".join("+" if g else "-" for g in got)
        print(f"{name}: keripy accepts {acc}, expected {''.join('+' if g else '-' for g in exp['keripy'])}: {verdict}{note}")
        bad += got != exp["keripy"]
    print(f"{len(cases) - bad} of {len(cases)} rule cases as expected")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
