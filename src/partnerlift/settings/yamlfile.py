"""YAML files that remember the line of every key, for errors that name it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from partnerlift.errors import ConfigError, Problem
from partnerlift.settings import setting_messages  # noqa: F401 (registers the texts)
from partnerlift.settings.messages import CATALOGUE, text

Location = tuple[str | int, ...]


@dataclass
class YamlDocument:
    """A parsed YAML file with the 1-based line of each key and list item."""

    path: Path
    data: Any
    lines: dict[Location, int] = field(default_factory=dict)

    def line_of(self, location: Location) -> int | None:
        """Return the line of ``location``, or of its nearest enclosing key."""
        location = tuple(location)
        while location:
            if location in self.lines:
                return self.lines[location]
            location = location[:-1]
        return self.lines.get((), None)

    def value_at(self, location: Location) -> Any:
        """Return the value at ``location``, or None where the path does not exist."""
        value = self.data
        for key in location:
            try:
                value = value[key]
            except (KeyError, IndexError, TypeError):
                return None
        return value


def _record_lines(node: yaml.Node, location: Location, lines: dict[Location, int]):
    lines.setdefault(location, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            lines[(*location, key)] = key_node.start_mark.line + 1
            _record_lines(value_node, (*location, key), lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record_lines(item, (*location, index), lines)


def load_yaml(path: str | Path, *, locale: str = "en") -> YamlDocument:
    """Parse a YAML file and record where each key sits.

    Raises
    ------
    ConfigError
        If the file is missing or is not valid YAML. The error names the line and
        is in ``locale``.
    """
    path = Path(path)
    try:
        content = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(
            text("settings.file_not_found", locale, path=str(path))
        ) from None
    except UnicodeDecodeError as error:
        message = text(
            "settings.not_utf8",
            locale,
            path=path,
            reason=error.reason,
            byte=error.start,
        )
        raise ConfigError(message) from None
    try:
        node = yaml.compose(content, Loader=yaml.SafeLoader)
        data = yaml.safe_load(content)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = text("settings.invalid_yaml_reason", locale, error=error)
        problem = Problem(str(path), line, None, None, reason)
        message = text("settings.invalid_yaml", locale, path=path)
        raise ConfigError(message, [problem]) from None
    lines: dict[Location, int] = {}
    if node is not None:
        _record_lines(node, (), lines)
    return YamlDocument(path, data, lines)


def _without_losing_union_branches(errors: list[Any]) -> list[Any]:
    """Drop the type errors of union branches that another branch explains better.

    For a field that is a string or a mapping, a mapping with an unknown key fails
    both branches: "should be a valid string" at ``(..., field, 'str')`` and the
    unknown key at ``(..., field, 'ColumnSpec', key)``. Only the second helps.
    """
    kept = []
    for item in errors:
        parent = tuple(item["loc"][:-1])
        is_branch_type_error = item["type"].endswith("_type") and any(
            other is not item
            and not other["type"].endswith("_type")
            and tuple(other["loc"][: len(parent)]) == parent
            for other in errors
        )
        if not is_branch_type_error:
            kept.append(item)
    return kept


def validation_problems(
    document: YamlDocument,
    error: ValidationError,
    prefix: Location = (),
    *,
    locale: str = "en",
) -> list[Problem]:
    """Turn a pydantic validation error into problems with file, line and value.

    The reasons that partnerlift writes are in ``locale``, including those of
    validators that raise ``PydanticCustomError`` with a catalogue id as the error
    type. Those of pydantic stay in English, as pydantic has no Japanese messages.
    """
    problems = []
    for item in _without_losing_union_branches(error.errors()):
        location = tuple(
            part for part in item["loc"] if not str(part).startswith("function-")
        )
        full = (*prefix, *location)
        field_name = ".".join(str(part) for part in full) or None
        value = item.get("input")
        if item["type"] == "missing":
            value = None
        elif item["type"] == "extra_forbidden":
            reason = text("settings.unknown_key", locale, key=str(location[-1]))
            problems.append(
                Problem(
                    str(document.path), document.line_of(full), field_name, None, reason
                )
            )
            continue
        if isinstance(value, dict | list):
            value = None
        reason = item["msg"]
        if item["type"] in CATALOGUE:
            # A validator that raises PydanticCustomError with a catalogue id as the
            # error type gets its reason in ``locale``, formatted with the context.
            reason = text(item["type"], locale, **item.get("ctx", {}))
        elif item["type"] == "value_error" and "error" in item.get("ctx", {}):
            # Pydantic writes "Value error, " before the text of a ValueError.
            reason = str(item["ctx"]["error"])
        if item["type"] == "string_type" and item.get("input") is None:
            # `{en: Product document, 3+ pages viewed}` is a flow mapping with a key
            # "3+ pages viewed" and no value: YAML splits unquoted text at commas.
            reason += text("settings.empty_value_hint", locale)
        problems.append(
            Problem(
                str(document.path), document.line_of(full), field_name, value, reason
            )
        )
    return problems


def parse_model(
    document: YamlDocument,
    model: type[BaseModel],
    what: str,
    data: Any = None,
    *,
    locale: str = "en",
) -> Any:
    """Validate ``document`` (or ``data`` taken from it) against a pydantic model.

    ``what`` names the kind of file in English, such as ``"score model"``; the
    message uses its translation when the catalogue has ``settings.what.<what>``.

    Raises
    ------
    ConfigError
        With one problem per invalid key, each naming the file and line. The
        message is in ``locale``.
    """
    try:
        return model.model_validate(document.data if data is None else data)
    except ValidationError as error:
        problems = validation_problems(document, error, locale=locale)
        what_id = f"settings.what.{what}"
        kind = text(what_id, locale) if what_id in CATALOGUE else what
        message = text("settings.invalid_file", locale, what=kind, path=document.path)
        raise ConfigError(message, problems) from None
