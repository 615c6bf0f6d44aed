"""How long `import nbplayground` takes in a fresh interpreter (target ≤ 0.5 s)."""

from __future__ import annotations

import statistics
import subprocess
import sys


def once() -> float:
    code = ("import time; t = time.perf_counter(); import nbplayground; "
            "from nbplayground import Playground; print(time.perf_counter() - t)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def main() -> None:
    times = [once() for _ in range(7)]
    median = statistics.median(times)
    print(f"import nbplayground (+ Playground): median {median * 1000:.0f} ms over {len(times)} "
          f"runs, min {min(times) * 1000:.0f} ms; target 500 ms → ratio {median / 0.5:.2f}")


if __name__ == "__main__":
    main()
