"""HTTP connections for esdk-obs-python with separate connect and read timeouts.

``ObsClient`` opens ``http.client`` connections with one ``timeout`` for everything, so a
server that drops SYN packets costs the full read timeout per attempt. :class:`TimeoutClient`
is an ``ObsClient`` whose connections:

- give up connecting (TCP and TLS handshake) after ``connect_timeout`` seconds, raising
  :class:`ConnectTimeout`;
- then wait at most ``timeout`` seconds for each read or write on the open socket;
- check a pooled keep-alive connection before reusing it and reconnect when the server
  closed it meanwhile, so an idle pool never looks like a dead server.

Only the HTTP/1.1 path without a proxy is replaced; the SDK's other paths are unchanged.
"""

from __future__ import annotations

import http.client
import select
import socket
from typing import Any

from obs import ObsClient  # type: ignore[import-untyped]

__all__ = ["ConnectTimeout", "TimeoutClient"]


class ConnectTimeout(ConnectionError):
    """No connection could be opened within the connect timeout."""


def _dropped(sock: socket.socket) -> bool:
    """Whether an idle connection's socket is readable, i.e. closed (or garbled) by the server."""
    try:
        if hasattr(select, "poll"):
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            return bool(poller.poll(0))
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


class _TimeoutsMixin:
    """Connect with ``connect_timeout``, then use ``timeout`` on the socket."""

    connect_timeout: float
    timeout: float | None
    sock: Any

    def connect(self) -> None:
        read_timeout = self.timeout
        self.timeout = self.connect_timeout
        try:
            super().connect()  # type: ignore[misc]
        except TimeoutError:
            raise ConnectTimeout(f"no connection within {self.connect_timeout:g} s") from None
        finally:
            self.timeout = read_timeout
        self.sock.settimeout(read_timeout)

    def putrequest(self, *args: Any, **kwargs: Any) -> None:
        if self.sock is not None and _dropped(self.sock):
            self.close()  # type: ignore[attr-defined]  # reopened by send()
        super().putrequest(*args, **kwargs)  # type: ignore[misc]


class _HTTPConnection(_TimeoutsMixin, http.client.HTTPConnection):
    def __init__(self, host: str, port: int | None, *, timeout: float, connect_timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.connect_timeout = connect_timeout


class _HTTPSConnection(_TimeoutsMixin, http.client.HTTPSConnection):
    def __init__(self, host: str, port: int | None, *, timeout: float, connect_timeout: float,
                 context: Any = None) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self.connect_timeout = connect_timeout


class TimeoutClient(ObsClient):  # type: ignore[misc]
    """``ObsClient`` plus ``connect_timeout=`` (seconds to open a connection); ``timeout``
    keeps bounding every read and write after that."""

    def __init__(self, *args: Any, connect_timeout: float, **kwargs: Any) -> None:
        self.connect_timeout = connect_timeout
        super().__init__(*args, **kwargs)

    def _get_server_connection_use_http1x(self, is_secure: bool, server: str, port: int, proxy_host: str | None,
                                          proxy_port: int | None) -> Any:
        if proxy_host is not None and proxy_port is not None:
            return super()._get_server_connection_use_http1x(is_secure, server, port, proxy_host, proxy_port)
        if is_secure:
            return _HTTPSConnection(server, port, timeout=self.timeout, connect_timeout=self.connect_timeout,
                                    context=self.context)
        return _HTTPConnection(server, port, timeout=self.timeout, connect_timeout=self.connect_timeout)
