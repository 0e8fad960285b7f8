"""Request validation: the project's JSON Schemas when present, plus query checks."""

from __future__ import annotations

from typing import Any

from mafmt.emulator._http import ApiError, Request

__all__ = ["body", "bool_param", "choice_param", "int_param", "page"]


_BROKEN: set[str] = set()


def _schema_errors(name: str, instance: Any) -> list[tuple[str, str]]:
    if name in _BROKEN:
        return []
    try:
        from mafmt import schemas

        if name not in schemas.names():
            return []
        return list(schemas.validator(name).iter_errors(instance))  # type: ignore[attr-defined]
    except Exception:
        import logging

        _BROKEN.add(name)
        logging.getLogger("mafmt.emulator").warning("schema %s unusable; minimal validation only", name, exc_info=True)
        return []


def body(req: Request, schema: str | None = None) -> dict[str, Any]:
    """The JSON object body, validated against ``schema`` (400 ModelArts.0101 otherwise)."""
    data = req.json()
    if not isinstance(data, dict):
        raise ApiError(400, "ModelArts.0101", "request body must be a JSON object")
    if schema:
        problems = _schema_errors(schema, data)
        if problems:
            path, message = problems[0]
            raise ApiError(400, "ModelArts.0101", f"Invalid argument: {path}: {message}")
    return data


def int_param(req: Request, name: str, default: int | None, lo: int | None = None, hi: int | None = None) -> int | None:
    """An integer query parameter within [lo, hi] (400 ModelArts.0107 otherwise)."""
    raw = req.params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "ModelArts.0107", f"{name} must be an integer, got {raw!r}") from None
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ApiError(400, "ModelArts.0107", f"{name} must be in [{lo}, {hi}], got {value}")
    return value


def bool_param(req: Request, name: str, default: bool | None = None) -> bool | None:
    """A ``true``/``false`` query parameter."""
    raw = req.params.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise ApiError(400, "ModelArts.0107", f"{name} must be true or false, got {raw!r}")


def choice_param(req: Request, name: str, default: str | None, choices: tuple[str, ...]) -> str | None:
    """A query parameter from a fixed set."""
    raw = req.params.get(name)
    if raw is None or raw == "":
        return default
    if raw not in choices:
        raise ApiError(400, "ModelArts.0107", f"{name} must be one of {', '.join(choices)}, got {raw!r}")
    return raw


def page(items: list[Any], offset: int, limit: int, operation: str) -> list[Any]:
    """The slice ``operation`` answers, read with its declared paging model
    (:data:`mafmt.client._pages.PAGING`: a page index, a record offset or 1-based pages)."""
    from mafmt.client._pages import ONE_BASED, PAGING, RECORD_OFFSET, UNPAGED

    style = PAGING[operation]
    if style == UNPAGED:
        return list(items)
    start = offset if style == RECORD_OFFSET else (offset - 1 if style == ONE_BASED else offset) * limit
    return items[max(start, 0) : max(start, 0) + limit]
