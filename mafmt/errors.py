"""The one exception tree of mafmt.

::

    MafmtError                     base of everything mafmt raises on purpose
    ├── UsageError                 the caller asked for something impossible (CLI exit 2)
    ├── FormatError                bad input data: names file, line / element and field
    │   ├── UnsafeXmlError         XML with a DTD or entity declarations
    │   └── LimitError             input over one of the limits of mafmt.limits
    ├── LossError                  a strict conversion would have lost data
    ├── StorageError               a path or obs:// URI could not be read or written
    └── APIError                   a ModelArts call failed (error_code, error_msg, status)

Every error prints as one line a user can act on, e.g.
``train.manifest:17: annotation[2].type: unknown type 'foo'``. Secrets never
appear in messages: nothing here formats credentials.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "APIError",
    "FormatError",
    "LimitError",
    "LossError",
    "MafmtError",
    "StorageError",
    "UnsafeXmlError",
    "UsageError",
]


class MafmtError(Exception):
    """Base class of every error mafmt raises on purpose."""

    exit_code: int = 1


class UsageError(MafmtError):
    """The caller asked for something mafmt cannot do (bad option, unknown format)."""

    exit_code = 2


class FormatError(MafmtError):
    """Input that does not follow its format.

    Attributes:
        file: the file or URI the data came from (None for in-memory data).
        line: 1-based line number (JSON Lines) or source line of an XML element.
        path: where inside the record: ``annotation[2].type`` or ``/annotation/object[1]/bndbox``.
        reason: what is wrong, without the location.
        severity: ``"error"`` or ``"warning"``.
    """

    def __init__(
        self,
        reason: str,
        *,
        file: str | None = None,
        line: int | None = None,
        path: str | None = None,
        severity: str = "error",
    ) -> None:
        self.reason = reason
        self.file = file
        self.line = line
        self.path = path
        self.severity = severity
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = ""
        if self.file is not None:
            where = str(self.file)
            if self.line is not None:
                where += f":{self.line}"
        elif self.line is not None:
            where = f"line {self.line}"
        parts = [p for p in (where, self.path) if p]
        return ": ".join([*parts, self.reason])

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_format_error, (type(self), self.reason, self.file, self.line, self.path, self.severity))

    def to_dict(self) -> dict[str, Any]:
        """The error as the JSON object the CLI prints with ``--json``."""
        return {
            "file": self.file,
            "line": self.line,
            "path": self.path,
            "message": self.reason,
            "severity": self.severity,
        }


def _rebuild_format_error(cls: type[FormatError], reason: str, file: Any, line: Any, path: Any, severity: str) -> FormatError:
    return cls(reason, file=file, line=line, path=path, severity=severity)


class UnsafeXmlError(FormatError):
    """XML refused for safety: a DTD, entity declarations or an oversized document."""


class LimitError(FormatError):
    """Input over one of the documented limits of :mod:`mafmt.limits` (size, depth, count)."""


class LossError(MafmtError):
    """A conversion in strict mode would have dropped or approximated data."""

    def __init__(self, lost: dict[str, int]) -> None:
        self.lost = dict(lost)
        detail = ", ".join(f"{k}: {v}" for k, v in sorted(self.lost.items()))
        super().__init__(f"conversion would lose data ({detail})")


class StorageError(MafmtError):
    """A local path or object-storage URI could not be read, written or listed.

    Attributes:
        uri: the location concerned.
        code: backend error code (e.g. OBS ``NoSuchKey``) or None.
        request_id: backend request id when there is one.
        status: HTTP status for object storage, None for local files.
    """

    def __init__(
        self,
        message: str,
        *,
        uri: str | None = None,
        code: str | None = None,
        request_id: str | None = None,
        status: int | None = None,
    ) -> None:
        self.message = message
        self.uri = uri
        self.code = code
        self.request_id = request_id
        self.status = status
        text = f"{uri}: {message}" if uri else message
        if code:
            text += f" ({code}"
            text += f", request id {request_id})" if request_id else ")"
        super().__init__(text)


class APIError(MafmtError):
    """A ModelArts API call answered with an error.

    Attributes:
        status_code: HTTP status (None when no response arrived).
        error_code: ModelArts error code such as ``ModelArts.4101``.
        error_msg: the service's message.
        request_id: value of ``X-Request-Id`` when present.
    """

    def __init__(
        self,
        error_msg: str,
        *,
        status_code: int | None = None,
        error_code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        self.status_code = status_code
        self.error_code = error_code
        self.error_msg = error_msg
        self.request_id = request_id
        head = " ".join(str(p) for p in (status_code, error_code) if p is not None)
        text = f"{head}: {error_msg}" if head else error_msg
        if request_id:
            text += f" (request id {request_id})"
        super().__init__(text)
