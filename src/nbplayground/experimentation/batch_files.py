"""Batch input files: each cell's request as one JSONL line, split at OpenAI's limits.

A line is {"custom_id": the cell's cache key, "method": "POST", "url": "/v1/...", "body": the
body a synchronous call sends}. One file holds one endpoint and one model (OpenAI's rule),
at most MAX_LINES lines and MAX_BYTES bytes; files are written to disk as they are built, so
memory stays bounded by one line, not by the sweep.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import orjson

from nbplayground.domain.batch import MAX_BYTES, MAX_LINES
from nbplayground.errors import InvalidInput
from nbplayground.experimentation.cell import Cell


@dataclass
class BatchFile:
    """One input file on disk and what it holds."""

    path: Path
    endpoint: str
    model: str
    custom_ids: list[str] = field(default_factory=list)
    cells: list[int] = field(default_factory=list)
    """Indexes (in the list given to build_files) of the cells of its lines."""
    size: int = 0


def endpoint_of(cell: Cell) -> str:
    return "/v1" + cell.request.path


def line_of(cell: Cell) -> bytes:
    """The JSONL line of a cell (newline included): exactly the body a synchronous call sends."""
    request = cell.request
    if request.stream:
        request = request.model_copy(update={"stream": False})
    return orjson.dumps({"custom_id": cell.cache_key, "method": "POST",
                         "url": endpoint_of(cell), "body": request.body()}) + b"\n"


def check_batchable(cells: Iterable[Cell]) -> None:
    """What a batch cannot do, refused before anything is written or sent."""
    cells = list(cells)
    others = sorted({c.provider for c in cells} - {"openai"})
    if others:
        mixed = "" if len({c.provider for c in cells}) == 1 else \
            " (a batch takes one provider; a sweep with via='sync' may mix them)"
        raise InvalidInput(f"via='batch' runs on the OpenAI Batch API; the "
                           f"{' and '.join(others)} provider has none{mixed}: use "
                           "provider='openai' or via='sync'")
    for c in cells:
        if c.max_tool_rounds:
            raise InvalidInput("via='batch' sends each request once, so your functions cannot "
                               "be called between rounds; pass run_tools=False (the calls are "
                               "recorded) or use via='sync'")


def build_files(cells: list[Cell], directory: Path, *, max_lines: int = MAX_LINES,
                max_bytes: int = MAX_BYTES, stem: str = "batch") -> list[BatchFile]:
    """Write the cells' lines into files under `directory`, grouped by endpoint and model in the
    order they first appear, a new file whenever the next line would pass a limit."""
    if not 1 <= max_lines <= MAX_LINES or not 1 <= max_bytes <= MAX_BYTES:
        raise InvalidInput(f"a batch file holds 1 to {MAX_LINES:,} lines and 1 to {MAX_BYTES:,} "
                           "bytes")
    directory.mkdir(parents=True, exist_ok=True)
    done: list[BatchFile] = []
    open_files: dict[tuple[str, str], tuple[BatchFile, BinaryIO]] = {}
    made = 0
    try:
        for i, cell in enumerate(cells):
            line = line_of(cell)
            if len(line) > max_bytes:
                raise InvalidInput(f"cell {i}'s request is {len(line):,} bytes, more than a "
                                   f"batch file may hold ({max_bytes:,}); shorten its prompt "
                                   "or images, or run it with via='sync'")
            key = (endpoint_of(cell), cell.request.model)
            current = open_files.get(key)
            if current is not None and (len(current[0].custom_ids) >= max_lines
                                        or current[0].size + len(line) > max_bytes):
                current[1].close()
                done.append(current[0])
                del open_files[key]
                current = None
            if current is None:
                path = directory / f"{stem}-{made:04d}.jsonl"
                made += 1
                current = (BatchFile(path, *key), path.open("wb"))
                open_files[key] = current
            bf, handle = current
            handle.write(line)
            bf.size += len(line)
            bf.custom_ids.append(cell.cache_key)
            bf.cells.append(i)
    finally:
        for bf, handle in open_files.values():
            handle.close()
            done.append(bf)
        open_files.clear()
    return sorted(done, key=lambda f: f.path.name)
