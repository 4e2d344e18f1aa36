"""The benchmark's quick run, so it cannot rot. It checks the run completes and reports
every target; the timings themselves belong to `python bench/run.py` (see bench/README.md).
Detection quality (target 7) does not depend on the machine, so it must be met here too."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_quick_benchmark_reports_every_target() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--quick"],
                            capture_output=True, text=True, timeout=900, cwd=ROOT, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    for row in ("1. throughput", "2. added latency", "2b. GET /v1/models", "3. cost per char",
                "4. turn 20", "5. streaming first byte", "6. RSS growth", "7. recall",
                "8. 1 KB p99 added beside", "8b. /healthz beside"):
        assert row in result.stdout, result.stdout
    [quality] = [line for line in result.stdout.splitlines() if line.startswith("7. recall")]
    assert quality.endswith("met") and "NOT MET" not in quality, quality
