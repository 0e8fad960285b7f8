"""``mafmt model ...``: ModelArts models."""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO

from mafmt.commands._api import (
    Col,
    add_verb,
    api_options,
    cli_terms,
    client,
    finish,
    listing,
    local_time,
    positive_int,
    show,
    waiting,
)
from mafmt.errors import UsageError

__all__ = ["add_parser", "run"]

TERMS = {"model_name": "NAME", "model_version": "--version", "source_location": "--source", "model_type": "--type",
         "runtime": "--runtime", "execution_code": "--execution-code", "dependencies": "--dependencies",
         "model_id": "MODEL_ID"}


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    with cli_terms(TERMS), client(args) as ma:
        verb = args.verb
        if verb == "ls":
            items = ma.models.list(model_name=args.name, model_status=args.status, max_items=args.max)
            return listing(items, ("model_id", "model_name", "model_version", "model_type", "model_status",
                                   Col.key("create_at", local_time)), args, out)
        if verb == "create":
            try:
                deps = json.loads(args.dependencies) if args.dependencies else None
            except ValueError as exc:
                raise UsageError(f"--dependencies is not JSON: {exc}") from None
            task = ma.models.create(model_name=args.name, model_version=args.version,
                                    source_location=args.source, model_type=args.type, runtime=args.runtime,
                                    description=args.description, execution_code=args.execution_code,
                                    dependencies=deps)
            return finish(task, args, out, err, f"model {args.name}")
        if verb == "show":
            return show(dict(ma.models.get(args.model_id)), args, out)
        if verb == "rm":
            return show(dict(ma.models.delete(args.model_id, cascade=args.cascade)), args, out)
    raise AssertionError(verb)  # pragma: no cover


def add_parser(sub: Any) -> None:
    md = sub.add_parser("model", help="ModelArts models: ls, create, show, rm",
                        description="ModelArts models: import them from OBS, list, show and delete them.")
    verbs = md.add_subparsers(dest="verb", metavar="VERB", required=True, parser_class=type(md))
    p = add_verb(verbs, "ls", "list models", "mafmt model ls --status published")
    p.add_argument("--name", help="name filter")
    p.add_argument("--status", choices=("publishing", "published", "failed", "building", "building_failed"),
                   help="only models in this state")
    p.add_argument("--max", type=positive_int, metavar="N", help="at most N models")
    p = add_verb(verbs, "create", "import a model from OBS",
                 "mafmt model create cars --version 1.0.0 --source obs://bkt/model/ --type PyTorch --wait")
    p.add_argument("name", help="model name (starts with a letter)")
    p.add_argument("--version", required=True, help="version N.N.N (e.g. 1.0.0)")
    p.add_argument("--source", required=True, metavar="OBS_DIR", help="OBS folder that holds model/")
    p.add_argument("--type", required=True, help="PyTorch, TensorFlow, MXNet, Image, ...")
    p.add_argument("--runtime", help="runtime (e.g. python3.6)")
    p.add_argument("--execution-code", metavar="OBS_PATH", help="OBS path of the inference code")
    p.add_argument("--dependencies", metavar="JSON", help="pip dependencies as JSON")
    p.add_argument("--description", help="free text (at most 100 characters)")
    waiting(p)
    p = add_verb(verbs, "show", "show a model", "mafmt model show MODEL_ID")
    p.add_argument("model_id", metavar="MODEL_ID", help="the model's ID")
    p = add_verb(verbs, "rm", "delete a model", "mafmt model rm MODEL_ID --cascade")
    p.add_argument("model_id", metavar="MODEL_ID", help="the model's ID")
    p.add_argument("--cascade", action="store_true", help="also the other versions of the same name")
    for p in verbs.choices.values():
        api_options(p)
    md.set_defaults(func=run)
