"""A 50,000-line batch file built and uploaded against the loopback server (a process of its
own): the time of each step and the peak memory they used (target: seconds, memory bounded).

    .venv/bin/python bench/batch.py [lines]
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from nbplayground import Playground
from nbplayground.adapters.openai_batches import OpenAIBatchClient
from nbplayground.configuration import Endpoint
from nbplayground.experimentation.batch_files import build_files

KEY = "sk-bench"


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(n: int = 50_000) -> None:
    root = Path(__file__).parents[1]
    with subprocess.Popen([sys.executable, "-m", "tests.support.openai_stub", "--api-key", KEY],
                          cwd=root, stdout=subprocess.PIPE, text=True) as server, \
            tempfile.TemporaryDirectory() as tmp:
        assert server.stdout is not None
        url = server.stdout.readline().split()[1]
        pg = Playground(db=Path(tmp) / "log.duckdb", user="bench",
                        provider=Endpoint(base_url=url, api_key=KEY))
        rows = [{"i": i} for i in range(n)]
        t0 = time.perf_counter()
        cells = pg._sweeps._sweep("Question {i}: name a colour.", vars=rows, max_tokens=16,
                                  via="batch").cells
        prepared = time.perf_counter() - t0
        before = rss_mb()
        api = OpenAIBatchClient(api_key=KEY, base_url=url)
        t0 = time.perf_counter()
        [built] = build_files(cells, Path(tmp) / "timed")
        build = time.perf_counter() - t0
        t0 = time.perf_counter()
        file_id = api.upload(built.path)
        upload = time.perf_counter() - t0
        tracemalloc.start()  # again, measured (tracemalloc slows what it watches)
        build_files(cells, Path(tmp) / "measured")
        build_peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.reset_peak()
        api.upload(built.path)
        upload_peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        api.close()
        size = built.size / 2**20
        print(f"{n:,} cells prepared (tokens counted) in {prepared:.2f} s")
        print(f"build: {len(built.custom_ids):,} lines, {size:.1f} MB in {build:.2f} s, "
              f"peak {build_peak:.1f} MB of Python memory")
        print(f"upload ({file_id}): {upload:.2f} s, peak {upload_peak:.1f} MB of Python memory")
        print(f"process peak RSS {rss_mb():.0f} MB ({before:.0f} MB before building: the cells "
              f"themselves); file/memory = {size / max(build_peak, upload_peak):.1f}x")
        t0 = time.perf_counter()
        sw = pg.sweep("Question {i}: name a colour.", vars=rows, max_tokens=16, via="batch",
                      progress=False)
        print(f"pg.sweep(via='batch') end to end (prepare, build, upload, create): "
              f"{time.perf_counter() - t0:.2f} s, {len(sw.batches)} batch")
        pg.close()
        server.terminate()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50_000)
