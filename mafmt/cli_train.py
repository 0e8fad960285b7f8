"""CLI command groups ``mafmt train …`` (v2 training jobs), ``mafmt model …`` and
``mafmt service …``, with the conventions of ``mafmt dataset``: credentials from the
environment, ``--endpoint``/``--region``/``--project-id`` overrides, tables or ``--json``,
``--wait`` on asynchronous verbs (exit 1 when the object fails)."""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO

from mafmt.cli_api import _client, _common, _finish, _listing, _show, _waiting
from mafmt.errors import UsageError

__all__ = ["add_train_parsers"]


def _kv(items: list[str] | None, what: str) -> dict[str, str]:
    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"{what} must look like NAME=VALUE, not {item!r}")
        out[key] = value
    return out


def _channels(items: list[str] | None, what: str) -> list[dict[str, str]]:
    return [{"name": k, "obs_url": x} for k, x in _kv(items, what).items()]


def _params(items: list[str] | None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in items or []:
        key, sep, value = item.partition("=")
        out.append({"name": key, "value": value} if sep else {"name": key})
    return out


def cmd_train(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    with _client(args) as ma:
        tj, verb = ma.training_jobs, args.verb
        if verb == "ls":
            filters = [{"key": "name", "operator": "like", "value": [args.name]}] if args.name else None
            if args.phase:
                filters = (filters or []) + [{"key": "phase", "operator": "in", "value": [args.phase]}]
            items = tj.list(filters=filters, max_items=args.max)
            rows = [{"id": j["metadata"]["id"], "name": j["metadata"]["name"], "phase": j["status"]["phase"],
                     "flavor": j["spec"]["resource"].get("flavor_id"), "create_time": j["metadata"]["create_time"]}
                    for j in items]
            return _listing(rows, ("id", "name", "phase", "flavor", "create_time"), args, out)
        if verb == "create":
            job = tj.create(name=args.name, description=args.description, code_dir=args.code_dir,
                            boot_file=args.boot_file, parameters=_params(args.param),
                            inputs=_channels(args.input, "--input"), outputs=_channels(args.output, "--output"),
                            dataset_id=args.dataset_id, dataset_version_id=args.dataset_version_id,
                            framework_type=args.framework, framework_version=args.framework_version,
                            user_image_url=args.image, user_command=args.command,
                            env_variables=_kv(args.env, "--env") or None, flavor_id=args.flavor,
                            node_count=args.nodes, pool_id=args.pool_id, log_url=args.log_url)
            if args.wait:
                tj.wait(job.metadata["id"], timeout=args.timeout, poll=args.poll,
                        show_log=err if args.follow else False)
                job = tj.get(job.metadata["id"])
            return _show(dict(job), args, out)
        if verb == "show":
            return _show(dict(tj.get(args.job_id)), args, out)
        if verb == "logs":
            if args.follow:
                tj.wait(args.job_id, poll=args.poll, show_log=out, timeout=args.timeout)
                return 0
            out.write(tj.logs(args.job_id, args.task)["content"])
            return 0
        if verb == "metrics":
            return _show(dict(tj.metrics(args.job_id, args.task)), args, out)
        if verb == "stop":
            return _show(dict(tj.stop(args.job_id)), args, out)
        if verb == "rm":
            tj.delete(args.job_id)
            return 0
        if verb == "flavors":
            return _listing(tj.flavors(args.type).get("flavors") or [],
                            ("flavor_id", "flavor_name", "flavor_type", "max_num"), args, out)
        if verb == "engines":
            return _listing(tj.engines().get("items") or [], ("engine_id", "engine_name", "engine_version"), args,
                            out)
    raise AssertionError(verb)  # pragma: no cover


def cmd_model(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    with _client(args) as ma:
        verb = args.verb
        if verb == "ls":
            items = ma.models.list(model_name=args.name, model_status=args.status, max_items=args.max)
            return _listing(items, ("model_id", "model_name", "model_version", "model_type", "model_status"), args,
                            out)
        if verb == "create":
            deps = json.loads(args.dependencies) if args.dependencies else None
            task = ma.models.create(model_name=args.name, model_version=args.version,
                                    source_location=args.source, model_type=args.type, runtime=args.runtime,
                                    description=args.description, execution_code=args.execution_code,
                                    dependencies=deps)
            return _finish(task, args, out, err)
        if verb == "show":
            return _show(dict(ma.models.get(args.model_id)), args, out)
        if verb == "rm":
            return _show(dict(ma.models.delete(args.model_id, cascade=args.cascade)), args, out)
    raise AssertionError(verb)  # pragma: no cover


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


def cmd_service(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    with _client(args) as ma:
        sv, verb = ma.services, args.verb
        if verb == "ls":
            items = sv.list(service_name=args.name, infer_type=args.infer_type, status=args.status,
                            max_items=args.max)
            return _listing(items, ("service_id", "service_name", "infer_type", "status", "invocation_times"), args,
                            out)
        if verb == "deploy":
            task = sv.deploy(_configs(args), service_name=args.name, infer_type=args.infer_type,
                             description=args.description)
            return _finish(task, args, out, err)
        if verb == "show":
            return _show(dict(sv.get(args.service_id)), args, out)
        if verb in ("start", "stop"):
            sv.update(args.service_id, status="running" if verb == "start" else "stopped")
            if getattr(args, "wait", False):
                sv.wait(args.service_id, "running" if verb == "start" else "stopped", timeout=args.timeout,
                        poll=args.poll)
            return _show(dict(sv.get(args.service_id)), args, out)
        if verb == "update":
            configs = _configs(args) if (args.model or args.config_json) else None
            sv.update(args.service_id, description=args.description, configs=configs)
            return _show(dict(sv.get(args.service_id)), args, out)
        if verb == "monitor":
            return _show(dict(sv.monitor(args.service_id)), args, out)
        if verb == "logs":
            return _listing(sv.logs(args.service_id).get("logs") or [], ("update_time", "result"), args, out)
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


def add_train_parsers(sub: Any) -> None:
    """Add ``train``, ``model`` and ``service`` to the ``mafmt`` sub-parsers."""
    tr = sub.add_parser("train", help="ModelArts training jobs: ls, create, show, logs, stop, rm, flavors, engines")
    verbs = tr.add_subparsers(dest="verb", metavar="VERB", required=True, parser_class=type(tr))
    p = verbs.add_parser("ls", help="list training jobs")
    p.add_argument("--name", help="fuzzy name filter")
    p.add_argument("--phase", help="Creating, Pending, Running, Completed, Failed, Terminated, ...")
    p.add_argument("--max", type=int, metavar="N")
    p = verbs.add_parser("create", help="create a training job")
    p.add_argument("name")
    p.add_argument("--flavor", required=True, metavar="ID", help="resource flavor (see 'mafmt train flavors')")
    p.add_argument("--nodes", type=int, default=1)
    p.add_argument("--framework", metavar="NAME", help="engine name, e.g. PyTorch")
    p.add_argument("--framework-version", metavar="VERSION")
    p.add_argument("--image", metavar="SWR_URL", help="custom image (with --command)")
    p.add_argument("--command", help="start command of a custom image")
    p.add_argument("--code-dir", metavar="OBS_DIR")
    p.add_argument("--boot-file", metavar="FILE")
    p.add_argument("--param", action="append", metavar="NAME[=VALUE]", help="script argument (repeatable)")
    p.add_argument("--input", action="append", metavar="NAME=OBS_URL", help="input channel (repeatable)")
    p.add_argument("--output", action="append", metavar="NAME=OBS_URL", help="output channel (repeatable)")
    p.add_argument("--dataset-id")
    p.add_argument("--dataset-version-id")
    p.add_argument("--env", action="append", metavar="NAME=VALUE")
    p.add_argument("--pool-id")
    p.add_argument("--log-url", metavar="OBS_DIR")
    p.add_argument("--description")
    p.add_argument("--follow", action="store_true", help="with --wait: stream the log to stderr")
    _waiting(p)
    for verb, text in (("show", "show a job"), ("stop", "terminate a job"), ("rm", "delete a job")):
        verbs.add_parser(verb, help=text).add_argument("job_id")
    for verb, text in (("logs", "print a worker's log"), ("metrics", "print a worker's metrics")):
        p = verbs.add_parser(verb, help=text)
        p.add_argument("job_id")
        p.add_argument("--task", default="worker-0")
        if verb == "logs":
            p.add_argument("--follow", action="store_true", help="stream until the job ends")
            p.add_argument("--poll", type=float, default=1.0)
            p.add_argument("--timeout", type=float, default=3600.0)
    p = verbs.add_parser("flavors", help="list resource flavors")
    p.add_argument("--type", choices=("CPU", "GPU", "Ascend"))
    verbs.add_parser("engines", help="list preset engines")
    for p in verbs.choices.values():
        _common(p)
    tr.set_defaults(func=cmd_train)

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
    _waiting(p)
    verbs.add_parser("show", help="show a model").add_argument("model_id")
    p = verbs.add_parser("rm", help="delete a model")
    p.add_argument("model_id")
    p.add_argument("--cascade", action="store_true", help="also the other versions of the same name")
    for p in verbs.choices.values():
        _common(p)
    md.set_defaults(func=cmd_model)

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
            _waiting(p)
    for verb, text in (("show", "show a service"), ("monitor", "instances and calls"), ("logs", "update log")):
        verbs.add_parser(verb, help=text).add_argument("service_id")
    for verb in ("start", "stop"):
        p = verbs.add_parser(verb, help=f"{verb} a service")
        p.add_argument("service_id")
        _waiting(p)
    p = verbs.add_parser("predict", help="call a running real-time service")
    p.add_argument("service_id")
    p.add_argument("data", help="JSON text, a .json file, or a file for --data-type files/images")
    p.add_argument("--data-type", default="json", choices=("json", "files", "images"))
    p.add_argument("--path", default="/")
    p = verbs.add_parser("rm", help="delete services")
    p.add_argument("service_id", nargs="+")
    for p in verbs.choices.values():
        _common(p)
    sv.set_defaults(func=cmd_service)
