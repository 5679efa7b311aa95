"""YAML front matter with the line and column of every key, for errors that point at it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..i18n import lazy_text as _l
from .problems import Problems

FENCE = "---"
# libyaml when PyYAML has it: the pure-Python parser takes seconds over brackets nested a few
# thousand deep (and minutes over more), libyaml stops at its nesting limit at once.
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class FrontMatter:
    values: dict = field(default_factory=dict)
    positions: dict = field(default_factory=dict)  # key -> (line, col) of its value
    body: str = ""
    body_line: int = 1  # the file's line number of the body's first line

    def position(self, key: str) -> tuple[int, int]:
        return self.positions.get(key, (1, 1))


def parse(text: str, path: Path, problems: Problems, code: str) -> FrontMatter | None:
    """Split a file into front matter and body; None (with a problem) if it cannot be read."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != FENCE:
        return FrontMatter(body=text, body_line=1)
    end = next((i for i in range(1, len(lines)) if lines[i].strip() in (FENCE, "...")), None)
    if end is None:
        problems.error(path, 1, 1, code, _l("front matter opened here is never closed; add a "
                                            "line '---' after it"))
        return None
    source = "".join(lines[1:end])
    try:
        node = yaml.compose(source, Loader=LOADER)
        values = yaml.load(source, Loader=LOADER) if node is not None else {}
    except RecursionError:  # brackets nested thousands deep: no front matter is like that
        problems.error(path, 2, 1, code, _l("front matter is not valid YAML: cannot be read"))
        return None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line, col = (mark.line + 2, mark.column + 1) if mark else (2, 1)
        problem = getattr(error, "problem", None)
        if problem:
            message = _l("front matter is not valid YAML: %(reason)s", reason=problem)
        else:
            message = _l("front matter is not valid YAML: cannot be read")
        problems.error(path, line, col, code, message)
        return None
    if values is None:
        values = {}
    if not isinstance(values, dict) or not isinstance(node, yaml.MappingNode):
        problems.error(path, 2, 1, code, _l("front matter must be 'key: value' lines"))
        return None
    if (alias := _first_alias(node)) is not None:  # ten aliases of ten aliases… of a list
        # make a value of billions of items when read (the "billion laughs")
        problems.error(path, alias.start_mark.line + 2, alias.start_mark.column + 1, code, _l(
            "front matter is not valid YAML: an alias (*name) repeats a value; write the value "
            "itself"))
        return None
    values = {str(key): value for key, value in values.items()}  # 1: or null: are keys too
    positions = {
        key.value: (value.start_mark.line + 2, value.start_mark.column + 1)
        for key, value in node.value
    }
    return FrontMatter(values, positions, "".join(lines[end + 1:]), end + 2)


def _first_alias(node: yaml.Node) -> yaml.Node | None:
    """A node met a second time in the tree: where an alias (*name) repeats an anchor."""
    seen, stack = set(), [node]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            return current
        seen.add(id(current))
        if isinstance(current, yaml.MappingNode):
            stack.extend(part for pair in current.value for part in pair)
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
    return None
