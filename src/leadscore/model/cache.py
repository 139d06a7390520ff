"""Compiled models kept between commands, so that a reading command starts fast.

Reading a model file means parsing YAML, validating it with pydantic and compiling it — and,
before any of that, importing the modules that do it: about 0.2 s of every `leads`, `stats`
or `explain` on a quiet machine, as much as the query itself. The compiled `Model` is a tree
of frozen dataclasses, so it is kept as a pickle in the project's data folder (beside the
store it describes), named by a digest of everything it is a function of:

- the file's bytes and the path diagnostics name it by,
- the code: every module of the `leadscore` package (its path, size and modification time),
  so a changed or upgraded leadscore never reads a tree another version wrote,
- the Python version and the pickle protocol.

A cache file that is missing, unreadable or damaged is ignored (the file is compiled and the
cache written again); a folder that cannot be written is not cached into. A model file with
mistakes is never cached: it raises, every time, with every mistake.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import sys
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from leadscore.model.model import Model

log = logging.getLogger("leadscore.model")
FOLDER = "cache"
KEEP = 8  # cached objects of a kind kept per folder (the newest); older ones are removed
T = TypeVar("T")


@cache
def code_digest() -> str:
    """A digest of the leadscore package's modules as installed (paths, sizes, times)."""
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256(f"{sys.version}|{pickle.HIGHEST_PROTOCOL}".encode())
    for folder, names, files in sorted(os.walk(root)):
        names[:] = sorted(n for n in names if n != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                found = os.stat(os.path.join(folder, name))
                digest.update(f"{folder}/{name}|{found.st_size}|{found.st_mtime_ns}".encode())
    return digest.hexdigest()


def load_model_cached(path: str | Path, folder: Path | None) -> Model:
    """`load_model(path)`, through the cache in `folder` (None, or a folder that does not
    exist: no cache)."""
    if folder is None or not folder.parent.is_dir():
        return _compile(path)
    try:
        data = Path(path).read_bytes()
    except OSError:
        return _compile(path)  # the compiler's own read reports it, with its place
    return cached(folder, "model", f"{code_digest()}|{path}|".encode() + data,
                  lambda: _compile(path), _model_class())


def parse_model_cached(text: str, file: str, folder: Path | None) -> Model:
    """`parse_model(text, file)` through the cache in `folder` (a published version's text:
    the store holds it, so the key is the text itself)."""
    from leadscore.model.compile import parse_model

    if folder is None or not folder.parent.is_dir():
        return parse_model(text, file)
    return cached(folder, "model", f"{code_digest()}|{file}|".encode() + text.encode(),
                  lambda: parse_model(text, file), _model_class())


def cached(folder: Path, kind: str, source: bytes, build: Callable[[], T],
           expected: type[T]) -> T:
    """The `expected` object cached in `folder` as `kind-<digest of source>.pickle`, or
    `build()` kept there (what `build` raises is raised, and nothing is kept). A folder whose
    parent does not exist is not cached into."""
    if not folder.parent.is_dir():
        return build()
    key = hashlib.sha256(source).hexdigest()[:32]
    target = folder / f"{kind}-{key}.pickle"
    try:
        with target.open("rb") as handle:
            found = pickle.load(handle)
        if isinstance(found, expected):
            return found
    except FileNotFoundError:
        pass
    except Exception as error:  # a damaged cache file is only a cache miss
        log.debug("ignoring the cached %s %s: %s", kind, target, error)
    built = build()
    _write(folder, target, kind, built)
    return built


def _model_class() -> type[Model]:
    from leadscore.model.model import Model

    return Model


def _compile(path: str | Path) -> Model:
    from leadscore.model.compile import load_model

    return load_model(path)


def _write(folder: Path, target: Path, kind: str, built: object) -> None:
    try:
        folder.mkdir(exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{kind}-", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                pickle.dump(built, out, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, target)
        finally:
            Path(temporary).unlink(missing_ok=True)
        kept = sorted(folder.glob(f"{kind}-*.pickle"), key=lambda p: p.stat().st_mtime,
                      reverse=True)
        for old in kept[KEEP:]:
            old.unlink(missing_ok=True)
    except OSError as error:  # a read-only project folder: no cache, and no harm
        log.debug("cannot cache the %s in %s: %s", kind, folder, error)


__all__ = ["cached", "code_digest", "load_model_cached", "parse_model_cached"]
