"""``mafmt label-task ...``: labeling tasks of a dataset."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from mafmt.commands._api import Col, add_verb, api_options, cli_terms, client, code, listing, local_time, named, show

__all__ = ["add_parser", "run"]


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from mafmt.client.codes import LABEL_TASK_STATUS, LABELING_TYPES

    formats = {"status": named(LABEL_TASK_STATUS), "task_type": named(LABELING_TYPES)}
    with cli_terms({"dataset_id": "DATASET_ID", "task_id": "TASK_ID"}), client(args) as ma:
        if args.verb == "ls":
            items = ma.label_tasks.list(args.dataset_id, is_workforce_task=args.team or None,
                                        sort_key=args.sort_key, sort_dir=args.sort_dir)
            return listing(items, (Col.key("task_id"), Col.key("task_name"), Col.key("task_type", formats["task_type"]),
                                   Col.key("status", formats["status"]), Col.key("is_workforce_task"),
                                   Col.key("create_time", local_time)), args, out)
        if args.verb == "create":
            return show(ma.label_tasks.create(args.dataset_id, args.name, args.type,
                                              description=args.description), args, out)
        return show(ma.label_tasks.get(args.dataset_id, args.task_id), args, out, formats)


def add_parser(sub: Any) -> None:
    from mafmt.client.codes import LABELING_TYPES

    lt = sub.add_parser("label-task", help="labeling tasks of a dataset: ls, create, show",
                        description="Labeling tasks of a dataset (the workforce-tasks resource).")
    verbs = lt.add_subparsers(dest="verb", metavar="VERB", required=True, parser_class=type(lt))
    p = add_verb(verbs, "ls", "list a dataset's labeling tasks", "mafmt label-task ls DATASET_ID --team")
    p.add_argument("dataset_id", metavar="DATASET_ID", help="the dataset's ID")
    p.add_argument("--team", action="store_true", help="team (workforce) tasks only")
    p.add_argument("--sort-key", choices=("create_time", "task_name"), help="sort by this field")
    p.add_argument("--sort-dir", choices=("asc", "desc"), help="sort order (default desc)")
    p = add_verb(verbs, "create", "create a labeling task",
                 "mafmt label-task create DATASET_ID boxes --type object_detection")
    p.add_argument("dataset_id", metavar="DATASET_ID", help="the dataset's ID")
    p.add_argument("name", help="task name (letters, digits, '_' and '-')")
    p.add_argument("--type", type=code(LABELING_TYPES, "labeling type"), required=True, metavar="TYPE",
                   help=f"labeling type: {', '.join(LABELING_TYPES)} (or its number)")
    p.add_argument("--description", help="free text")
    p = add_verb(verbs, "show", "show a labeling task", "mafmt label-task show DATASET_ID TASK_ID")
    p.add_argument("dataset_id", metavar="DATASET_ID", help="the dataset's ID")
    p.add_argument("task_id", metavar="TASK_ID", help="the task's ID")
    for p in verbs.choices.values():
        api_options(p)
    lt.set_defaults(func=run)
