"""One call publishes a local dataset to ModelArts: :func:`publish`.

1. **Convert** SRC (any format mafmt reads) with :func:`mafmt.convert` into a fresh
   temporary folder: a manifest with its Pascal VOC files (the import layout every
   labeling type can use). Each image gets its place under ``PREFIX/images/`` and the
   manifest names images and VOC files by their ``s3://`` URIs, as ModelArts wants.
2. **Upload** the folder in parallel with :func:`mafmt.storage.copy`, skipping what is
   already there (same size and MD5), so a re-run uploads only what is missing.
3. **Create the dataset**, or reuse the one with that name (and labeling type):
   input ``PREFIX/images/``, output ``PREFIX/work/``.
4. **Import** the manifest with its labels and wait (an import of it that is still
   running, say from an interrupted run, is waited for instead of started again).
5. **Publish a version** — the named one is reused when it exists; without a name a new
   version is made only when the import changed something.

Samples are keyed by their object on ModelArts, so importing the same manifest again
re-labels the same samples: a re-run after an interruption makes no duplicate sample and
no second dataset.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from mafmt.errors import UsageError

__all__ = ["PublishResult", "publish"]

#: stages :func:`publish` reports to ``on_stage``
STAGES = ("convert", "upload", "dataset", "import", "version")


@dataclass
class PublishResult:
    """What :func:`publish` did."""

    dataset_id: str
    dataset_name: str
    dataset_created: bool
    version_id: str
    version_name: str
    version_created: bool
    manifest: str
    samples: int = 0
    imported: int = 0
    annotated: int = 0
    uploaded: int = 0
    upload_skipped: int = 0
    missing_images: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _split_target(target: str) -> tuple[str, str]:
    for scheme in ("obs://", "s3://", "s3a://"):
        if target.startswith(scheme):
            bucket, _, prefix = target[len(scheme):].partition("/")
            if not bucket or not prefix.strip("/"):
                break
            return bucket, prefix.strip("/") + "/"
    raise UsageError(f"the target must be obs://BUCKET/PREFIX/ (a folder below a bucket), not {target!r}")


def _link(src: str, dst: str) -> None:
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def _find_image(source: str, folder: str, src_dir: str, images: str | None) -> str | None:
    """The image file a sample names: where its (rebased) source points, else below
    ``images`` (the ``--images`` folder), SRC's folder or ``SRC/images/`` (COCO names
    images without saying where they are)."""
    path = os.path.abspath(os.path.join(folder, source))
    rel = os.path.relpath(path, src_dir) if path.startswith(src_dir + os.sep) else source
    roots = [r for r in (images, src_dir, os.path.join(src_dir, "images")) if r]
    for cand in (path, *(os.path.join(r, rel) for r in roots), *(os.path.join(r, os.path.basename(source))
                                                               for r in roots)):
        if os.path.isfile(cand):
            return os.path.abspath(cand)
    return None


def stage(src: str, folder: str, bucket: str, prefix: str, manifest_name: str, *, src_format: str | None = None,
          missing_images: str = "warn", images: str | None = None) -> tuple[int, list[str]]:
    """Write the upload folder: the converted manifest (sources and VOC files as
    ``s3://`` URIs) with its ``Annotations/`` and the images under ``images/``.
    Returns (samples, images not found)."""
    import mafmt
    from mafmt import storage

    raw = os.path.join(folder, manifest_name)
    mafmt.convert(src, raw, src_format=src_format, dst_format="manifest", write_voc=True)
    base = f"s3://{bucket}/{prefix}"
    with open(raw, encoding="utf-8") as fh:
        lines = [json.loads(line) for line in fh if line.strip()]
    local: dict[int, str] = {}
    for i, obj in enumerate(lines):
        source = obj.get("source", "")
        if not (storage.scheme_of(source) or source.startswith("content://")):
            local[i] = source
    src_dir = os.path.abspath(src if os.path.isdir(src) else os.path.dirname(src) or ".")
    found = {i: f for i, f in ((i, _find_image(p, folder, src_dir, images)) for i, p in local.items()) if f}
    guess = {i: os.path.abspath(os.path.join(folder, p)) for i, p in local.items()}
    missing = sorted({os.path.relpath(guess[i], src_dir) for i in local if i not in found})
    if missing and missing_images == "error":
        raise UsageError(f"{len(missing)} image(s) not found, e.g. {missing[0]} (use --missing-images warn|skip)")
    where = {i: found.get(i, guess[i]) for i in local}
    root = os.path.commonpath([os.path.dirname(p) for p in where.values()]) if where else folder
    out = []
    for i, obj in enumerate(lines):
        if i in local:
            if i not in found and missing_images == "skip":
                continue
            rel = os.path.relpath(where[i], root).replace(os.sep, "/")
            obj["source"] = f"{base}images/{rel}"
            if i in found:
                _link(found[i], os.path.join(folder, "images", *rel.split("/")))
        for ann in obj.get("annotation") or []:
            for key in ("annotation-loc", "annotation_loc"):
                loc = ann.get(key)
                if isinstance(loc, str) and not storage.scheme_of(loc):
                    path = os.path.abspath(os.path.join(folder, loc))
                    ann[key] = base + os.path.relpath(path, folder).replace(os.sep, "/")
        out.append(obj)
    with open(raw, "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(o, ensure_ascii=False, separators=(",", ":")) + "\n" for o in out)
    return len(out), missing


def publish(
    src: str | os.PathLike[str],
    target: str,
    *,
    dataset: str,
    dataset_type: str | int = "object_detection",
    version: str | None = None,
    src_format: str | None = None,
    images: str | None = None,
    description: str | None = None,
    missing_images: str = "warn",
    client: Any = None,
    workers: int | None = None,
    timeout: float = 3600.0,
    poll: float = 1.0,
    upload_progress: bool | None = False,
    on_stage: Callable[[str, str], None] | None = None,
    on_import: Callable[[dict[str, Any]], None] | None = None,
) -> PublishResult:
    """Convert, upload, import and publish ``src`` as ModelArts dataset ``dataset``.

    Args:
        src: a local dataset in any format mafmt reads (manifest, COCO, YOLO, VOC, ...).
        target: ``obs://bucket/prefix/``: images, manifest and VOC files go below it,
            the dataset's output to ``prefix/work/``.
        dataset: the dataset's name (reused when it exists with this labeling type).
        dataset_type: labeling type by name (``object_detection``) or number.
        version: version name (reused when it exists); None: ``V001``, ``V002``...
        images: folder holding the images, when SRC does not say where they are (COCO).
        missing_images: a sample whose image is not on disk: ``"warn"`` (keep it,
            listed in ``missing_images``), ``"skip"`` (leave it out) or ``"error"``.
        client: a :class:`mafmt.client.ModelArts` (default: one from the environment).
        upload_progress: the upload's progress line (None: only on a terminal).
        on_stage: called with (stage, message) as the work goes on (:data:`STAGES`).
        on_import: called with each state of the import task while it is waited for.

    Raises:
        UsageError: bad arguments, or a dataset of that name with another type.
        TaskFailedError, WaitTimeoutError, APIError, StorageError: a failed step; run
            again to resume.
    """
    from mafmt import storage
    from mafmt.client.codes import LABELING_TYPES, code_of

    if missing_images not in ("warn", "skip", "error"):
        raise UsageError(f"missing_images must be warn, skip or error, not {missing_images!r}")
    code = code_of(dataset_type, LABELING_TYPES, "labeling type")
    bucket, prefix = _split_target(target)
    src = os.fspath(src)
    if not os.path.exists(src):
        raise UsageError(f"{src}: no such file or folder")
    say = on_stage or (lambda stage, message: None)
    manifest_name = f"{dataset}.manifest"
    own = client is None
    if own:
        from mafmt.client import ModelArts

        client = ModelArts()
    try:
        with tempfile.TemporaryDirectory(prefix="mafmt-publish-") as folder:
            say("convert", f"converting {src}")
            samples, missing = stage(src, folder, bucket, prefix, manifest_name, src_format=src_format,
                                     missing_images=missing_images, images=images)
            say("upload", f"uploading to obs://{bucket}/{prefix}")
            summary = storage.copy(folder, f"obs://{bucket}/{prefix}", keep_last_dir=False, skip_existing=True,
                                   workers=workers, progress=upload_progress)
        manifest_uri = f"obs://{bucket}/{prefix}{manifest_name}"
        ds, created = _dataset(client, dataset, code, bucket, prefix, description, timeout, poll)
        say("dataset", f"{'created' if created else 'reusing'} dataset {dataset} ({ds})")
        say("import", f"importing {manifest_uri}")
        task = _import(client, ds, manifest_uri, timeout, poll, on_import)
        changed = int(task.get("imported_sample_count") or 0)
        vid, vname, vnew = _version(client, ds, version, changed, timeout, poll)
        say("version", f"{'published' if vnew else 'reusing'} version {vname} ({vid})")
        return PublishResult(
            dataset_id=ds, dataset_name=dataset, dataset_created=created, version_id=vid, version_name=vname,
            version_created=vnew, manifest=manifest_uri, samples=samples, imported=changed,
            annotated=int(task.get("annotated_sample_count") or 0), uploaded=summary.transferred,
            upload_skipped=summary.skipped, missing_images=missing)
    finally:
        if own:
            client.close()


def _dataset(client: Any, name: str, code: int, bucket: str, prefix: str, description: str | None,
             timeout: float, poll: float) -> tuple[str, bool]:
    """The ID of the dataset called ``name`` (created when there is none) and whether it was made."""
    from mafmt.client.codes import LABELING_TYPES, name_of

    for ds in client.datasets.list(name=name, limit=100):
        if ds.get("dataset_name") == name:
            if ds.get("dataset_type") not in (None, code):
                raise UsageError(f"dataset {name!r} exists with labeling type "
                                 f"{name_of(ds.get('dataset_type'), LABELING_TYPES)}, not "
                                 f"{name_of(code, LABELING_TYPES)}: pick another --dataset or --type")
            client.datasets.wait(ds["dataset_id"], timeout=timeout, poll=poll)
            return str(ds["dataset_id"]), False
    task = client.datasets.create(name, dataset_type=code, data_path=f"obs://{bucket}/{prefix}images/",
                                  work_path=f"obs://{bucket}/{prefix}work/", description=description)
    task.wait(timeout=timeout, poll=poll)
    return str(task["dataset_id"]), True


def _import(client: Any, dataset_id: str, manifest_uri: str, timeout: float, poll: float,
            on_import: Callable[[dict[str, Any]], None] | None) -> Any:
    """Import the manifest with labels and wait; an import of it already running is waited for."""
    from mafmt.client._resource import obs_path

    wanted = obs_path(manifest_uri)
    for task in client.import_tasks.list(dataset_id, max_items=20):
        if task.get("status") in ("QUEUING", "STARTING", "RUNNING"):
            running = client.import_tasks.get(dataset_id, task["task_id"])
            if task.get("import_path") != wanted:
                running.wait(timeout=timeout, poll=poll)  # someone else's import: let it end first
                break
            return running.wait(timeout=timeout, poll=poll, progress=on_import or False)
    return client.import_tasks.create(dataset_id, manifest_uri, {}).wait(timeout=timeout, poll=poll,
                                                                         progress=on_import or False)


def _version(client: Any, dataset_id: str, name: str | None, changed: int, timeout: float, poll: float
             ) -> tuple[str, str, bool]:
    """(id, name, made now) of the version to report."""
    versions = client.versions.list(dataset_id).to_list()
    if name is not None:
        for ver in versions:
            if ver.get("version_name") == name:
                client.versions.wait(dataset_id, ver["version_id"], timeout=timeout, poll=poll)
                return str(ver["version_id"]), name, False
    elif versions and not changed:  # nothing new since the latest version
        latest = max(versions, key=lambda v: v.get("create_time") or 0)
        return str(latest["version_id"]), str(latest["version_name"]), False
    task = client.versions.create(dataset_id, name=name)
    final = task.wait(timeout=timeout, poll=poll)
    return str(task["version_id"]), str(final.get("version_name") or name or ""), True
