"""SubprocessCodeRunner: imported python graders in a separate process, with a time limit.

One worker process serves every item of a sweep over stdin/stdout JSON lines (a process per
item would cost its start-up each time); it is started with an empty environment (no API key,
no PYTHONPATH), in an empty folder, in its own process group, and killed and restarted when a
grader overruns its time limit or the process dies.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from pathlib import Path
from typing import Any

WORKER = Path(__file__).with_name("grader_worker.py")
STARTUP = 60.0
"""Seconds a worker may take to start (a loaded machine); not part of a grader's limit."""


def _json(value: Any) -> Any:
    if hasattr(value, "item") and callable(value.item):  # numpy scalars from a DataFrame
        return value.item()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


class SubprocessCodeRunner:
    """grade(source, sample, item) -> (score, None) | (None, reason); thread-safe."""

    def __init__(self, timeout: float = 10.0, python: str | None = None) -> None:
        if not timeout > 0:
            raise ValueError(f"timeout must be > 0 seconds, not {timeout!r}")
        self.timeout = float(timeout)
        self.python = python or sys.executable
        self.started = 0
        """How many worker processes were started (a restart after a timeout counts)."""
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._loaded: set[str] = set()
        self._buffer = b""
        self._finalizer = weakref.finalize(self, SubprocessCodeRunner._stop, None, None)

    def _start(self) -> subprocess.Popen[bytes]:
        folder = tempfile.mkdtemp(prefix="nbplayground-grader-")  # the grader's cwd
        proc = subprocess.Popen(
            [self.python, "-I", str(WORKER)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env={}, cwd=folder, start_new_session=True, close_fds=True)
        self.started += 1
        self._proc, self._loaded, self._buffer = proc, set(), b""
        self._finalizer.detach()
        self._finalizer = weakref.finalize(self, SubprocessCodeRunner._stop, proc, folder)
        if self._read_line(proc, time.monotonic() + STARTUP) is None:
            raise EOFError  # it never said it was ready
        return proc

    @staticmethod
    def _stop(proc: subprocess.Popen[bytes] | None, folder: str | None) -> None:
        if proc is not None:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)  # the grader's own children go too
                with contextlib.suppress(Exception):
                    proc.wait(timeout=5)
            for pipe in (proc.stdin, proc.stdout):
                with contextlib.suppress(Exception):
                    if pipe is not None:
                        pipe.close()
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)

    def _kill(self) -> None:
        self._finalizer()  # stops the process and removes its folder, once
        self._proc = None

    def _send(self, proc: subprocess.Popen[bytes], message: dict[str, Any]) -> None:
        assert proc.stdin is not None
        proc.stdin.write(json.dumps(message, default=_json).encode() + b"\n")
        proc.stdin.flush()

    def _read_line(self, proc: subprocess.Popen[bytes], deadline: float) -> bytes | None:
        """One reply line, or None when the deadline passes first."""
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                raise EOFError
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def grade(self, source: str, sample: dict[str, Any], item: dict[str, Any]
              ) -> tuple[float | None, str | None]:
        key = hashlib.sha256(source.encode()).hexdigest()[:16]
        with self._lock:
            try:
                proc = self._proc if self._proc is not None and self._proc.poll() is None \
                    else self._start()
                if key not in self._loaded:
                    self._send(proc, {"op": "load", "key": key, "source": source})
                    self._loaded.add(key)
                self._send(proc, {"op": "grade", "key": key, "sample": sample, "item": item})
                line = self._read_line(proc, time.monotonic() + self.timeout)
            except (BrokenPipeError, EOFError, OSError):
                self._kill()
                return None, "the grader's process exited before it answered"
            except (TypeError, ValueError) as e:  # the item or sample is not JSON
                return None, f"the item cannot be sent to the grader: {e}"
            if line is None:
                self._kill()  # the next item starts a fresh worker
                return None, f"the grader did not answer within {self.timeout:g} s"
            try:
                reply = json.loads(line)
            except ValueError:
                self._kill()
                return None, "the grader's process answered with something other than JSON"
        if "score" in reply:
            return float(reply["score"]), None
        return None, str(reply.get("error", "the grader failed"))

    @property
    def pid(self) -> int | None:
        """The worker's process id while one runs."""
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    def close(self) -> None:
        """Stop the worker (a later grade starts a new one)."""
        with self._lock:
            self._kill()
