"""CLI command groups ``mafmt dataset …``, ``mafmt label-task …`` and ``mafmt emulator``.

Credentials come from the environment (``HUAWEICLOUD_SDK_*``); ``--endpoint``,
``--region`` and ``--project-id`` override it. Output is a table, or JSON with ``--json``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

__all__ = ["add_api_parsers"]


def _client(args: argparse.Namespace) -> Any:
    from mafmt.client import ModelArts

    return ModelArts(endpoint=args.endpoint, region=args.region, project_id=args.project_id)


def _json(obj: Any, out: TextIO) -> None:
    out.write(json.dumps(obj, ensure_ascii=False, indent=2) + "\n")


def _table(rows: Iterable[dict[str, Any]], columns: Sequence[str], out: TextIO) -> int:
    rows = list(rows)
    cells = [[("" if r.get(c) is None else str(r.get(c))) for c in columns] for r in rows]
    widths = [max([len(c), *(len(row[i]) for row in cells)]) for i, c in enumerate(columns)]
    out.write("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths)).rstrip() + "\n")
    out.writelines("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() + "\n" for row in cells)
    return len(rows)


def _show(obj: dict[str, Any], args: argparse.Namespace, out: TextIO) -> int:
    if args.json:
        _json(dict(obj), out)
    else:
        width = max((len(k) for k in obj), default=0)
        for key, value in obj.items():
            if value not in (None, [], {}, ""):
                text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                out.write(f"{key:<{width}}  {text}\n")
    return 0


def _listing(items: Iterable[Any], columns: Sequence[str], args: argparse.Namespace, out: TextIO) -> int:
    if args.json:
        _json([dict(i) for i in items], out)
    else:
        _table(items, columns, out)
    return 0


def _finish(task: Any, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.wait:
        task.wait(timeout=args.timeout, poll=args.poll, progress=err if err.isatty() else False)
    return _show(dict(task), args, out)


# --------------------------------------------------------------------------- dataset


def cmd_dataset(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    with _client(args) as ma:
        verb = args.verb
        if verb == "ls":
            items = ma.datasets.list(dataset_type=args.type, name=args.name, max_items=args.max)
            return _listing(items, ("dataset_id", "dataset_name", "dataset_type", "data_type", "status",
                                    "total_sample_count"), args, out)
        if verb == "create":
            scene = {"scene": args.scene, "format_name": args.format_name} if args.scene else None
            task = ma.datasets.create(
                args.name, data_type=args.data_type, dataset_type=args.dataset_type, data_path=args.input,
                work_path=args.work_path, description=args.description, annotation_config=scene)
            return _finish(task, args, out, err)
        if verb == "show":
            return _show(ma.datasets.get(args.dataset_id), args, out)
        if verb == "update":
            return _show(ma.datasets.update(args.dataset_id, dataset_name=args.name,
                                            description=args.description), args, out)
        if verb == "rm":
            ma.datasets.delete(args.dataset_id)
            return 0
        if verb == "import":
            config: dict[str, Any] | None = None
            if args.scene:
                config = {"scene": args.scene, "format_name": args.format_name}
            elif args.labels:
                config = {}
            return _finish(ma.import_tasks.create(args.dataset_id, args.path, config), args, out, err)
        if verb == "export":
            task = ma.export_tasks.create(args.dataset_id, args.path, export_type=args.export_type,
                                          **({"version_id": args.version_id} if args.version_id else {}))
            return _finish(task, args, out, err)
        if verb == "versions":
            return _listing(ma.versions.list(args.dataset_id), ("version_id", "version_name", "status",
                                                                 "total_sample_count", "manifest_path"), args, out)
        if verb == "publish":
            task = ma.versions.create(args.dataset_id, name=args.name, description=args.description,
                                      label_task_id=args.label_task_id)
            return _finish(task, args, out, err)
        if verb == "samples":
            items = ma.samples.list(args.dataset_id, version_id=args.version_id, max_items=args.max,
                                    **({"sample_state": args.state} if args.state else {}))
            return _listing(items, ("sample_id", "sample_name", "sample_status", "source"), args, out)
    raise AssertionError(verb)  # pragma: no cover - argparse restricts the verbs


def cmd_label_task(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    with _client(args) as ma:
        if args.verb == "ls":
            items = ma.label_tasks.list(args.dataset_id, is_workforce_task=args.team or None,
                                        sort_key=args.sort_key, sort_dir=args.sort_dir)
            return _listing(items, ("task_id", "task_name", "task_type", "status", "is_workforce_task"), args, out)
        if args.verb == "create":
            return _show(ma.label_tasks.create(args.dataset_id, args.name, args.type,
                                               description=args.description), args, out)
        return _show(ma.label_tasks.get(args.dataset_id, args.task_id), args, out)


# --------------------------------------------------------------------------- emulator


def cmd_emulator(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    import tempfile
    import threading

    from mafmt.emulator import Emulator

    obs_endpoint, obs_root, extra_env, moto = args.obs_endpoint, args.obs_root, {}, None
    if not obs_endpoint and not obs_root:
        moto, obs_endpoint = _start_moto()
        if moto is None:
            obs_root = tempfile.mkdtemp(prefix="mafmt-obs-")
            err.write(f"moto is not installed: OBS paths are served from the local folder {obs_root}\n")
        else:
            extra_env = {"MAFMT_OBS_SIGNATURE": "v4", "MAFMT_OBS_REGION": "us-east-1", "MAFMT_OBS_PATH_STYLE": "true"}
    emu = Emulator(ak=args.ak, sk=args.sk, project_id=args.project_id, port=args.port, obs_root=obs_root,
                   obs_endpoint=obs_endpoint, task_delay=args.task_delay, publish_interval=args.publish_interval)
    if getattr(args, "tick", None):
        from mafmt.emulator._ml import ml_state  # training jobs, models, services advance one state per tick

        ml_state(emu.store).tick = args.tick
    emu.start()
    if obs_endpoint and not obs_root:
        from mafmt import storage

        storage.configure_obs(endpoint=obs_endpoint, access_key=emu.ak, secret_key=emu.env()["HUAWEICLOUD_SDK_SK"],
                              **({"signature": "v4", "region": "us-east-1", "path_style": True} if moto else {}))
        if moto is not None and args.bucket:  # the emulator's own S3 server starts empty: give it a bucket
            storage.backend_for("obs://" + args.bucket).create_bucket(args.bucket)  # type: ignore[attr-defined]
    env = {**emu.env(secrets_too=emu.generated_sk), **extra_env}  # a secret you gave is not echoed
    if args.json:
        _json(env, out)
    else:
        out.write(f"# ModelArts emulator on {emu.url}" + (f", OBS at {obs_endpoint}" if obs_endpoint else "") + "\n")
        if moto is not None and args.bucket:
            out.write(f"# bucket obs://{args.bucket}/ is ready\n")
        if not emu.generated_sk:
            out.write("# HUAWEICLOUD_SDK_SK: the secret key you gave (--sk or the environment)\n")
        out.writelines(f"export {key}={value}\n" for key, value in env.items())
    out.flush()
    stop = threading.Event()
    try:
        stop.wait(args.duration if args.duration else None)
    except KeyboardInterrupt:
        pass
    finally:
        emu.stop()
        if moto is not None:
            moto.stop()
    return 0


def _start_moto() -> tuple[Any, str | None]:
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        return None, None
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log on the emulator's console
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    return server, f"http://127.0.0.1:{port}"


# --------------------------------------------------------------------------- parsers


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--endpoint", metavar="URL", help="ModelArts base URL (default: MAFMT_MODELARTS_ENDPOINT or region)")
    p.add_argument("--region", metavar="ID", help="region ID (default: HUAWEICLOUD_SDK_REGION)")
    p.add_argument("--project-id", metavar="ID", help="project ID (default: HUAWEICLOUD_SDK_PROJECT_ID)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")


def _waiting(p: argparse.ArgumentParser) -> None:
    p.add_argument("--wait", action="store_true", help="wait until the task finishes (exit 1 if it fails)")
    p.add_argument("--timeout", type=float, default=3600.0, metavar="S", help="give up waiting after S seconds")
    p.add_argument("--poll", type=float, default=1.0, metavar="S", help="first polling interval")


def add_api_parsers(sub: Any) -> None:
    """Add ``dataset``, ``label-task`` and ``emulator`` to the ``mafmt`` sub-parsers."""
    ds = sub.add_parser("dataset", help="ModelArts datasets: ls, create, show, update, rm, import, export, ...")
    verbs = ds.add_subparsers(dest="verb", metavar="VERB", required=True, parser_class=type(ds))
    p = verbs.add_parser("ls", help="list datasets")
    p.add_argument("--type", type=int, metavar="N", help="labeling type code (0, 1, 3, 100, ...)")
    p.add_argument("--name", help="fuzzy name filter")
    p.add_argument("--max", type=int, metavar="N", help="at most N datasets")
    p = verbs.add_parser("create", help="create a dataset")
    p.add_argument("name")
    kind = p.add_mutually_exclusive_group(required=True)
    kind.add_argument("--data-type", choices=("IMAGE", "TEXT", "AUDIO", "TABLE", "VIDEO", "PLAIN"))
    kind.add_argument("--dataset-type", type=int, metavar="N", help="labeling type code")
    p.add_argument("--input", required=True, metavar="PATH", help="OBS input folder (/bucket/dir/ or obs://...)")
    p.add_argument("--work-path", required=True, metavar="PATH", help="OBS output folder")
    p.add_argument("--description")
    p.add_argument("--scene", help="annotation scene of the input (e.g. object_detection)")
    p.add_argument("--format-name", help="annotation format (e.g. 'ModelArts PASCAL VOC 1.0')")
    _waiting(p)
    for verb, text in (("show", "show a dataset"), ("rm", "delete a dataset (OBS data stays)"),
                       ("versions", "list a dataset's versions")):
        p = verbs.add_parser(verb, help=text)
        p.add_argument("dataset_id")
    p = verbs.add_parser("update", help="rename or describe a dataset")
    p.add_argument("dataset_id")
    p.add_argument("--name")
    p.add_argument("--description")
    p = verbs.add_parser("import", help="import an OBS folder or manifest")
    p.add_argument("dataset_id")
    p.add_argument("path", help="OBS folder or .manifest file")
    p.add_argument("--labels", action="store_true", help="import the manifest's labels too")
    p.add_argument("--scene", help="annotation scene of a folder import")
    p.add_argument("--format-name", help="annotation format of a folder import")
    _waiting(p)
    p = verbs.add_parser("export", help="export samples to an OBS folder")
    p.add_argument("dataset_id")
    p.add_argument("path")
    p.add_argument("--version-id")
    p.add_argument("--export-type", type=int, default=2, choices=(0, 1, 2), help="0 labeled, 1 unlabeled, 2 all")
    _waiting(p)
    p = verbs.add_parser("publish", help="publish a dataset version")
    p.add_argument("dataset_id")
    p.add_argument("--name", help="version name (default V001, V002, ...)")
    p.add_argument("--description")
    p.add_argument("--label-task-id")
    _waiting(p)
    p = verbs.add_parser("samples", help="list samples")
    p.add_argument("dataset_id")
    p.add_argument("--version-id")
    p.add_argument("--state", help="sample_state filter (__ALL__ labeled, __NONE__ unlabeled)")
    p.add_argument("--max", type=int, metavar="N", help="at most N samples")
    for p in verbs.choices.values():
        _common(p)
    ds.set_defaults(func=cmd_dataset)

    lt = sub.add_parser("label-task", help="labeling tasks of a dataset: ls, create, show")
    verbs = lt.add_subparsers(dest="verb", metavar="VERB", required=True, parser_class=type(lt))
    p = verbs.add_parser("ls", help="list labeling tasks")
    p.add_argument("dataset_id")
    p.add_argument("--team", action="store_true", help="team (workforce) tasks only")
    p.add_argument("--sort-key", choices=("create_time", "task_name"))
    p.add_argument("--sort-dir", choices=("asc", "desc"))
    p = verbs.add_parser("create", help="create a labeling task")
    p.add_argument("dataset_id")
    p.add_argument("name")
    p.add_argument("--type", type=int, required=True, metavar="N", help="labeling type code")
    p.add_argument("--description")
    p = verbs.add_parser("show", help="show a labeling task")
    p.add_argument("dataset_id")
    p.add_argument("task_id")
    for p in verbs.choices.values():
        _common(p)
    lt.set_defaults(func=cmd_label_task)

    p = sub.add_parser("emulator", help="run a local ModelArts emulator (prints the client environment)")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free port)")
    p.add_argument("--obs-endpoint", metavar="URL", help="S3-compatible OBS endpoint (default: start a local one)")
    p.add_argument("--obs-root", metavar="DIR", help="serve OBS paths from this local folder instead")
    p.add_argument("--ak", help="accepted access key (default: HUAWEICLOUD_SDK_AK, else random)")
    p.add_argument("--sk", help="accepted secret key (default: HUAWEICLOUD_SDK_SK, else random)")
    p.add_argument("--project-id", help="accepted project ID (default: HUAWEICLOUD_SDK_PROJECT_ID, else random)")
    p.add_argument("--task-delay", type=float, default=0.0, metavar="S", help="delay before each async task")
    p.add_argument("--publish-interval", type=float, default=0.0, metavar="S",
                   help="minimum seconds between two versions of a dataset (the cloud: 60; default 0)")
    p.add_argument("--duration", type=float, default=0.0, metavar="S", help="stop after S seconds (0: on Ctrl-C)")
    p.add_argument("--bucket", default="mafmt-demo", metavar="NAME",
                   help="bucket created on the emulator's own S3 server (default: mafmt-demo; '' for none)")
    p.add_argument("--tick", type=float, metavar="S",
                   help="seconds per state of training jobs, models and services (default 0.5 or MAFMT_EMULATOR_TICK)")
    p.add_argument("--json", action="store_true", help="print the environment as JSON")
    p.set_defaults(func=cmd_emulator)
