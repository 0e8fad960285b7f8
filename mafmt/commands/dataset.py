"""``mafmt dataset ...``: ModelArts datasets, their imports, exports, versions and samples."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from mafmt.commands._api import (
    Col,
    add_verb,
    api_options,
    cli_terms,
    client,
    code,
    finish,
    listing,
    local_time,
    named,
    positive_int,
    show,
    waiting,
)

__all__ = ["add_parser", "run"]

#: library keyword -> flag, for messages
TERMS = {"data_type": "--data-type", "dataset_type": "--dataset-type", "data_path": "--input",
         "work_path": "--work-path", "dataset_id": "DATASET_ID", "version_id": "--version-id"}


def _formats() -> dict[str, Any]:
    from mafmt.client.codes import DATASET_STATUS, LABELING_TYPES

    return {"status": named(DATASET_STATUS), "dataset_type": named(LABELING_TYPES)}


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from mafmt.client.codes import DATASET_STATUS, LABELING_TYPES, VERSION_STATUS

    with cli_terms(TERMS), client(args) as ma:
        verb = args.verb
        if verb == "ls":
            items = ma.datasets.list(dataset_type=args.type, name=args.name, max_items=args.max)
            return listing(items, (Col.key("dataset_id"), Col.key("dataset_name"),
                                   Col.key("dataset_type", named(LABELING_TYPES)), Col.key("data_type"),
                                   Col.key("status", named(DATASET_STATUS)), Col.key("total_sample_count"),
                                   Col.key("create_time", local_time)), args, out)
        if verb == "create":
            dataset_type = args.dataset_type if args.dataset_type is not None else args.type
            if dataset_type is None and args.data_type is None:
                from mafmt.errors import UsageError

                raise UsageError("give --type (a labeling type such as object_detection), --dataset-type N or "
                                 "--data-type IMAGE|TEXT|...")
            scene = {"scene": args.scene, "format_name": args.format_name} if args.scene else None
            task = ma.datasets.create(
                args.name, data_type=args.data_type, dataset_type=dataset_type, data_path=args.input,
                work_path=args.work_path, description=args.description, annotation_config=scene)
            return finish(task, args, out, err, f"dataset {args.name}", _formats())
        if verb == "show":
            return show(ma.datasets.get(args.dataset_id, with_reason=True), args, out, _formats())
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
            return finish(ma.import_tasks.create(args.dataset_id, args.path, config), args, out, err, "importing")
        if verb == "export":
            task = ma.export_tasks.create(args.dataset_id, args.path, export_type=args.export_type,
                                          **({"version_id": args.version_id} if args.version_id else {}))
            return finish(task, args, out, err, "exporting")
        if verb == "versions":
            return listing(ma.versions.list(args.dataset_id), (
                Col.key("version_id"), Col.key("version_name"), Col.key("status", named(VERSION_STATUS)),
                Col.key("total_sample_count"), Col.key("create_time", local_time), Col.key("manifest_path")),
                args, out)
        if verb == "publish":
            task = ma.versions.create(args.dataset_id, name=args.name, description=args.description,
                                      label_task_id=args.label_task_id)
            return finish(task, args, out, err, "publishing", {"status": named(VERSION_STATUS)})
        if verb == "samples":
            items = ma.samples.list(args.dataset_id, version_id=args.version_id, max_items=args.max,
                                    **({"sample_state": args.state} if args.state else {}))
            return listing(items, ("sample_id", "sample_name", "sample_status", "source"), args, out)
    raise AssertionError(verb)  # pragma: no cover - argparse restricts the verbs


def add_parser(sub: Any) -> None:
    from mafmt.client.codes import EXPORT_TYPES, LABELING_TYPES

    types = ", ".join(LABELING_TYPES)
    labeling = code(LABELING_TYPES, "labeling type")
    ds = sub.add_parser("dataset", help="ModelArts datasets: ls, create, show, update, rm, import, export, ...",
                        description="ModelArts datasets: create and list them, import and export samples, publish "
                                    "versions.")
    verbs = ds.add_subparsers(dest="verb", metavar="VERB", required=True, parser_class=type(ds))
    p = add_verb(verbs, "ls", "list datasets", "mafmt dataset ls --type object_detection --name cars")
    p.add_argument("--type", type=labeling, metavar="TYPE", help=f"only this labeling type: {types} (or its number)")
    p.add_argument("--name", help="fuzzy name filter")
    p.add_argument("--max", type=positive_int, metavar="N", help="at most N datasets")
    p = add_verb(verbs, "create", "create a dataset",
                 "mafmt dataset create cars --type object_detection --input obs://bkt/cars/in/ "
                 "--work-path obs://bkt/cars/out/ --wait")
    p.add_argument("name", help="dataset name (letters, digits, '_' and '-')")
    kind = p.add_mutually_exclusive_group()
    kind.add_argument("--type", type=labeling, metavar="TYPE", help=f"labeling type by name: {types} (or its number)")
    kind.add_argument("--dataset-type", type=labeling, metavar="N", help="labeling type by number (0 image "
                      "classification, 1 object detection, 3 segmentation, 100 text classification, ...; names too)")
    kind.add_argument("--data-type", choices=("IMAGE", "TEXT", "AUDIO", "TABLE", "VIDEO", "PLAIN"),
                      help="create by data type instead of labeling type")
    p.add_argument("--input", required=True, metavar="PATH", help="OBS input folder (obs://bucket/dir/ or /bucket/dir/)")
    p.add_argument("--work-path", required=True, metavar="PATH", help="OBS output folder (not inside --input)")
    p.add_argument("--description", help="free text (at most 256 characters)")
    p.add_argument("--scene", help="annotation scene of the input (e.g. object_detection)")
    p.add_argument("--format-name", help="annotation format (e.g. 'ModelArts PASCAL VOC 1.0')")
    waiting(p)
    for verb, text, example in (
            ("show", "show a dataset (with its failure reason when it failed)", "mafmt dataset show DATASET_ID"),
            ("rm", "delete a dataset (its OBS data stays)", "mafmt dataset rm DATASET_ID"),
            ("versions", "list a dataset's versions", "mafmt dataset versions DATASET_ID")):
        p = add_verb(verbs, verb, text, example)
        p.add_argument("dataset_id", metavar="DATASET_ID", help="the dataset's ID ('mafmt dataset ls' shows it)")
    p = add_verb(verbs, "update", "rename or describe a dataset", "mafmt dataset update DATASET_ID --name cars2")
    p.add_argument("dataset_id", metavar="DATASET_ID", help="the dataset's ID")
    p.add_argument("--name", help="new name")
    p.add_argument("--description", help="new description")
    p = add_verb(verbs, "import", "import an OBS folder or manifest into a dataset",
                 "mafmt dataset import DATASET_ID obs://bkt/cars/train.manifest --labels --wait")
    p.add_argument("dataset_id", metavar="DATASET_ID", help="the dataset's ID")
    p.add_argument("path", help="OBS folder or .manifest file")
    p.add_argument("--labels", action="store_true", help="import the manifest's labels too")
    p.add_argument("--scene", help="annotation scene of a folder import (e.g. object_detection)")
    p.add_argument("--format-name", help="annotation format of a folder import (e.g. 'ModelArts PASCAL VOC 1.0')")
    waiting(p)
    p = add_verb(verbs, "export", "export samples to an OBS folder as a manifest",
                 "mafmt dataset export DATASET_ID obs://bkt/export/ --export-type labeled --wait")
    p.add_argument("dataset_id", metavar="DATASET_ID", help="the dataset's ID")
    p.add_argument("path", help="OBS folder to write the manifest into")
    p.add_argument("--version-id", help="export this version (default: the current samples)")
    p.add_argument("--export-type", type=code(EXPORT_TYPES, "export type"), default=2, metavar="TYPE",
                   help="labeled (0), unlabeled (1) or all (2, the default)")
    waiting(p)
    p = add_verb(verbs, "publish", "publish a dataset version", "mafmt dataset publish DATASET_ID --name V002 --wait")
    p.add_argument("dataset_id", metavar="DATASET_ID", help="the dataset's ID")
    p.add_argument("--name", help="version name (default V001, V002, ...)")
    p.add_argument("--description", help="free text")
    p.add_argument("--label-task-id", help="publish the results of this labeling task")
    waiting(p)
    p = add_verb(verbs, "samples", "list a dataset's samples", "mafmt dataset samples DATASET_ID --state __ALL__")
    p.add_argument("dataset_id", metavar="DATASET_ID", help="the dataset's ID")
    p.add_argument("--version-id", help="the samples of this version")
    p.add_argument("--state", help="sample_state filter (__ALL__ labeled, __NONE__ unlabeled)")
    p.add_argument("--max", type=positive_int, metavar="N", help="at most N samples")
    for p in verbs.choices.values():
        api_options(p)
    ds.set_defaults(func=run)
