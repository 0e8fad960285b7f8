"""The emulator's WSGI application: faults, IAM, authentication, dispatch."""

from __future__ import annotations

import hmac
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from mafmt.client._auth import canonical_request, parse_authorization, signature, split_query
from mafmt.emulator import _data, _tasks
from mafmt.emulator._http import ApiError, Drop, Request, Response, Router, read_request, respond
from mafmt.emulator._state import Store

__all__ = ["App", "Fault", "Principal", "User"]

log = logging.getLogger("mafmt.emulator")
_PROJECT_PATH = re.compile(r"^/v[12]/([^/]+)/")
#: official routes the emulator does not serve whose literal words stand where a served
#: route has an ID (``huaweicloudsdkmodelarts`` 3.1.219): there, and only there, those
#: words are never taken as an ID (the served routes' own words are reserved the same way)
RESERVED_ROUTES = (
    "/v2/{project_id}/modelarts-training-job/resource-instances/count",
    "/v2/{project_id}/modelarts-training-job/resource-instances/filter",
    "/v2/{project_id}/services/api-keys/{key_id}",
    "/v2/{project_id}/services/clusters/{id}",
    "/v2/{project_id}/services/flavors",
    "/v2/{project_id}/training-jobs/autosearch/yaml-templates/{algorithm_type}/{algorithm_name}",
)


@dataclass
class Principal:
    """An AK/SK pair (optionally temporary, with a security token) bound to a project."""

    ak: str
    sk: str = field(repr=False)
    project_id: str = ""
    security_token: str | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        from mafmt.client._config import mask

        return f"Principal(ak={mask(self.ak)!r}, project_id={self.project_id!r})"


@dataclass
class User:
    """An IAM user for password logins (``domain`` is the account name)."""

    user: str
    password: str = field(repr=False)
    domain: str = ""
    project_id: str = ""
    region: str = "cn-north-4"


_METHODS = frozenset({"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"})


@dataclass
class Fault:
    """An injected fault: matches by method and path regex, fires ``times`` times.

    ``status`` answers that status (with ``error_code``); ``delay`` sleeps; ``drop`` closes
    the connection without answering. By default all of this happens before the request
    is handled; with ``after`` the request is handled first (it takes effect) and only
    then the delay, the drop or the error status come — a slow handler whose caller times
    out, a lost answer, or a 5xx after the commit: the cases that tempt a client to re-send
    a create.
    """

    method: str | None = None
    path: str | None = None
    status: int | None = None
    error_code: str | None = None
    delay: float = 0.0
    drop: bool = False
    after: bool = False
    times: int = 1
    retry_after: float | None = None
    hits: int = 0
    _regex: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        problem = self.problem()
        if problem:
            raise ValueError(f"invalid fault: {problem}")
        self._regex = re.compile(self.path) if self.path is not None else None
        self.method = self.method.upper() if self.method else None

    def problem(self) -> str | None:
        """What is wrong with this fault's settings (None when it is usable)."""
        def number(x: Any) -> bool:
            return isinstance(x, (int, float)) and not isinstance(x, bool)

        if self.method is not None and (not isinstance(self.method, str) or self.method.upper() not in _METHODS):
            return f"method must be one of {', '.join(sorted(_METHODS))}"
        if self.path is not None:
            if not isinstance(self.path, str):
                return "path must be a regular expression (a string)"
            try:
                re.compile(self.path)
            except re.error as exc:
                return f"path is not a valid regular expression: {exc}"
        if self.status is not None and (not isinstance(self.status, int) or isinstance(self.status, bool)
                                        or not 400 <= self.status <= 599):
            return "status must be an integer HTTP error status (400-599)"
        if self.error_code is not None and not isinstance(self.error_code, str):
            return "error_code must be a string"
        if not number(self.delay) or not 0 <= self.delay <= 300:
            return "delay must be a number of seconds in 0..300"
        if not isinstance(self.drop, bool) or not isinstance(self.after, bool):
            return "drop and after must be true or false"
        if not isinstance(self.times, int) or isinstance(self.times, bool) or not 1 <= self.times <= 1_000_000:
            return "times must be an integer in 1..1000000"
        if self.retry_after is not None and (not number(self.retry_after) or not 0 <= self.retry_after <= 300):
            return "retry_after must be a number of seconds in 0..300"
        if not isinstance(self.hits, int):
            return "hits must be an integer"
        return None

    def matches(self, req: Request) -> bool:
        return (self.times > 0 and (self.method is None or self.method == req.method)
                and (self._regex is None or self._regex.search(req.path) is not None))

    @classmethod
    def from_json(cls, spec: Any) -> Fault:
        """A fault from the admin endpoint's JSON body (ValueError or TypeError naming the problem)."""
        if not isinstance(spec, dict):
            raise TypeError("invalid fault: the body must be a JSON object")
        allowed = {f for f in cls.__dataclass_fields__ if not f.startswith("_") and f != "hits"}
        unknown = sorted(set(spec) - allowed)
        if unknown:
            raise ValueError(f"invalid fault: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(allowed))}")
        return cls(**spec)


class App:
    """WSGI callable holding the router, the store, credentials and faults."""

    def __init__(self, store: Store, principals: Iterable[Principal], users: Iterable[User], *,
                 region: str = "cn-north-4", max_skew: float = 900.0) -> None:
        self.store = store
        self.principals = {p.ak: p for p in principals}
        self.users = list(users)
        self.region = region
        self.max_skew = max_skew
        self.tokens: dict[str, dict[str, Any]] = {}
        self.faults: list[Fault] = []
        self.counts: dict[str, int] = {}
        self._lock = threading.Lock()
        self.router = Router(reserved=RESERVED_ROUTES)
        start = _tasks.make_import_starter(store)
        _data.register(self.router, store, start)
        _tasks.register(self.router, store, start)
        from mafmt.emulator import (  # training, algorithms, models, services (api.md §11-14, official v2)
            _algorithms,
            _services_v2,
            _serving,
            _training,
            _training_ops,
            _training_v1,
        )

        _training.register(self.router, store)
        _training_ops.register(self.router, store)
        _algorithms.register(self.router, store)
        _services_v2.register(self.router, store)
        _training_v1.register(self.router, store)
        _serving.register(self.router, store)

    def __repr__(self) -> str:
        return f"App(principals={list(self.principals.values())!r}, users={len(self.users)})"

    # ---------------------------------------------------------------- WSGI

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        req = read_request(environ)
        req.params = dict(split_query(req.raw_query))
        path = unquote(req.path)
        if path.startswith("/_emulator/"):
            return respond(start_response, self._admin(req, path), self.store.clock())
        fault = self._take_fault(req)
        if fault is not None and not fault.after:
            early = self._fire(fault)
            if early is not None:
                return respond(start_response, early, self.store.clock())
        with self._lock:
            key = f"{req.method} {path}"
            self.counts[key] = self.counts.get(key, 0) + 1
        try:
            if path.startswith("/v3/"):
                resp = self._iam(req, path)
            else:
                self._authenticate(req, path)
                handler, req.route = self.router.match(req.method, path)
                resp = handler(req)
        except ApiError as exc:
            resp = Response(exc.status, exc.body or {"error_code": exc.code, "error_msg": exc.msg})
        except Exception:
            log.exception("emulator error on %s %s", req.method, path)
            resp = Response(500, {"error_code": "ModelArts.0010", "error_msg": "internal error"})
        if fault is not None and fault.after:
            resp = self._fire(fault) or resp
        return respond(start_response, resp, self.store.clock())

    @staticmethod
    def _fire(fault: Fault) -> Response | None:
        """Apply ``fault``: sleep, then drop (raises :class:`Drop`) or the error answer."""
        if fault.delay:
            time.sleep(fault.delay)
        if fault.drop:
            raise Drop()
        if fault.status:
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            code = fault.error_code or ("ModelArts.2799" if fault.status == 429 else "ModelArts.0010")
            return Response(fault.status, {"error_code": code, "error_msg": "injected fault"}, headers)
        return None

    def _take_fault(self, req: Request) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.matches(req):
                    fault.times -= 1
                    fault.hits += 1
                    return fault
        return None

    # ---------------------------------------------------------------- admin

    def _admin(self, req: Request, path: str) -> Response:
        """The test-control endpoint: needs the emulator's own credentials (like any call)."""
        try:
            self._identify(req, path)
            if path == "/_emulator/faults" and req.method == "POST":
                try:
                    fault = Fault.from_json(req.json())
                except (ValueError, TypeError) as exc:
                    raise ApiError(400, "ModelArts.0101", str(exc)) from None
                with self._lock:
                    self.faults.append(fault)
                    return Response(200, {"faults": len(self.faults)})
            if path == "/_emulator/faults" and req.method == "DELETE":
                with self._lock:
                    self.faults.clear()
                return Response(204)
            if path == "/_emulator/fail" and req.method == "POST":
                spec = req.json()
                if not isinstance(spec, dict) or not isinstance(spec.get("kind"), str):
                    raise ApiError(400, "ModelArts.0101", "the body must be a JSON object with a kind")
                with self.store.lock:
                    self.store.forced_failures.append(spec)
                return Response(200, {"forced": len(self.store.forced_failures)})
            if path == "/_emulator/state" and req.method == "GET":
                with self.store.lock:
                    return Response(200, {"datasets": len(self.store.datasets), "requests": dict(self.counts)})
            raise ApiError(404, "ModelArts.0104", f"no such admin call: {req.method} {path}")
        except ApiError as exc:
            return Response(exc.status, exc.body or {"error_code": exc.code, "error_msg": exc.msg})

    # ---------------------------------------------------------------- IAM

    def _iam(self, req: Request, path: str) -> Response:
        if path.rstrip("/") == "/v3/auth/tokens" and req.method == "POST":
            return self._issue_token(req)
        if path.rstrip("/") == "/v3/projects" and req.method == "GET":
            ident = self._identify(req, path)
            name = req.params.get("name")
            projects = [{"id": ident["project_id"], "name": self.region, "enabled": True, "is_domain": False}]
            return Response(200, {"projects": [p for p in projects if not name or p["name"] == name]})
        raise ApiError(404, "IAM.0001", f"no such IAM API: {req.method} {path}")

    def _issue_token(self, req: Request) -> Response:
        try:
            ident = req.json()["auth"]["identity"]["password"]["user"]
            scope = req.json()["auth"].get("scope", {}).get("project", {})
            name, password = ident["name"], ident["password"]
            domain = (ident.get("domain") or {}).get("name") or name
        except (KeyError, TypeError):
            raise ApiError(400, "IAM.0007", "malformed token request") from None
        user = next((u for u in self.users if u.user == name and (u.domain or u.user) == domain), None)
        if user is None or not hmac.compare_digest(user.password.encode(), str(password).encode()):
            raise ApiError(401, "IAM.0011", "The username or password is incorrect")
        if scope.get("id") not in (None, user.project_id) or scope.get("name") not in (None, user.region):
            raise ApiError(401, "IAM.0012", "no such project for this user")
        token = "MII" + secrets.token_urlsafe(72)
        expires = self.store.clock() + 24 * 3600
        self.tokens[token] = {"project_id": user.project_id, "expires": expires, "user": user.user}
        stamp = datetime.fromtimestamp(expires, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        body = {"token": {"expires_at": stamp, "methods": ["password"],
                          "project": {"id": user.project_id, "name": user.region, "domain": {"name": domain}},
                          "user": {"name": user.user, "domain": {"name": domain}}}}
        return Response(201, body, {"X-Subject-Token": token})

    # ---------------------------------------------------------------- authentication

    def _identify(self, req: Request, path: str) -> dict[str, Any]:
        token = req.header("x-auth-token")
        if token:
            info = self.tokens.get(token)
            if info is None:
                raise ApiError(401, "ModelArts.0203", "Invalid token")
            if self.store.clock() >= info["expires"]:
                raise ApiError(401, "ModelArts.0202", "Token expired")
            return info
        value = req.header("authorization")
        if not value:
            raise ApiError(401, "ModelArts.0205", "No authorization header")
        parts = parse_authorization(value)
        if parts is None:
            raise ApiError(401, "ModelArts.0206", "Malformed authorization header")
        principal = self.principals.get(parts["Access"])
        if principal is None:
            raise ApiError(401, "ModelArts.3801", "AK/SK credential does not exist")
        date = req.header("x-sdk-date") or ""
        try:
            when = datetime.strptime(date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).timestamp()
        except ValueError:
            raise ApiError(401, "ModelArts.0206", "X-Sdk-Date missing or malformed") from None
        if abs(self.store.clock() - when) > self.max_skew:
            raise ApiError(401, "ModelArts.0206", "X-Sdk-Date too far from the server clock")
        names = parts["SignedHeaders"].split(";")
        missing = [n for n in names if req.header(n) is None]
        if missing:
            raise ApiError(401, "ModelArts.0206", f"signed header(s) missing: {', '.join(missing)}")
        headers = {n: req.header(n) or "" for n in names}
        text, _ = canonical_request(req.method, req.path, split_query(req.raw_query), headers, req.body, names)
        if not hmac.compare_digest(signature(text, date, principal.sk), parts["Signature"]):
            raise ApiError(403, "ModelArts.0206", "Invalid AK/SK: signature does not match")
        if principal.security_token and req.header("x-security-token") != principal.security_token:
            raise ApiError(401, "ModelArts.0206", "security token missing or wrong")
        return {"project_id": principal.project_id, "ak": principal.ak, "signed_project": "x-project-id" in names}

    def _authenticate(self, req: Request, path: str) -> None:
        ident = self._identify(req, path)
        m = _PROJECT_PATH.match(path)
        if m and ident["project_id"] and m.group(1) != ident["project_id"]:
            raise ApiError(403, "ModelArts.0210", "Project ID in the URL does not match the credential")
        if ident.get("signed_project") and m and req.header("x-project-id") != m.group(1):
            raise ApiError(403, "ModelArts.0210", "X-Project-Id does not match the URL")
        req.identity = ident
