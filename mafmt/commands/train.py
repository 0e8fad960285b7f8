"""``mafmt train ...``: ModelArts training jobs (v2)."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from mafmt.commands._api import api_options, client, listing, show, waiting
from mafmt.errors import UsageError

__all__ = ["add_parser", "run"]


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


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    with client(args) as ma:
        tj, verb = ma.training_jobs, args.verb
        if verb == "ls":
            filters = [{"key": "name", "operator": "like", "value": [args.name]}] if args.name else None
            if args.phase:
                filters = (filters or []) + [{"key": "phase", "operator": "in", "value": [args.phase]}]
            items = tj.list(filters=filters, max_items=args.max)
            rows = [{"id": j["metadata"]["id"], "name": j["metadata"]["name"], "phase": j["status"]["phase"],
                     "flavor": j["spec"]["resource"].get("flavor_id"), "create_time": j["metadata"]["create_time"]}
                    for j in items]
            return listing(rows, ("id", "name", "phase", "flavor", "create_time"), args, out)
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
            return show(dict(job), args, out)
        if verb == "show":
            return show(dict(tj.get(args.job_id)), args, out)
        if verb == "logs":
            if args.follow:
                tj.wait(args.job_id, poll=args.poll, show_log=out, timeout=args.timeout)
                return 0
            out.write(tj.logs(args.job_id, args.task)["content"])
            return 0
        if verb == "metrics":
            return show(dict(tj.metrics(args.job_id, args.task)), args, out)
        if verb == "stop":
            return show(dict(tj.stop(args.job_id)), args, out)
        if verb == "rm":
            tj.delete(args.job_id)
            return 0
        if verb == "flavors":
            return listing(tj.flavors(args.type).get("flavors") or [],
                            ("flavor_id", "flavor_name", "flavor_type", "max_num"), args, out)
        if verb == "engines":
            return listing(tj.engines().get("items") or [], ("engine_id", "engine_name", "engine_version"), args,
                            out)
    raise AssertionError(verb)  # pragma: no cover


def add_parser(sub: Any) -> None:
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
    waiting(p)
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
        api_options(p)
    tr.set_defaults(func=run)
