"""The one JSON shape of every error response and of the problems in it."""

from __future__ import annotations

from typing import Any

# Every problem item has these keys, None where they do not apply, like
# partnerlift.errors.Problem; an item about one element of a request array also
# has its ``index``.
PROBLEM_KEYS = ("file", "line", "field", "value", "reason")


def problem_item(problem: dict[str, Any]) -> dict[str, Any]:
    """Return ``problem`` with every key of :data:`PROBLEM_KEYS`, plus ``index``
    if it has one."""
    item = {key: problem.get(key) for key in PROBLEM_KEYS}
    if "index" in problem:
        item["index"] = problem["index"]
    return item


def error_body(
    status: int, message: str, problems: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Return the JSON body of an error response:
    ``{"error": {"message", "problems", "status"}}``."""
    items = [problem_item(problem) for problem in problems or []]
    return {"error": {"message": message, "problems": items, "status": status}}
