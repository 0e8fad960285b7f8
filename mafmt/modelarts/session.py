"""``modelarts.session.Session``: authentication and the OBS helper (SDK chapters 5–6).

::

    from mafmt.modelarts.session import Session
    session = Session(access_key=AK, secret_key=SK, project_id=PID, region_name="cn-north-4")
    session = Session(username="acct", password=PW, region_name=..., project_id=...)     # account
    session = Session(account="acct", username="user", password=PW, ...)                 # IAM user
    session = Session()            # everything from HUAWEICLOUD_SDK_* / MAFMT_* variables

Arguments override the environment. ``session.obs`` moves files through
:mod:`mafmt.storage`; ``session.client`` is the underlying :class:`mafmt.client.ModelArts`.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from mafmt.client import ModelArts
from mafmt.client._config import Config, mask

__all__ = ["OBS", "Session"]


class OBS:
    """``session.obs``: copy, upload and download files and folders (SDK chapter 6).

    Paths on OBS start with ``obs://``; folder arguments end with ``/`` where the SDK
    requires it. Failures raise :class:`mafmt.errors.StorageError`.
    """

    def __init__(self, session: Session) -> None:
        self._session = session

    def _ready(self) -> None:
        self._session._configure_obs()

    def copy(self, src_path: str, dst_path: str, keep_last_dir: bool = True, **options: Any) -> Any:
        """Upload or download a file or folder (``keep_last_dir``: keep the source folder's name)."""
        from mafmt.storage import transfer

        self._ready()
        return transfer.copy(src_path, dst_path, keep_last_dir=keep_last_dir, **options)

    def upload_file(self, src_local_file: str, dst_obs_dir: str, **options: Any) -> Any:
        """Upload one file into an OBS folder (``dst_obs_dir`` ends with ``/``)."""
        from mafmt.storage import transfer

        self._ready()
        return transfer.upload_file(src_local_file, dst_obs_dir, **options)

    def upload_dir(self, src_local_dir: str, dst_obs_dir: str, **options: Any) -> Any:
        """Upload a folder including its last component."""
        from mafmt.storage import transfer

        self._ready()
        return transfer.upload_dir(src_local_dir, dst_obs_dir, **options)

    def download_file(self, src_obs_file: str, dst_local_dir: str, **options: Any) -> Any:
        """Download one object into a local folder (``dst_local_dir`` ends with ``/``)."""
        from mafmt.storage import transfer

        self._ready()
        return transfer.download_file(src_obs_file, dst_local_dir, **options)

    def download_dir(self, src_obs_dir: str, dst_local_dir: str, **options: Any) -> Any:
        """Download an OBS folder including its last component."""
        from mafmt.storage import transfer

        self._ready()
        return transfer.download_dir(src_obs_dir, dst_local_dir, **options)


class Session:
    """Credentials, region and project for every facade call.

    Args:
        access_key, secret_key: AK/SK (signed requests); ``security_token`` for temporary keys.
        username, password, account: password login through IAM (``account`` for IAM users).
        project_id, region_name: the project and region.
        endpoint, iam_endpoint, obs_endpoint: base URLs (default from the region or
            ``MAFMT_*_ENDPOINT``).
    """

    def __init__(
        self,
        access_key: str | None = None,
        secret_key: str | None = None,
        project_id: str | None = None,
        region_name: str | None = None,
        username: str | None = None,
        password: str | None = None,
        account: str | None = None,
        *,
        security_token: str | None = None,
        endpoint: str | None = None,
        iam_endpoint: str | None = None,
        obs_endpoint: str | None = None,
        **options: Any,
    ) -> None:
        self._explicit_obs = bool(obs_endpoint)
        self.config = Config.resolve(
            ak=access_key, sk=secret_key, security_token=security_token, project_id=project_id,
            region=region_name, username=username, password=password, account=account, endpoint=endpoint,
            iam_endpoint=iam_endpoint, obs_endpoint=obs_endpoint, **options,
        )
        self._obs_configured = False

    def __repr__(self) -> str:
        return (f"Session(access_key={mask(self.access_key)!r}, project_id={self.project_id!r}, "
                f"region_name={self.region_name!r}, auth={self.config.mode!r})")

    # attributes the SDK exposes (and mafmt.storage.config.ObsConfig.from_session reads)
    @property
    def access_key(self) -> str | None:
        return self.config.ak

    @property
    def secret_key(self) -> str | None:
        return self.config.sk

    @property
    def security_token(self) -> str | None:
        return self.config.security_token

    @property
    def project_id(self) -> str | None:
        return self.config.project_id or (self.client.transport.project_id if self.config.mode == "password" else None)

    @property
    def region_name(self) -> str | None:
        return self.config.region

    @property
    def obs_endpoint(self) -> str | None:
        return self.config.obs_endpoint

    @cached_property
    def client(self) -> ModelArts:
        """The ModelArts API client of this session (created on first use)."""
        return ModelArts(self.config)

    @cached_property
    def obs(self) -> OBS:
        """The OBS helper."""
        return OBS(self)

    def _configure_obs(self) -> None:
        """Point ``obs://`` at this session's OBS when the session was given an
        ``obs_endpoint``; otherwise the environment's configuration (``MAFMT_OBS_*``) is used."""
        if self._obs_configured or not self._explicit_obs:
            return
        from mafmt import storage
        from mafmt.storage.config import ObsConfig

        storage.configure_obs(ObsConfig.from_session(self))
        self._obs_configured = True

    def close(self) -> None:
        """Close the HTTP connections."""
        if "client" in self.__dict__:
            self.client.close()
