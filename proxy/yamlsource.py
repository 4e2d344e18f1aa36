"""Load YAML once, validate it with a pydantic model, and name file, line and key in errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from .errors import ConfigError

Model = TypeVar("Model", bound=BaseModel)
KeyPath = tuple[str | int, ...]


def _index_lines(node: yaml.Node, path: KeyPath, lines: dict[KeyPath, int], problems: list[str],
                 source: str) -> None:
    """Record the 1-based line of every key path and report duplicate keys."""
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                problems.append(f"{source}:{key_node.start_mark.line + 1}: "
                                f"{_dotted((*path, key))}: duplicate key")
            seen.add(key)
            lines[(*path, key)] = key_node.start_mark.line + 1
            _index_lines(value_node, (*path, key), lines, problems, source)
            lines[(*path, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index_lines(item, (*path, i), lines, problems, source)


def _dotted(path: KeyPath) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "(top level)"


def _line_for(loc: KeyPath, lines: dict[KeyPath, int]) -> int:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return 1


def parse(text: str, source: str, model: type[Model], context: dict[str, Any] | None = None
          ) -> Model:
    """Parse YAML text and validate it; every problem is reported as 'source:line: key: why'."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        reason = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError([f"{source}:{line}: (syntax): {reason}"]) from exc
    lines: dict[KeyPath, int] = {}
    problems: list[str] = []
    if node is not None:
        _index_lines(node, (), lines, problems, source)
    if problems:
        raise ConfigError(problems)
    if not isinstance(data, dict):
        raise ConfigError([f"{source}:1: (top level): expected a mapping of keys"])
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if isinstance(p, (str, int)) and p != "[key]")
            msg = err["msg"].removeprefix("Value error, ")
            problems.append(f"{source}:{_line_for(loc, lines)}: {_dotted(loc)}: {msg}")
        raise ConfigError(problems) from exc


def load(path: Path, model: type[Model], context: dict[str, Any] | None = None) -> Model:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}:1: (file): cannot read: {exc.__class__.__name__}"]) from exc
    return parse(text, str(path), model, context)
