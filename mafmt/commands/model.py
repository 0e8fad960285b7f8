"""``mafmt model ...``: ModelArts models."""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO

from mafmt.commands._api import api_options, client, finish, listing, show, waiting

__all__ = ["add_parser", "run"]


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    with client(args) as ma:
        verb = args.verb
        if verb == "ls":
            items = ma.models.list(model_name=args.name, model_status=args.status, max_items=args.max)
            return listing(items, ("model_id", "model_name", "model_version", "model_type", "model_status"), args,
                            out)
        if verb == "create":
            deps = json.loads(args.dependencies) if args.dependencies else None
            task = ma.models.create(model_name=args.name, model_version=args.version,
                                    source_location=args.source, model_type=args.type, runtime=args.runtime,
                                    description=args.description, execution_code=args.execution_code,
                                    dependencies=deps)
            return finish(task, args, out, err)
        if verb == "show":
            return show(dict(ma.models.get(args.model_id)), args, out)
        if verb == "rm":
            return show(dict(ma.models.delete(args.model_id, cascade=args.cascade)), args, out)
    raise AssertionError(verb)  # pragma: no cover


def add_parser(sub: Any) -> None:
    md = sub.add_parser("model", help="ModelArts models: ls, create, show, rm")
    verbs = md.add_subparsers(dest="verb", metavar="VERB", required=True, parser_class=type(md))
    p = verbs.add_parser("ls", help="list models")
    p.add_argument("--name")
    p.add_argument("--status", choices=("publishing", "published", "failed", "building", "building_failed"))
    p.add_argument("--max", type=int, metavar="N")
    p = verbs.add_parser("create", help="import a model from OBS")
    p.add_argument("name")
    p.add_argument("--version", required=True, help="N.N.N")
    p.add_argument("--source", required=True, metavar="OBS_DIR", help="folder holding model/")
    p.add_argument("--type", required=True, help="PyTorch, TensorFlow, MXNet, Image, ...")
    p.add_argument("--runtime")
    p.add_argument("--execution-code", metavar="OBS_PATH")
    p.add_argument("--dependencies", metavar="JSON")
    p.add_argument("--description")
    waiting(p)
    verbs.add_parser("show", help="show a model").add_argument("model_id")
    p = verbs.add_parser("rm", help="delete a model")
    p.add_argument("model_id")
    p.add_argument("--cascade", action="store_true", help="also the other versions of the same name")
    for p in verbs.choices.values():
        api_options(p)
    md.set_defaults(func=run)
