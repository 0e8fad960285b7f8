"""``mafmt label-task ...``: labeling tasks of a dataset."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from mafmt.commands._api import api_options, client, listing, show

__all__ = ["add_parser", "run"]


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    with client(args) as ma:
        if args.verb == "ls":
            items = ma.label_tasks.list(args.dataset_id, is_workforce_task=args.team or None,
                                        sort_key=args.sort_key, sort_dir=args.sort_dir)
            return listing(items, ("task_id", "task_name", "task_type", "status", "is_workforce_task"), args, out)
        if args.verb == "create":
            return show(ma.label_tasks.create(args.dataset_id, args.name, args.type,
                                               description=args.description), args, out)
        return show(ma.label_tasks.get(args.dataset_id, args.task_id), args, out)


def add_parser(sub: Any) -> None:
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
        api_options(p)
    lt.set_defaults(func=run)
