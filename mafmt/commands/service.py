"""``mafmt service ...``: ModelArts real-time and batch services."""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO

from mafmt.commands._api import api_options, client, finish, listing, show, waiting
from mafmt.errors import UsageError

__all__ = ["add_parser", "run"]


def _configs(args: argparse.Namespace) -> list[dict[str, Any]]:
    if args.config_json:
        return list(json.loads(args.config_json))
    configs = []
    for item in args.model or []:
        model_id, _, weight = item.partition(":")
        configs.append({"model_id": model_id, "weight": int(weight or 100), "specification": args.spec,
                        "instance_count": args.instances})
    if not configs:
        raise UsageError("give --model ID[:WEIGHT] (repeatable) or --config-json")
    return configs


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    with client(args) as ma:
        sv, verb = ma.services, args.verb
        if verb == "ls":
            items = sv.list(service_name=args.name, infer_type=args.infer_type, status=args.status,
                            max_items=args.max)
            return listing(items, ("service_id", "service_name", "infer_type", "status", "invocation_times"), args,
                            out)
        if verb == "deploy":
            task = sv.deploy(_configs(args), service_name=args.name, infer_type=args.infer_type,
                             description=args.description)
            return finish(task, args, out, err)
        if verb == "show":
            return show(dict(sv.get(args.service_id)), args, out)
        if verb in ("start", "stop"):
            sv.update(args.service_id, status="running" if verb == "start" else "stopped")
            if getattr(args, "wait", False):
                sv.wait(args.service_id, "running" if verb == "start" else "stopped", timeout=args.timeout,
                        poll=args.poll)
            return show(dict(sv.get(args.service_id)), args, out)
        if verb == "update":
            configs = _configs(args) if (args.model or args.config_json) else None
            sv.update(args.service_id, description=args.description, configs=configs)
            return show(dict(sv.get(args.service_id)), args, out)
        if verb == "monitor":
            return show(dict(sv.monitor(args.service_id)), args, out)
        if verb == "logs":
            return listing(sv.logs(args.service_id).get("logs") or [], ("update_time", "result"), args, out)
        if verb == "predict":
            svc = sv.get(args.service_id)
            data: Any = args.data
            if args.data_type == "json" and not data.endswith(".json"):
                data = json.loads(data)
            result = sv.predict(svc.get("access_address"), data, args.data_type, path=args.path)
            out.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
            return 0
        if verb == "rm":
            sv.delete(*args.service_id)
            return 0
    raise AssertionError(verb)  # pragma: no cover


def add_parser(sub: Any) -> None:
    sv = sub.add_parser("service", help="ModelArts services: ls, deploy, show, start, stop, update, predict, rm")
    verbs = sv.add_subparsers(dest="verb", metavar="VERB", required=True, parser_class=type(sv))
    p = verbs.add_parser("ls", help="list services")
    p.add_argument("--name")
    p.add_argument("--infer-type", choices=("real-time", "batch", "edge"))
    p.add_argument("--status")
    p.add_argument("--max", type=int, metavar="N")
    for verb in ("deploy", "update"):
        p = verbs.add_parser(verb, help=f"{verb} a service")
        p.add_argument("name" if verb == "deploy" else "service_id")
        p.add_argument("--model", action="append", metavar="ID[:WEIGHT]", help="model config (repeatable)")
        p.add_argument("--spec", default="modelarts.vm.cpu.2u")
        p.add_argument("--instances", type=int, default=1)
        p.add_argument("--config-json", metavar="JSON", help="the config list as JSON (batch services)")
        p.add_argument("--description")
        if verb == "deploy":
            p.add_argument("--infer-type", default="real-time", choices=("real-time", "batch", "edge"))
            waiting(p)
    for verb, text in (("show", "show a service"), ("monitor", "instances and calls"), ("logs", "update log")):
        verbs.add_parser(verb, help=text).add_argument("service_id")
    for verb in ("start", "stop"):
        p = verbs.add_parser(verb, help=f"{verb} a service")
        p.add_argument("service_id")
        waiting(p)
    p = verbs.add_parser("predict", help="call a running real-time service")
    p.add_argument("service_id")
    p.add_argument("data", help="JSON text, a .json file, or a file for --data-type files/images")
    p.add_argument("--data-type", default="json", choices=("json", "files", "images"))
    p.add_argument("--path", default="/")
    p = verbs.add_parser("rm", help="delete services")
    p.add_argument("service_id", nargs="+")
    for p in verbs.choices.values():
        api_options(p)
    sv.set_defaults(func=run)
