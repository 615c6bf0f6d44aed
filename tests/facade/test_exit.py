"""A process that makes a Playground and leaves at once: the warm-up thread (tokenizer, price
table, the log's schema) is let finish before the interpreter goes, not killed inside DuckDB or
tiktoken, which aborted the process ("terminate called ...", exit status 134)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_a_process_that_leaves_at_once_lets_the_warm_up_finish(tmp_path: Path) -> None:
    log = tmp_path / "log.duckdb"
    code = (
        "import atexit, gc, threading\n"
        "# registered first, so it runs last: after nbplayground's own exit hook\n"
        "atexit.register(lambda: print('warming at exit:', sum(t.name == 'nbplayground-warm'"
        " and t.is_alive() for t in threading.enumerate())))\n"
        "from nbplayground import Playground\n"
        f"pg = Playground(db={str(log)!r}, user='u', provider='simulated')\n"
        "del pg\n"
        "gc.collect()  # collected, never closed: only the exit is left to wait for it\n")
    done = subprocess.run([sys.executable, "-c", code], timeout=120, capture_output=True,
                          text=True, env={**os.environ, "NBPLAYGROUND_WARM": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert "warming at exit: 0" in done.stdout, done.stdout
