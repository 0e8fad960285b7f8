"""A local ModelArts: a real HTTP server on 127.0.0.1 with in-memory state.

It verifies AK/SK signatures and IAM tokens, validates requests, pages and filters
lists, and runs import/export/publish tasks for real on a background thread, reading
and writing OBS through :mod:`mafmt.storage` (or a local folder standing in for OBS
with ``obs_root``). Faults (latency, 429, 5xx, dropped connections) can be injected::

    with Emulator(ak="AK", sk="SK", project_id="p" * 32) as emu:
        env = emu.env()                       # what a client needs
        emu.add_fault(method="POST", status=503, times=2)
        emu.fail_next("import", error_msg="boom")
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Iterable
from typing import Any, Self

from mafmt.emulator._app import App, Fault, Principal, User
from mafmt.emulator._http import serve
from mafmt.emulator._state import Store

__all__ = ["Emulator", "Fault", "Principal", "User"]


class Emulator:
    """The emulator server.

    Args:
        ak, sk, project_id, region: the credentials it accepts; default to the
            ``HUAWEICLOUD_SDK_*`` environment variables, else random values.
        security_token: if set, AK/SK requests must carry it (temporary credentials).
        users: IAM users for password logins; by default one from
            ``HUAWEICLOUD_SDK_USERNAME``/``_PASSWORD``/``_ACCOUNT`` when those are set.
        port: TCP port on 127.0.0.1 (0: any free port).
        obs_root: a local folder that stands in for OBS (``/bucket/key`` ->
            ``obs_root/bucket/key``); None: use ``obs://`` through mafmt.storage.
        obs_endpoint: the OBS endpoint clients should use (reported by :meth:`env`).
        clock: time source (seconds), injectable for expiry tests.
        task_delay: seconds each background task waits before it runs.
        publish_interval: minimum seconds between two versions of one dataset (0: no limit).
        max_skew: accepted distance between ``X-Sdk-Date`` and the clock, seconds.
    """

    def __init__(
        self,
        *,
        ak: str | None = None,
        sk: str | None = None,
        project_id: str | None = None,
        region: str | None = None,
        security_token: str | None = None,
        users: Iterable[User] | None = None,
        port: int = 0,
        obs_root: str | None = None,
        obs_endpoint: str | None = None,
        clock: Callable[[], float] = time.time,
        task_delay: float = 0.0,
        publish_interval: float = 0.0,
        max_skew: float = 900.0,
    ) -> None:
        env = os.environ
        self.ak = ak or env.get("HUAWEICLOUD_SDK_AK") or "MAFMT" + secrets.token_hex(8).upper()
        self._sk = sk or env.get("HUAWEICLOUD_SDK_SK") or ""
        #: True when no secret key was given and a random one was made (then env() must show it)
        self.generated_sk = not self._sk
        self._sk = self._sk or secrets.token_urlsafe(30)
        self.project_id = project_id or env.get("HUAWEICLOUD_SDK_PROJECT_ID") or secrets.token_hex(16)
        self.region = region or env.get("HUAWEICLOUD_SDK_REGION") or "cn-north-4"
        self._security_token = security_token
        if users is None:
            users = []
            if env.get("HUAWEICLOUD_SDK_USERNAME") and env.get("HUAWEICLOUD_SDK_PASSWORD"):
                users = [User(env["HUAWEICLOUD_SDK_USERNAME"], env["HUAWEICLOUD_SDK_PASSWORD"],
                              env.get("HUAWEICLOUD_SDK_ACCOUNT") or "", self.project_id, self.region)]
        self.users = [u if u.project_id else User(u.user, u.password, u.domain, self.project_id, self.region)
                      for u in users]
        self.port = port
        self.obs_endpoint = obs_endpoint
        self.store = Store(clock=clock, obs_root=obs_root, task_delay=task_delay, publish_interval=publish_interval)
        self.app = App(self.store, [Principal(self.ak, self._sk, self.project_id, security_token)], self.users,
                       region=self.region, max_skew=max_skew)
        self._server: Any = None
        self._thread: Any = None

    def __repr__(self) -> str:
        from mafmt.client._config import mask

        return (f"Emulator(url={self.url if self._server else None!r}, ak={mask(self.ak)!r}, "
                f"project_id={self.project_id!r})")

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:8123``."""
        if self._server is None:
            raise RuntimeError("emulator not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Self:
        """Serve in a daemon thread; returns self."""
        if self._server is None:
            self._server, self._thread = serve(self.app, "127.0.0.1", self.port)
        return self

    def stop(self) -> None:
        """Stop serving and the task worker."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self.store.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def env(self, *, secrets_too: bool = True) -> dict[str, str]:
        """Environment variables that point a client at this emulator."""
        out = {
            "MAFMT_MODELARTS_ENDPOINT": self.url,
            "MAFMT_IAM_ENDPOINT": self.url,
            "HUAWEICLOUD_SDK_PROJECT_ID": self.project_id,
            "HUAWEICLOUD_SDK_REGION": self.region,
            "HUAWEICLOUD_SDK_AK": self.ak,
        }
        if secrets_too:
            out["HUAWEICLOUD_SDK_SK"] = self._sk
            if self._security_token:
                out["HUAWEICLOUD_SDK_SECURITY_TOKEN"] = self._security_token
        if self.obs_endpoint:
            out["MAFMT_OBS_ENDPOINT"] = self.obs_endpoint
        return out

    def add_fault(self, **spec: Any) -> Fault:
        """Inject a fault (see :class:`Fault` for the keys); returns it (``hits`` counts firings).

        Raises:
            UsageError: an invalid setting (e.g. a ``path`` that is not a regular expression).
        """
        try:
            fault = Fault(**spec)
        except (TypeError, ValueError) as exc:
            from mafmt.errors import UsageError

            raise UsageError(str(exc)) from None
        with self.app._lock:
            self.app.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        """Remove every injected fault."""
        with self.app._lock:
            self.app.faults.clear()

    def fail_next(self, kind: str, **detail: Any) -> None:
        """Make the next ``kind`` task (``import``, ``export``, ``version``, ``training``,
        ``model``, ``service``) fail with ``error_code``/``error_msg`` from ``detail``."""
        with self.store.lock:
            self.store.forced_failures.append({"kind": kind, **detail})

    def request_count(self, method: str, path: str) -> int:
        """How many requests reached ``method path`` (after fault injection)."""
        return self.app.counts.get(f"{method.upper()} {path}", 0)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until no background task is queued or running."""
        return self.store.wait_idle(timeout)
