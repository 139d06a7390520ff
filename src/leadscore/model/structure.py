"""The structural pass over a definition file: pydantic checks keys and types; every error
becomes a diagnostic at its place in the file ("did you mean" for unknown keys); broken parts
are left out so that the meaning of the rest can still be checked in the same run."""

from __future__ import annotations

import copy
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from leadscore.diagnostics import Diagnostic, did_you_mean
from leadscore.model.source import Path, SourceDocument
from leadscore.model.spec import CriterionSpec


def validate_structure(doc: SourceDocument, root: type[BaseModel]) -> tuple[Any, Any, list]:
    """Validate the structure against `root`; where parts are broken, report them, leave them
    out and validate the rest, so the meaning of everything else is still checked in the same
    run. Returns (spec or None, a function mapping paths back to the file, diagnostics)."""
    data = copy.deepcopy(doc.data)
    remaps: list[dict[Path, list[int]]] = []
    found: list[Diagnostic] = []

    def remap(path: Path) -> Path:
        for table in reversed(remaps):
            path = _remap_once(path, table)
        return path

    for _ in range(4):
        try:
            return root.model_validate(data), remap, found
        except ValidationError as exc:
            locs = [(remap(tuple(e["loc"])), e) for e in exc.errors()]
            found.extend(_structure_errors([(loc, e) for loc, e in locs], doc, found, root))
            table = _prune(data, [tuple(e["loc"]) for e in exc.errors()])
            if table is None:
                break
            remaps.append(table)
    return None, remap, found


def _prune(data: Any, locs: list[tuple[Any, ...]]) -> dict[Path, list[int]] | None:
    """Drop, for every error, the list item that holds it (or the unknown key itself).
    Returns, for each list touched, the original indices it keeps; None if nothing can go."""
    drop_items: dict[Path, set[int]] = {}
    drop_keys: list[Path] = []
    for loc in locs:
        last_int = max((i for i, part in enumerate(loc) if isinstance(part, int)), default=None)
        if last_int is not None:
            drop_items.setdefault(loc[:last_int], set()).add(loc[last_int])  # type: ignore[arg-type]
        elif len(loc) > 1:
            drop_keys.append(loc)
        else:
            return None  # a top-level mistake: nothing sensible remains
    for loc in drop_keys:
        parent = _get(data, loc[:-1])
        if isinstance(parent, dict):
            parent.pop(loc[-1], None)
    table: dict[Path, list[int]] = {}
    for list_path, indices in drop_items.items():
        items = _get(data, list_path)
        if not isinstance(items, list):
            continue
        kept = [i for i in range(len(items)) if i not in indices]
        items[:] = [items[i] for i in kept]
        table[list_path] = kept
    return table if (table or drop_keys) else None


def _get(data: Any, path: Path) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _remap_once(path: Path, table: dict[Path, list[int]]) -> Path:
    out: list[Any] = []
    for part in path:
        if isinstance(part, int) and tuple(out) in table:
            kept = table[tuple(out)]
            part = kept[part] if part < len(kept) else part
        out.append(part)
    return tuple(out)


def _structure_errors(errors: list[tuple[Path, Any]], doc: SourceDocument,
                      already: list[Diagnostic], root: type[BaseModel]) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    seen = {(d.code, d.location.line, d.location.column) for d in already}
    for loc, err in errors:
        kind = err["type"]
        if kind == "extra_forbidden":
            key = loc[-1]
            location, text = doc.location(loc, key=True)
            allowed = _fields_at(loc[:-1], root)
            hint = did_you_mean(str(key), allowed) or (
                f"allowed here: {', '.join(sorted(allowed))}" if allowed else None)
            diag = Diagnostic("LS103", f"unknown key '{key}' in {_where(loc[:-1])}", location,
                              text=str(key), hint=hint)
        elif kind == "missing":
            location, text = doc.location(loc[:-1])
            diag = Diagnostic("LS105", f"{_where(loc[:-1])} needs '{loc[-1]}'", location,
                              text=text, hint=f"add '{loc[-1]}:'")
        elif loc == ("version",):
            location, text = doc.location(loc)
            diag = Diagnostic("LS106", f"unsupported model version {err.get('input')!r}",
                              location, text=text, hint="this leadscore reads 'version: 1'")
        else:
            location, text = doc.location(loc)
            diag = Diagnostic("LS104", f"{_where(loc)}: {_plain(err['msg'])}", location,
                              text=text, hint=_type_hint(kind))
        marker = (diag.code, diag.location.line, diag.location.column)
        if marker not in seen:
            seen.add(marker)
            out.append(diag)
    return out


def _plain(message: str) -> str:
    return message[0].lower() + message[1:] if message else message


def _type_hint(kind: str) -> str | None:
    return {
        "float_parsing": "write a number, e.g. 10 or -5",
        "int_parsing": "write a whole number",
        "bool_parsing": "write true or false",
        "list_type": "write a list, e.g. [a, b] or one '- item' per line",
        "dict_type": "write a mapping of 'key: value' lines",
        "model_type": "write a mapping of 'key: value' lines",
        "string_pattern_mismatch": "use letters, digits, '_', '-' and '.'",
    }.get(kind)


def _where(loc: tuple[Any, ...]) -> str:
    if not loc:
        return "the model"
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _fields_at(loc: tuple[Any, ...], root: type[BaseModel]) -> list[str]:
    """The keys allowed at `loc`, by walking the spec classes along the path."""
    current: Any = root
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = next((f for n, f in current.model_fields.items()
                          if part in (n, f.alias)), None)
            if field is None:
                return []
            current = field.annotation
        else:
            origin = typing.get_origin(current)
            args = typing.get_args(current)
            if origin in (list, dict) and args:
                current = args[-1]
            else:
                return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or n for n, f in current.model_fields.items()]
    return []


def _unwrap(annotation: Any) -> Any:
    if isinstance(annotation, str):
        annotation = {"CriterionSpec": CriterionSpec}.get(annotation, annotation)
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, __import__("types").UnionType):
        models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
        if models:
            return models[0]
        if len(args) == 1:
            return _unwrap(args[0])
    return annotation


