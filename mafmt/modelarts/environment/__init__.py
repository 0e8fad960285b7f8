"""``modelarts.environment``: the Python environment a local run or model needs."""

from __future__ import annotations

from typing import Any

from mafmt.modelarts.environment.conda_env import CondaDependencies

__all__ = ["CondaDependencies", "Environment"]


class Environment:
    """A named environment; ``conda`` holds its :class:`CondaDependencies`.

    mafmt does not build conda environments: the description is kept (and turned into
    model ``dependencies`` where meaningful); local runs use the current interpreter or
    the estimator's ``script_interpreter``.
    """

    def __init__(self, name: str, conda: CondaDependencies | None = None) -> None:
        self.name = name
        self.conda = conda

    def __repr__(self) -> str:
        return f"Environment(name={self.name!r}, conda={self.conda!r})"

    def pip_dependencies(self) -> list[dict[str, Any]]:
        """The pip packages as model ``dependencies`` (api.md §13.1)."""
        return self.conda.as_dependencies() if self.conda else []
