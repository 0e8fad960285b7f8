"""The official ``huaweicloudsdkmodelarts`` models as a wire-format oracle (tests only).

The generated SDK describes every request and response: ``openapi_types`` (attribute ->
type), ``attribute_map`` (attribute -> JSON key), and, in ``__init__``, required fields
are the ones assigned unconditionally (optional ones sit under ``if x is not None``).
:func:`problems` walks a JSON value against such a model and lists what differs: an
unknown key, a wrong type, a missing required field (for requests).

:func:`operations` lists the official operations (name, method, path template, request
and response model) by asking ``ModelArtsClient._<op>_http_info`` itself.
"""

from __future__ import annotations

import functools
import inspect
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

v1 = pytest.importorskip("huaweicloudsdkmodelarts.v1")

#: path prefixes of the official operations in mafmt's areas (training, algorithms,
#: inference services); 103 operations in huaweicloudsdkmodelarts 3.1.219
AREAS = re.compile(r"^/v2/\{project_id\}/(training-job|training-jobs|modelarts-training-job|algorithms|services|"
                   r"modelarts-service-v2|search-algorithms|training-experiment|training-event|training-quotas|"
                   r"training-pool)")


@dataclass(frozen=True)
class Operation:
    """One official operation."""

    name: str  # CamelCase, e.g. ListTrainingJobTasks
    method: str
    path: str  # template with {project_id} and the path parameters
    request: str  # request model class name
    response: str  # response model class name

    def regex(self) -> re.Pattern[str]:
        """Matches a concrete path of this operation."""
        return re.compile("^" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(self.path)) + "/?$")

    @property
    def path_params(self) -> set[str]:
        return set(re.findall(r"\{(\w+)\}", self.path)) - {"project_id"}


@functools.cache
def operations() -> tuple[Operation, ...]:
    """Every operation of ``ModelArtsClient`` (from its own ``_*_http_info`` builders)."""
    client = v1.ModelArtsClient
    out = []
    for attr in sorted(dir(client)):
        m = re.fullmatch(r"_(\w+)_http_info", attr)
        if not m:
            continue
        camel = "".join(w.capitalize() for w in m.group(1).split("_"))
        req_cls = getattr(v1, camel + "Request", None)
        if req_cls is None:
            continue
        info = getattr(client, attr)(req_cls())
        out.append(Operation(camel, info["method"], info["resource_path"], req_cls.__name__, info["response_type"]))
    return tuple(out)


def in_areas() -> list[Operation]:
    """The official operations in mafmt's areas."""
    return [op for op in operations() if AREAS.match(op.path)]


def find(method: str, path: str) -> Operation | None:
    """The operation a concrete request (``/v2/<pid>/...``) is an instance of; literal
    path words win over parameters, as on the service."""
    path = re.sub(r"^/(v\d)/[^/]+/", r"/\1/{project_id}/", path.split("?")[0]).rstrip("/")
    best = None
    for op in operations():
        if op.method == method and op.regex().match(path):
            literal = len([s for s in op.path.split("/") if s and not s.startswith("{")])
            if best is None or literal > best[0]:
                best = (literal, op)
    return best[1] if best else None


def model(name: str) -> type:
    return getattr(v1, name)


@functools.cache
def required(name: str) -> frozenset[str]:
    """Attributes the model's ``__init__`` assigns unconditionally (the required ones)."""
    cls = model(name)
    src = inspect.getsource(cls.__init__)
    out = set()
    for attr in cls.openapi_types:
        if re.search(rf"^\s+self\.{attr} = {attr}$", src, re.MULTILINE) and not re.search(
                rf"if {attr} is not None:\n\s+self\.{attr} = {attr}", src):
            out.add(attr)
    return frozenset(out)


def body_type(response_or_request: str) -> str:
    """The type that describes the JSON body of a request/response model: its ``body``
    attribute when it has one, else the model itself."""
    cls = model(response_or_request)
    types = dict(cls.openapi_types)
    if "body" in types:
        return types["body"]
    return response_or_request


def query_names(op: Operation) -> dict[str, str]:
    """JSON name -> type of the request model's query parameters."""
    cls = model(op.request)
    return {cls.attribute_map[a]: t for a, t in cls.openapi_types.items()
            if a != "body" and a not in op.path_params and not cls.attribute_map[a].lower().startswith("x-")}


_SCALARS = {"str": str, "int": int, "float": (int, float), "bool": bool}


def problems(value: Any, type_: str, path: str = "$", *, request: bool = False) -> list[str]:
    """Differences between JSON ``value`` and the official type ``type_`` (``str``,
    ``list[X]``, ``dict(str, X)``, a model name...). With ``request``, a missing
    required field is a problem too."""
    if value is None:
        return []
    m = re.fullmatch(r"list\[(.+)\]", type_)
    if m:
        if not isinstance(value, list):
            return [f"{path}: expected a list ({type_}), got {type(value).__name__}"]
        return [p for i, x in enumerate(value) for p in problems(x, m.group(1), f"{path}[{i}]", request=request)]
    m = re.fullmatch(r"dict\(str, (.+)\)", type_)
    if m:
        if not isinstance(value, dict):
            return [f"{path}: expected a map ({type_}), got {type(value).__name__}"]
        return [p for k, x in value.items() for p in problems(x, m.group(1), f"{path}.{k}", request=request)]
    if type_ == "object":
        return []
    if type_ in ("datetime", "date"):
        if not isinstance(value, str):
            return [f"{path}: expected an ISO 8601 {type_} string, got {type(value).__name__}"]
        # the official deserializer appends "Z" to a date-time that lacks it: UTC, no offset
        text = value if type_ == "date" or value.endswith("Z") else value + "Z"
        try:
            datetime.fromisoformat(text)
        except ValueError:
            return [f"{path}: {value!r} is not what the official client reads as a {type_} (UTC, ...Z)"]
        return []
    if type_ in _SCALARS:
        ok = isinstance(value, _SCALARS[type_]) and not (type_ != "bool" and isinstance(value, bool))
        return [] if ok else [f"{path}: expected {type_}, got {type(value).__name__} {value!r:.40}"]
    cls = getattr(v1, type_, None)
    if cls is None:
        return [f"{path}: unknown official type {type_}"]
    if not isinstance(value, dict):
        return [f"{path}: expected an object ({type_}), got {type(value).__name__}"]
    by_key = {cls.attribute_map[a]: a for a in cls.openapi_types}
    out = []
    for key, x in value.items():
        attr = by_key.get(key)
        if attr is None:
            out.append(f"{path}.{key}: not a field of {type_}")
            continue
        out.extend(problems(x, cls.openapi_types[attr], f"{path}.{key}", request=request))
    if request:
        for attr in required(type_):
            key = cls.attribute_map[attr]
            if value.get(key) is None:
                out.append(f"{path}.{key}: required by {type_}, missing")
    return out


def build(type_: str, value: Any) -> Any:
    """An official model instance (or list/map of them) from a JSON ``value``; a key the
    model does not have raises KeyError."""
    if value is None:
        return None
    m = re.fullmatch(r"list\[(.+)\]", type_)
    if m:
        return [build(m.group(1), x) for x in value]
    m = re.fullmatch(r"dict\(str, (.+)\)", type_)
    if m:
        return {k: build(m.group(1), x) for k, x in value.items()}
    cls = getattr(v1, type_, None)
    if cls is None:
        return value
    by_key = {cls.attribute_map[a]: a for a in cls.openapi_types}
    kwargs = {}
    for key, x in value.items():
        attr = by_key[key]
        kwargs[attr] = build(cls.openapi_types[attr], x)
    return cls(**kwargs)


def request(op_name: str, body: Any = None, **params: Any) -> Any:
    """The official request object of operation ``op_name`` with its body built from JSON."""
    op = next(o for o in operations() if o.name == op_name)
    cls = model(op.request)
    if body is not None:
        params["body"] = build(cls.openapi_types["body"], body)
    return cls(**params)
