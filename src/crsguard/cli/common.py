"""Small helpers every command shares: reading JSON input, reporting input errors, parsing --option."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console

from crsguard.model.errors import InputError

err_console = Console(stderr=True, highlight=False)
out_console = Console(highlight=False)

#: Exit status for invalid input (the issue contract).
EXIT_INVALID = 2


def fail(problems: list[str] | str, code: int = EXIT_INVALID) -> NoReturn:
    """Print the problems to standard error and exit; never a traceback."""
    for line in [problems] if isinstance(problems, str) else problems:
        err_console.print(f"[bold red]error:[/] {line}", markup=True, soft_wrap=True)
    raise typer.Exit(code)


def read_text(path: str) -> str:
    """The text of FILE, or of standard input for '-'."""
    if path == "-":
        return sys.stdin.read()
    file = Path(path)
    if not file.is_file():
        fail(f"{path}: no such file")
    return file.read_text(encoding="utf-8")


def json_records(text: str) -> Iterator[tuple[int, dict[str, Any] | InputError]]:
    """(line number, object or the error for that line) from one JSON object or JSON Lines."""
    stripped = text.strip()
    if not stripped:
        yield 1, InputError(["input is empty: expected a JSON object or JSON Lines"])
        return
    try:
        whole = json.loads(stripped)
    except json.JSONDecodeError:
        whole = None
    if isinstance(whole, dict):
        yield 1, whole
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            yield number, InputError([f"not valid JSON ({error.msg} at column {error.colno})"])
            continue
        if isinstance(value, dict):
            yield number, value
        else:
            yield number, InputError([f"expected a JSON object, got {type(value).__name__}"])


def parse_options(pairs: list[str] | None) -> dict[str, str]:
    """NAME=VALUE pairs from repeated --option flags."""
    options: dict[str, str] = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            fail(f"--option {pair!r}: expected NAME=VALUE")
        options[name.strip()] = value.strip()
    return options


def run_checked(action: Any, *args: Any, **kwargs: Any) -> Any:
    """Call `action`, turning an InputError into a clean exit 2."""
    try:
        return action(*args, **kwargs)
    except InputError as error:
        fail(error.problems)
