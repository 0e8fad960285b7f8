"""``mafmt service ...``: ModelArts real-time and batch services (v1, the SDK reference's
Predictor), and ``mafmt service v2 ...``: inference services v2 with their deployments."""

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
    wait_with_progress,
    waiting,
)
from mafmt.errors import UsageError

__all__ = ["add_parser", "run"]

TERMS = {"service_id": "SERVICE_ID", "configs": "--model", "instance_count": "--instances",
         "specification": "--spec", "infer_type": "--infer-type", "service_name": "NAME", "model_id": "--model"}


def _json_arg(text: str, flag: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{flag} is not JSON: {exc}") from None


def _configs(args: argparse.Namespace) -> list[dict[str, Any]]:
    if args.config_json:
        configs = _json_arg(args.config_json, "--config-json")
        if not isinstance(configs, list):
            raise UsageError("--config-json must be a JSON list of model configs")
        return configs
    configs = []
    for item in args.model or []:
        model_id, _, weight = item.partition(":")
        if not model_id or (weight and not weight.isdigit()):
            raise UsageError(f"--model {item!r}: expected MODEL_ID or MODEL_ID:WEIGHT (a whole number)")
        configs.append({"model_id": model_id, "weight": int(weight or 100), "specification": args.spec,
                        "instance_count": args.instances})
    if not configs:
        raise UsageError("give --model ID[:WEIGHT] (repeatable) or --config-json")
    return configs


def _v2(ma: Any, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from mafmt.client.infer_services import deployment_body

    sv, verb = ma.infer_services, args.v2_verb
    if verb == "ls":
        items = sv.list(name=args.name, status=args.status, max_items=args.max)
        return listing(items, ("id", "name", "type", "status", "version", Col.key("create_at", local_time)), args,
                       out)
    if verb == "create":
        deployment = deployment_body(args.deployment, image=args.image, flavor=args.flavor, count=args.instances,
                                     port=args.port)
        task = sv.create(name=args.name, deployments=[deployment], auth_type=args.auth, port=args.port,
                         description=args.description)
        return finish(task, args, out, err, f"service {args.name}")
    if verb == "show":
        return show(dict(sv.get(args.service_id)), args, out)
    if verb in ("start", "stop"):
        (sv.start if verb == "start" else sv.stop)(args.service_id)
        if args.wait:
            wait_with_progress(sv._task({"id": args.service_id}, "RUNNING" if verb == "start" else "STOPPED"), args,
                               err, f"{verb}ing")
        return show(dict(sv.get(args.service_id)), args, out)
    if verb == "update":
        return show(dict(sv.update(args.service_id, description=args.description)), args, out)
    if verb == "rm":
        sv.delete(*args.service_id)
        return 0
    if verb == "events":
        return listing(sv.events(args.service_id), (Col.key("create_at", local_time), "event_type", "event_info"),
                       args, out)
    if verb == "deployments":
        return listing(sv.list_deployments(args.service_id), ("id", "name", "status", "weight", "version",
                                                              Col.key("create_at", local_time)), args, out)
    if verb == "add-deployment":
        group = deployment_body(args.name, image=args.image, flavor=args.flavor, count=args.instances,
                                weight=args.weight, port=args.port)
        return show(dict(sv.create_deployment(args.service_id, group)), args, out)
    if verb == "show-deployment":
        return show(dict(sv.get_deployment(args.service_id, args.deployment_id)), args, out)
    if verb == "rm-deployment":
        sv.delete_deployment(args.service_id, args.deployment_id)
        return 0
    raise AssertionError(verb)  # pragma: no cover


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    with cli_terms(TERMS), client(args) as ma:
        sv, verb = ma.services, args.verb
        if verb == "v2":
            return _v2(ma, args, out, err)
        if verb == "ls":
            items = sv.list(service_name=args.name, infer_type=args.infer_type, status=args.status,
                            max_items=args.max)
            return listing(items, ("service_id", "service_name", "infer_type", "status", "invocation_times",
                                   Col.key("publish_at", local_time)), args, out)
        if verb == "deploy":
            task = sv.deploy(_configs(args), service_name=args.name, infer_type=args.infer_type,
                             description=args.description)
            return finish(task, args, out, err, f"service {args.name}")
        if verb == "show":
            return show(dict(sv.get(args.service_id)), args, out)
        if verb in ("start", "stop"):
            sv.update(args.service_id, status="running" if verb == "start" else "stopped")
            if args.wait:
                wait_with_progress(sv._task(args.service_id, {"service_id": args.service_id},
                                            "running" if verb == "start" else "stopped"), args, err, f"{verb}ing")
            return show(dict(sv.get(args.service_id)), args, out)
        if verb == "update":
            configs = _configs(args) if (args.model or args.config_json) else None
            sv.update(args.service_id, description=args.description, configs=configs)
            return show(dict(sv.get(args.service_id)), args, out)
        if verb == "monitor":
            return show(dict(sv.monitor(args.service_id)), args, out)
        if verb == "logs":
            return listing(sv.logs(args.service_id).get("logs") or [], (Col.key("update_time", local_time),
                                                                       "result"), args, out)
        if verb == "predict":
            data: Any = args.data
            if args.data_type == "json" and not data.endswith(".json"):
                data = _json_arg(data, "DATA")
            svc = sv.get(args.service_id)
            result = sv.predict(svc.get("access_address"), data, args.data_type, path=args.path)
            out.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
            return 0
        if verb == "rm":
            sv.delete(*args.service_id)
            return 0
    raise AssertionError(verb)  # pragma: no cover


def _add_v2(verbs: Any, parent: argparse.ArgumentParser) -> None:
    v2 = add_verb(verbs, "v2", "inference services, v2 (/v2/{project_id}/services) and their deployments",
                  "mafmt service v2 ls")
    vv = v2.add_subparsers(dest="v2_verb", metavar="VERB", required=True, parser_class=type(parent))
    p = add_verb(vv, "ls", "list v2 services", "mafmt service v2 ls --status RUNNING")
    p.add_argument("--name", help="name filter")
    p.add_argument("--status", help="DEPLOYING, RUNNING, STOPPED, FAILED, ...")
    p.add_argument("--max", type=positive_int, metavar="N", help="at most N services")
    p = add_verb(vv, "create", "create a v2 service with one deployment",
                 "mafmt service v2 create svc --image swr.cn-north-4.myhuaweicloud.com/org/infer:1 --wait")
    p.add_argument("name", help="service name")
    p.add_argument("--image", required=True, metavar="SWR_PATH", help="the deployment's image")
    p.add_argument("--deployment", default="default", metavar="NAME", help="the deployment's name (default: default)")
    p.add_argument("--flavor", metavar="ID", help="resource flavor of the deployment")
    p.add_argument("--instances", type=positive_int, default=1, metavar="N", help="instance count (default 1)")
    p.add_argument("--port", type=positive_int, default=8080, help="port the image listens on (default 8080)")
    p.add_argument("--auth", choices=("TOKEN", "API_KEY", "NONE"), default="TOKEN", help="how callers authenticate")
    p.add_argument("--description", help="free text")
    waiting(p)
    for verb, text in (("show", "show a v2 service"), ("events", "list a v2 service's events"),
                       ("deployments", "list a v2 service's deployments")):
        p = add_verb(vv, verb, text, f"mafmt service v2 {verb} SERVICE_ID")
        p.add_argument("service_id", metavar="SERVICE_ID", help="the service's ID")
    for verb in ("start", "stop"):
        p = add_verb(vv, verb, f"{verb} a v2 service", f"mafmt service v2 {verb} SERVICE_ID --wait")
        p.add_argument("service_id", metavar="SERVICE_ID", help="the service's ID")
        waiting(p)
    p = add_verb(vv, "update", "describe a v2 service", "mafmt service v2 update SERVICE_ID --description new")
    p.add_argument("service_id", metavar="SERVICE_ID", help="the service's ID")
    p.add_argument("--description", required=True, help="new description")
    p = add_verb(vv, "rm", "delete v2 services", "mafmt service v2 rm SERVICE_ID [SERVICE_ID ...]")
    p.add_argument("service_id", metavar="SERVICE_ID", nargs="+", help="IDs of the services to delete")
    p = add_verb(vv, "add-deployment", "add a deployment to a v2 service",
                 "mafmt service v2 add-deployment SERVICE_ID green --image swr.example.com/org/infer:2 --weight 10")
    p.add_argument("service_id", metavar="SERVICE_ID", help="the service's ID")
    p.add_argument("name", help="deployment name")
    p.add_argument("--image", required=True, metavar="SWR_PATH", help="the deployment's image")
    p.add_argument("--flavor", metavar="ID", help="resource flavor")
    p.add_argument("--instances", type=positive_int, default=1, metavar="N", help="instance count (default 1)")
    p.add_argument("--weight", type=int, default=0, help="share of the traffic, 0-100 (default 0)")
    p.add_argument("--port", type=positive_int, default=8080, help="port the image listens on (default 8080)")
    for verb, text in (("show-deployment", "show a deployment"), ("rm-deployment", "delete a deployment")):
        p = add_verb(vv, verb, text, f"mafmt service v2 {verb} SERVICE_ID DEPLOYMENT_ID")
        p.add_argument("service_id", metavar="SERVICE_ID", help="the service's ID")
        p.add_argument("deployment_id", metavar="DEPLOYMENT_ID", help="the deployment's ID")
    for p in vv.choices.values():
        api_options(p)


def add_parser(sub: Any) -> None:
    sv = sub.add_parser("service", help="ModelArts services: ls, deploy, show, start, stop, update, predict, rm; v2",
                        description="ModelArts services: deploy models as real-time or batch services (v1), or "
                                    "manage v2 inference services with 'mafmt service v2'.")
    verbs = sv.add_subparsers(dest="verb", metavar="VERB", required=True, parser_class=type(sv))
    p = add_verb(verbs, "ls", "list services", "mafmt service ls --infer-type real-time")
    p.add_argument("--name", help="name filter")
    p.add_argument("--infer-type", choices=("real-time", "batch", "edge"), help="only this kind of service")
    p.add_argument("--status", help="only services in this state (running, stopped, failed, ...)")
    p.add_argument("--max", type=positive_int, metavar="N", help="at most N services")
    for verb, example in (("deploy", "mafmt service deploy svc --model MODEL_ID:100 --wait"),
                          ("update", "mafmt service update SERVICE_ID --model MODEL_ID:100")):
        p = add_verb(verbs, verb, f"{verb} a service", example)
        if verb == "deploy":
            p.add_argument("name", help="service name (starts with a letter)")
        else:
            p.add_argument("service_id", metavar="SERVICE_ID", help="the service's ID")
        p.add_argument("--model", action="append", metavar="ID[:WEIGHT]", help="model config (repeatable)")
        p.add_argument("--spec", default="modelarts.vm.cpu.2u", help="resource specification of each model config")
        p.add_argument("--instances", type=positive_int, default=1, metavar="N", help="instances per model config")
        p.add_argument("--config-json", metavar="JSON", help="the config list as JSON (batch services)")
        p.add_argument("--description", help="free text (at most 100 characters)")
        if verb == "deploy":
            p.add_argument("--infer-type", default="real-time", choices=("real-time", "batch", "edge"),
                           help="kind of service (default real-time)")
            waiting(p)
    for verb, text in (("show", "show a service"), ("monitor", "show a service's instances and calls"),
                       ("logs", "show a service's update log")):
        p = add_verb(verbs, verb, text, f"mafmt service {verb} SERVICE_ID")
        p.add_argument("service_id", metavar="SERVICE_ID", help="the service's ID")
    for verb in ("start", "stop"):
        p = add_verb(verbs, verb, f"{verb} a service", f"mafmt service {verb} SERVICE_ID --wait")
        p.add_argument("service_id", metavar="SERVICE_ID", help="the service's ID")
        waiting(p)
    p = add_verb(verbs, "predict", "call a running real-time service", "mafmt service predict SERVICE_ID '{\"x\": 1}'")
    p.add_argument("service_id", metavar="SERVICE_ID", help="the service's ID")
    p.add_argument("data", metavar="DATA", help="JSON text, a .json file, or a file for --data-type files/images")
    p.add_argument("--data-type", default="json", choices=("json", "files", "images"), help="how DATA is sent")
    p.add_argument("--path", default="/", help="path below the service's address (default /)")
    p = add_verb(verbs, "rm", "delete services", "mafmt service rm SERVICE_ID [SERVICE_ID ...]")
    p.add_argument("service_id", metavar="SERVICE_ID", nargs="+", help="IDs of the services to delete")
    _add_v2(verbs, sv)
    for name, p in verbs.choices.items():
        if name != "v2":
            api_options(p)
    sv.set_defaults(func=run)
