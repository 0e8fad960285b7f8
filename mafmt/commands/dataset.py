"""``mafmt dataset ...``: ModelArts datasets, their imports, exports, versions and samples."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from mafmt.commands._api import api_options, client, finish, listing, show, waiting

__all__ = ["add_parser", "run"]


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    with client(args) as ma:
        verb = args.verb
        if verb == "ls":
            items = ma.datasets.list(dataset_type=args.type, name=args.name, max_items=args.max)
            return listing(items, ("dataset_id", "dataset_name", "dataset_type", "data_type", "status",
                                    "total_sample_count"), args, out)
        if verb == "create":
            scene = {"scene": args.scene, "format_name": args.format_name} if args.scene else None
            task = ma.datasets.create(
                args.name, data_type=args.data_type, dataset_type=args.dataset_type, data_path=args.input,
                work_path=args.work_path, description=args.description, annotation_config=scene)
            return finish(task, args, out, err)
        if verb == "show":
            return show(ma.datasets.get(args.dataset_id), args, out)
        if verb == "update":
            return show(ma.datasets.update(args.dataset_id, dataset_name=args.name,
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
            return finish(ma.import_tasks.create(args.dataset_id, args.path, config), args, out, err)
        if verb == "export":
            task = ma.export_tasks.create(args.dataset_id, args.path, export_type=args.export_type,
                                          **({"version_id": args.version_id} if args.version_id else {}))
            return finish(task, args, out, err)
        if verb == "versions":
            return listing(ma.versions.list(args.dataset_id), ("version_id", "version_name", "status",
                                                                 "total_sample_count", "manifest_path"), args, out)
        if verb == "publish":
            task = ma.versions.create(args.dataset_id, name=args.name, description=args.description,
                                      label_task_id=args.label_task_id)
            return finish(task, args, out, err)
        if verb == "samples":
            items = ma.samples.list(args.dataset_id, version_id=args.version_id, max_items=args.max,
                                    **({"sample_state": args.state} if args.state else {}))
            return listing(items, ("sample_id", "sample_name", "sample_status", "source"), args, out)
    raise AssertionError(verb)  # pragma: no cover - argparse restricts the verbs


def add_parser(sub: Any) -> None:
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
    waiting(p)
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
    waiting(p)
    p = verbs.add_parser("export", help="export samples to an OBS folder")
    p.add_argument("dataset_id")
    p.add_argument("path")
    p.add_argument("--version-id")
    p.add_argument("--export-type", type=int, default=2, choices=(0, 1, 2), help="0 labeled, 1 unlabeled, 2 all")
    waiting(p)
    p = verbs.add_parser("publish", help="publish a dataset version")
    p.add_argument("dataset_id")
    p.add_argument("--name", help="version name (default V001, V002, ...)")
    p.add_argument("--description")
    p.add_argument("--label-task-id")
    waiting(p)
    p = verbs.add_parser("samples", help="list samples")
    p.add_argument("dataset_id")
    p.add_argument("--version-id")
    p.add_argument("--state", help="sample_state filter (__ALL__ labeled, __NONE__ unlabeled)")
    p.add_argument("--max", type=int, metavar="N", help="at most N samples")
    for p in verbs.choices.values():
        api_options(p)
    ds.set_defaults(func=run)
