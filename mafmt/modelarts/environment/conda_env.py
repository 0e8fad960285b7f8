"""``modelarts.environment.conda_env.CondaDependencies``."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["CondaDependencies"]

_SPEC = re.compile(r"^\s*([A-Za-z0-9_.\-\[\]]+)\s*(==|>=|<=)?\s*([^\s;]*)\s*$")
_RESTRAINT = {"==": "EXACT", ">=": "ATLEAST", "<=": "ATMOST"}


class CondaDependencies:
    """pip packages, conda packages and channels of an :class:`Environment`."""

    def __init__(self, pip_packages: list[str] | None = None, conda_packages: list[str] | None = None,
                 channels: list[str] | None = None) -> None:
        self.pip_packages = list(pip_packages or [])
        self.conda_packages = list(conda_packages or [])
        self.channels = list(channels or [])

    @classmethod
    def create(cls, pip_packages: list[str] | None = None, conda_packages: list[str] | None = None,
               channels: list[str] | None = None) -> CondaDependencies:
        return cls(pip_packages, conda_packages, channels)

    def __repr__(self) -> str:
        return f"CondaDependencies(pip_packages={self.pip_packages!r}, conda_packages={self.conda_packages!r})"

    def as_dependencies(self) -> list[dict[str, Any]]:
        """``[{installer: pip, packages: [{package_name, package_version, restraint}]}]``;
        ``==``/``>=``/``<=`` become EXACT/ATLEAST/ATMOST, other specifiers are dropped."""
        packages = []
        for spec in self.pip_packages:
            m = _SPEC.match(spec)
            if not m:
                continue
            pkg: dict[str, Any] = {"package_name": m.group(1)}
            if m.group(2) and m.group(3):
                pkg.update(package_version=m.group(3), restraint=_RESTRAINT[m.group(2)])
            packages.append(pkg)
        return [{"installer": "pip", "packages": packages}] if packages else []
