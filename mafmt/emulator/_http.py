"""A tiny WSGI toolkit for the emulator: requests, JSON responses, routing, a threaded
server on 127.0.0.1 that can also drop a connection on purpose."""

from __future__ import annotations

import json
import re
import secrets
import socketserver
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer, make_server

__all__ = ["ApiError", "Drop", "Request", "Response", "Router", "serve"]

REASONS = {200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 400: "Bad Request", 401: "Unauthorized",
           403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict", 413: "Payload Too Large",
           429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
           504: "Gateway Timeout"}


class Drop(Exception):
    """Raised by the app to close the connection without any response."""


class ApiError(Exception):
    """An error answer in the standard shape ``{"error_code", "error_msg"}``."""

    def __init__(self, status: int, code: str, msg: str, *, body: dict[str, Any] | None = None) -> None:
        super().__init__(msg)
        self.status, self.code, self.msg = status, code, msg
        self.body = body


@dataclass
class Request:
    """One decoded request."""

    method: str
    path: str
    raw_query: str
    headers: dict[str, str]
    body: bytes
    params: dict[str, str] = field(default_factory=dict)
    route: dict[str, str] = field(default_factory=dict)
    identity: dict[str, Any] = field(default_factory=dict)

    def json(self) -> Any:
        """The body as JSON (400 ModelArts.0101 when it is not)."""
        if not self.body:
            return {}
        try:
            return json.loads(self.body)
        except ValueError:
            raise ApiError(400, "ModelArts.0101", "request body is not valid JSON") from None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class Response:
    """A JSON (or empty) response."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> bytes:
        if self.body is None:
            return b""
        return json.dumps(self.body, ensure_ascii=False).encode("utf-8")


Handler = Callable[[Request], Response]


class Router:
    """``{name}`` path templates -> handlers, per method.

    A path word is never taken as an ID:

    * a parameter never matches a word that another template has as a literal at the same
      place (after the same prefix), served or only ``reserved`` (templates of official
      routes the emulator does not serve, such as ``…/services/api-keys``): a word is
      reserved where the service has it, not everywhere, so a v1 configuration may be
      called ``tags``;
    * when several templates match, the one with the most literal segments wins.

    So ``POST …/training-jobs/batch-delete`` is the batch delete, and ``GET
    …/training-jobs/batch-delete`` is 405, not a job called ``batch-delete``.
    """

    def __init__(self, reserved: Iterable[str] = ()) -> None:
        self._routes: list[tuple[str, re.Pattern[str], int, list[str], Handler]] = []
        self._words: dict[tuple[str, ...], set[str]] = {}
        for template in reserved:
            self._add_words(template.rstrip("/").split("/"))

    @staticmethod
    def _shape(segments: list[str]) -> tuple[str, ...]:
        return tuple("*" if seg.startswith("{") else seg for seg in segments)

    def add(self, method: str, template: str, handler: Handler) -> None:
        template = template.rstrip("/")
        segments = template.split("/")
        pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
        literal = sum(1 for seg in segments if seg and not seg.startswith("{"))
        self._add_words(segments)
        self._routes.append((method.upper(), re.compile(f"^{pattern}/?$"), literal, segments, handler))

    def _add_words(self, segments: list[str]) -> None:
        for i, seg in enumerate(segments):
            if seg and not seg.startswith("{"):
                self._words.setdefault(self._shape(segments[:i]), set()).add(seg)

    def _word_as_id(self, segments: list[str], path: str) -> bool:
        given = path.rstrip("/").split("/")
        for i, seg in enumerate(segments):
            if seg.startswith("{") and i < len(given) and seg != "{project_id}" and (
                    given[i] in self._words.get(self._shape(segments[:i]), ())):
                return True
        return False

    def match(self, method: str, path: str) -> tuple[Handler, dict[str, str]]:
        best: tuple[int, Handler, dict[str, str]] | None = None
        shapes: set[int] = set()
        for m, pattern, literal, segments, handler in self._routes:
            found = pattern.match(path)
            if found is None or self._word_as_id(segments, path):
                continue
            shapes.add(literal)
            if m == method and (best is None or literal > best[0]):
                best = (literal, handler, found.groupdict())
        if best is not None and best[0] == max(shapes):
            return best[1], best[2]
        if shapes:
            raise ApiError(405, "ModelArts.0105", f"method {method} not allowed on {path}")
        raise ApiError(404, "ModelArts.0104", f"no such API: {method} {path}")

    def templates(self) -> list[tuple[str, str]]:
        """(method, regex) of every route (for coverage reports)."""
        return [(m, p.pattern) for m, p, _, _, _ in self._routes]


def read_request(environ: dict[str, Any]) -> Request:
    headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = environ["CONTENT_TYPE"]
    if environ.get("CONTENT_LENGTH"):
        headers["content-length"] = environ["CONTENT_LENGTH"]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    raw_path = environ.get("mafmt.raw_path") or environ.get("PATH_INFO", "/")
    return Request(environ["REQUEST_METHOD"].upper(), raw_path, environ.get("QUERY_STRING", ""), headers, body)


def respond(start_response: Callable[..., Any], resp: Response, now: float | None = None) -> Iterable[bytes]:
    """Send ``resp``; ``now`` (the emulator's clock) gives the ``Date`` header."""
    from email.utils import formatdate

    data = resp.encode()
    headers = {"X-Request-Id": secrets.token_hex(16), **resp.headers}
    if now is not None:
        headers.setdefault("Date", formatdate(now, usegmt=True))
    if resp.body is not None:
        headers.setdefault("Content-Type", "application/json")
    headers["Content-Length"] = str(len(data))
    start_response(f"{resp.status} {REASONS.get(resp.status, 'Status')}", list(headers.items()))
    return [data]


class _Handler(ServerHandler):
    os_environ = {}  # type: ignore[misc]  # noqa: RUF012 - keep the process environment (secrets) out of WSGI

    def handle_error(self) -> None:
        import sys

        if isinstance(sys.exc_info()[1], Drop):
            # close without a response: nothing was sent, nothing is logged; the server
            # closes the socket when the handler returns
            self.result = self.headers = self.status = None  # type: ignore[assignment]
            self.request_handler.close_connection = True  # type: ignore[attr-defined]
            return
        super().handle_error()


class _RequestHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def get_environ(self) -> dict[str, Any]:
        env = super().get_environ()
        env["mafmt.raw_path"] = self.path.split("?", 1)[0]
        return env

    def handle(self) -> None:
        self.raw_requestline = self.rfile.readline(65537)
        if len(self.raw_requestline) > 65536 or not self.raw_requestline or not self.parse_request():
            return
        handler = _Handler(self.rfile, self.wfile, self.get_stderr(), self.get_environ(),  # type: ignore[arg-type]
                           multithread=True)
        handler.request_handler = self  # type: ignore[attr-defined]
        handler.run(self.server.get_app())  # type: ignore[attr-defined]


class _Server(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(app: Callable[..., Any], host: str = "127.0.0.1", port: int = 0) -> tuple[_Server, threading.Thread]:
    """Start ``app`` on ``host:port`` in a daemon thread; returns (server, thread)."""
    server = make_server(host, port, app, server_class=_Server, handler_class=_RequestHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
                              name="mafmt-emulator")
    thread.start()
    return server, thread
