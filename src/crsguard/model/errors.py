"""Input errors that name the field, what was wrong and what is allowed."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ValidationError


class InputError(ValueError):
    """Invalid input. `problems` holds one human-readable line per problem."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


def _allowed(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names allowed at `loc` (for the unknown-key message), walking nested models."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        info = current.model_fields.get(part) if hasattr(current, "model_fields") else None
        if info is None:
            break
        annotation = info.annotation
        for candidate in getattr(annotation, "__args__", ()) or (annotation,):
            inner = getattr(candidate, "__args__", None)
            target = inner[0] if inner else candidate
            if isinstance(target, type) and issubclass(target, BaseModel):
                current = target
                break
    return list(getattr(current, "model_fields", {}))


#: Above this many allowed fields, name the closest matches instead of listing them all.
_LIST_AT_MOST = 40


def _allowed_text(key: str, allowed: list[str]) -> str:
    if len(allowed) <= _LIST_AT_MOST:
        return f"allowed fields: {', '.join(allowed)}"
    close = difflib.get_close_matches(key, allowed, n=5, cutoff=0.5)
    hint = f"closest allowed fields: {', '.join(close)}" if close else "no allowed field is close"
    return f"{hint} ({len(allowed)} fields are allowed; `crsguard systems inputs` lists them)"


def describe_validation_error(error: ValidationError, model: type[BaseModel]) -> list[str]:
    """Turn pydantic's errors into lines naming the field, the value and what is allowed."""
    lines = []
    for item in error.errors(include_url=False):
        loc = tuple(item["loc"])
        where = ".".join(str(p) for p in loc) or "record"
        kind = item["type"]
        if kind == "extra_forbidden":
            lines.append(f"unknown field {where!r}; {_allowed_text(str(loc[-1]), _allowed(model, loc[:-1]))}")
            continue
        ctx = item.get("ctx") or {}
        bound = {
            "greater_than_equal": f">= {ctx.get('ge')}",
            "less_than_equal": f"<= {ctx.get('le')}",
            "greater_than": f"> {ctx.get('gt')}",
            "less_than": f"< {ctx.get('lt')}",
        }.get(kind)
        value = item.get("input")
        if bound is not None:
            info = _range_of(model, loc)
            lines.append(f"{where}: {value!r} is out of range; allowed {info or bound}")
        elif kind == "enum":
            lines.append(f"{where}: {value!r} is not allowed; allowed values: {ctx.get('expected')}")
        elif kind == "value_error":
            message = str(ctx.get("error", item["msg"]))
            lines.append(f"{where}: {message}" if loc else message)
        else:
            lines.append(f"{where}: {item['msg']} (got {value!r})")
    return lines


def _range_of(model: type[BaseModel], loc: tuple[Any, ...]) -> str | None:
    """'lo to hi' for a top-level numeric field with both bounds, for a friendlier message."""
    if len(loc) != 1 or loc[0] not in model.model_fields:
        return None
    low = high = None
    for meta in model.model_fields[loc[0]].metadata:
        low = getattr(meta, "ge", None) if getattr(meta, "ge", None) is not None else low
        high = getattr(meta, "le", None) if getattr(meta, "le", None) is not None else high
    return f"{low} to {high}" if low is not None and high is not None else None
