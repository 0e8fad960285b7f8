"""The client class: one :class:`Transport` and the resources on it."""

from __future__ import annotations

from functools import cached_property
from typing import Any, Self

import httpx

from mafmt.client._config import Config
from mafmt.client._transport import Transport

__all__ = ["ModelArts"]


class ModelArts:
    """The client. Keyword arguments override the environment (see :class:`Config`):
    ``ak``, ``sk``, ``security_token``, ``project_id``, ``region``, ``username``,
    ``password``, ``account``, ``endpoint``, ``iam_endpoint``, ``obs_endpoint``,
    ``timeout``, ``max_retries``."""

    def __init__(self, config: Config | None = None, *, http: httpx.Client | None = None, **options: Any) -> None:
        self.config = config or Config.resolve(**options)
        self.config.require_credentials()
        self.transport = Transport(self.config, http=http)

    def __repr__(self) -> str:
        return f"ModelArts({self.config!r})"

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @cached_property
    def datasets(self) -> Any:
        from mafmt.client.datasets import Datasets

        return Datasets(self.transport)

    @cached_property
    def versions(self) -> Any:
        from mafmt.client.versions import Versions

        return Versions(self.transport)

    @cached_property
    def samples(self) -> Any:
        from mafmt.client.samples import Samples

        return Samples(self.transport)

    @cached_property
    def import_tasks(self) -> Any:
        from mafmt.client.import_tasks import ImportTasks

        return ImportTasks(self.transport)

    @cached_property
    def export_tasks(self) -> Any:
        from mafmt.client.export_tasks import ExportTasks

        return ExportTasks(self.transport)

    @cached_property
    def label_tasks(self) -> Any:
        from mafmt.client.label_tasks import LabelTasks

        return LabelTasks(self.transport)

    @cached_property
    def training_jobs(self) -> Any:
        """Training jobs, new version (v2)."""
        from mafmt.client.training_jobs import TrainingJobs

        return TrainingJobs(self.transport)

    @cached_property
    def training_v1(self) -> Any:
        """Legacy training: jobs, versions, configurations, visualization jobs, catalogues."""
        from mafmt.client.training_v1 import TrainingV1

        return TrainingV1(self.transport)

    @cached_property
    def algorithms(self) -> Any:
        """Algorithms, v2 (reusable training configurations)."""
        from mafmt.client.algorithms import Algorithms

        return Algorithms(self.transport)

    @cached_property
    def infer_services(self) -> Any:
        """Inference services, v2, with their deployments."""
        from mafmt.client.infer_services import InferServices

        return InferServices(self.transport)

    @cached_property
    def models(self) -> Any:
        from mafmt.client.models import Models

        return Models(self.transport)

    @cached_property
    def services(self) -> Any:
        from mafmt.client.services import Services

        return Services(self.transport)
