"""``mafmt train ...``: ModelArts training jobs (v2), and ``mafmt train algorithm ...``:
the v2 algorithms a job can use."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from mafmt.commands._api import (
    Col,
    add_verb,
    api_options,
    cli_terms,
    client,
    listing,
    local_time,
    positive,
    positive_int,
    show,
    waiting,
)
from mafmt.errors import UsageError

__all__ = ["add_parser", "run"]

#: library keyword -> flag, for messages
TERMS = {"framework_type": "--framework", "framework_version": "--framework-version", "user_image_url": "--image",
         "user_command": "--command", "code_dir": "--code-dir", "boot_file": "--boot-file",
         "dataset_id": "--dataset-id", "dataset_version_id": "--dataset-version-id", "algorithm_id": "--algorithm-id",
         "train_instance_type": "--flavor", "train_instance_count": "--nodes", "flavor_id": "--flavor",
         "job_id": "JOB_ID", "image_url": "--image", "command": "--command"}


def _kv(items: list[str] | None, what: str, form: str = "NAME=VALUE") -> dict[str, str]:
    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"{what} must look like {form}, not {item!r}")
        out[key] = value
    return out


def _channels(items: list[str] | None, what: str) -> list[dict[str, str]]:
    return [{"name": k, "obs_url": x} for k, x in _kv(items, what).items()]


def _params(items: list[str] | None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in items or []:
        key, sep, value = item.partition("=")
        if not key:
            raise UsageError(f"--param must look like NAME[=VALUE], not {item!r}")
        out.append({"name": key, "value": value} if sep else {"name": key})
    return out


def failure_reason(job: dict[str, Any]) -> str | None:
    """Why a job failed: its tasks' messages (None when it did not fail)."""
    status = job.get("status") or {}
    if status.get("phase") not in ("Failed", "Abnormal"):
        return None
    msgs = [t.get("message") for t in status.get("task_statuses") or [] if t.get("message")]
    return "; ".join(msgs) or f"the job ended {status.get('phase')}"


def _job_view(job: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    if args.json:
        return dict(job)
    view = dict(job)
    reason = failure_reason(job)
    if reason:
        view["failure_reason"] = reason
    meta, status = job.get("metadata") or {}, job.get("status") or {}
    view["created"] = local_time(meta.get("create_time"))
    view["phase"] = status.get("phase")
    return view


def _algorithm(ma: Any, args: argparse.Namespace, out: TextIO) -> int:
    al, verb = ma.algorithms, args.algo_verb
    if verb == "ls":
        rows = [{"id": a["metadata"]["id"], "name": a["metadata"]["name"],
                 "engine": ((a.get("job_config") or {}).get("engine") or {}).get("engine_version", ""),
                 "create_time": a["metadata"].get("create_time")} for a in al.list(name=args.name, max_items=args.max)]
        return listing(rows, ("id", "name", "engine", Col.key("create_time", local_time)), args, out)
    if verb in ("create", "update"):
        options = {"code_dir": args.code_dir, "boot_file": args.boot_file, "command": args.command,
                   "image_url": args.image, "engine_name": args.framework, "engine_version": args.framework_version,
                   "parameters": _params(args.param) or None, "inputs": args.input, "outputs": args.output,
                   "description": args.description}
        if verb == "create":
            return show(dict(al.create(args.name, **options)), args, out)
        return show(dict(al.update(args.algorithm_id, **{k: v for k, v in options.items() if v is not None})), args,
                    out)
    if verb == "show":
        return show(dict(al.get(args.algorithm_id)), args, out)
    if verb == "rm":
        al.delete(args.algorithm_id)
        return 0
    raise AssertionError(verb)  # pragma: no cover


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    with cli_terms(TERMS), client(args) as ma:
        tj, verb = ma.training_jobs, args.verb
        if verb == "algorithm":
            return _algorithm(ma, args, out)
        if verb == "ls":
            filters = [{"key": "name", "operator": "like", "value": [args.name]}] if args.name else None
            if args.phase:
                filters = (filters or []) + [{"key": "phase", "operator": "in", "value": [args.phase]}]
            items = tj.list(filters=filters, max_items=args.max).to_list()
            if args.json:
                return listing(items, (), args, out)
            rows = [{"id": j["metadata"]["id"], "name": j["metadata"]["name"], "phase": j["status"]["phase"],
                     "flavor": j["spec"]["resource"].get("flavor_id"), "create_time": j["metadata"]["create_time"]}
                    for j in items]
            return listing(rows, ("id", "name", "phase", "flavor", Col.key("create_time", local_time)), args, out)
        if verb == "create":
            job = tj.create(name=args.name, description=args.description, code_dir=args.code_dir,
                            boot_file=args.boot_file, parameters=_params(args.param),
                            inputs=_channels(args.input, "--input"), outputs=_channels(args.output, "--output"),
                            dataset_id=args.dataset_id, dataset_version_id=args.dataset_version_id,
                            framework_type=args.framework, framework_version=args.framework_version,
                            user_image_url=args.image, user_command=args.command,
                            env_variables=_kv(args.env, "--env") or None, flavor_id=args.flavor,
                            node_count=args.nodes, pool_id=args.pool_id, log_url=args.log_url,
                            algorithm_id=args.algorithm_id)
            if args.wait:
                from mafmt.progress import bar_for

                bar = None if args.follow else bar_for(f"training {args.name}", err, quiet=args.quiet, unit="s")
                try:
                    tj.wait(job.metadata["id"], timeout=args.timeout, poll=args.poll,
                            show_log=err if args.follow else False,
                            progress=(lambda j: bar(int(((j.get("status") or {}).get("duration") or 0) / 1000),
                                                    None)) if bar is not None else None)
                finally:
                    if bar is not None:
                        bar.close()
                job = tj.get(job.metadata["id"])
            return show(_job_view(job, args), args, out)
        if verb == "show":
            return show(_job_view(tj.get(args.job_id), args), args, out)
        if verb == "logs":
            if args.follow:
                tj.wait(args.job_id, poll=args.poll, show_log=out, timeout=args.timeout)
                return 0
            if args.all:
                out.writelines(line + "\n" for line in tj.log_lines(args.job_id, args.task))
                return 0
            out.write(tj.logs(args.job_id, args.task)["content"])
            return 0
        if verb == "metrics":
            return show(dict(tj.metrics(args.job_id, args.task)), args, out)
        if verb == "tasks":
            return listing(tj.tasks(args.job_id), ("task", "ip", "host_ip", "schedule_count"), args, out)
        if verb == "events":
            return listing(tj.events(args.job_id, level=args.level), ("time", "level", "source", "message"), args,
                           out)
        if verb == "check-name":
            taken = tj.name_taken(args.name)
            if args.json:
                return show({"is_duplicate": taken}, args, out)
            out.write(f"{args.name}: {'taken' if taken else 'free'}\n")
            return 0
        if verb == "tag":
            tj.add_tags(args.job_id, _kv(args.tags, "a tag", "KEY=VALUE"))
            return 0
        if verb == "untag":
            tj.remove_tags(args.job_id, args.keys)
            return 0
        if verb == "tags":
            if args.job_id is None:  # every tag key used on the project's jobs
                return listing(tj.project_tags(), ("key", Col("values", lambda r: r.get("values"),
                                                               lambda v: ", ".join(v or []))), args, out)
            tags = tj.tags(args.job_id)
            return listing([{"key": k, "value": v} for k, v in tags.items()], ("key", "value"), args, out)
        if verb == "update":
            tj.update(args.job_id, args.description)
            return show(_job_view(tj.get(args.job_id), args), args, out)
        if verb == "stop":
            return show(_job_view(tj.stop(args.job_id), args), args, out)
        if verb == "rm":
            if len(args.job_id) == 1:
                tj.delete(args.job_id[0])
            else:
                tj.batch_delete(args.job_id)
            return 0
        if verb == "flavors":
            return listing(tj.flavors(args.type).get("flavors") or [],
                           ("flavor_id", "flavor_name", "flavor_type", "max_num"), args, out)
        if verb == "engines":
            return listing(tj.engines().get("items") or [], ("engine_id", "engine_name", "engine_version"), args,
                           out)
    raise AssertionError(verb)  # pragma: no cover


def _code_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--framework", metavar="NAME", help="engine name, e.g. PyTorch ('mafmt train engines')")
    p.add_argument("--framework-version", metavar="VERSION", help="engine version, e.g. PyTorch-1.8.0-python3.7")
    p.add_argument("--image", metavar="SWR_URL", help="custom image (with --command)")
    p.add_argument("--command", help="start command of a custom image")
    p.add_argument("--code-dir", metavar="OBS_DIR", help="OBS folder with the training code (with --boot-file)")
    p.add_argument("--boot-file", metavar="FILE", help="start script, in --code-dir")
    p.add_argument("--param", action="append", metavar="NAME[=VALUE]", help="script argument (repeatable)")
    p.add_argument("--description", help="free text (at most 256 characters)")


def _add_algorithm(verbs: Any, parent: argparse.ArgumentParser) -> None:
    al = add_verb(verbs, "algorithm", "v2 algorithms: reusable training configurations a job can use",
                  "mafmt train algorithm ls")
    av = al.add_subparsers(dest="algo_verb", metavar="VERB", required=True, parser_class=type(parent))
    p = add_verb(av, "ls", "list algorithms", "mafmt train algorithm ls --name resnet")
    p.add_argument("--name", help="name filter")
    p.add_argument("--max", type=positive_int, metavar="N", help="at most N algorithms")
    p = add_verb(av, "create", "create an algorithm",
                 "mafmt train algorithm create resnet --code-dir obs://bkt/code/ --boot-file train.py "
                 "--framework PyTorch --framework-version PyTorch-1.8.0-python3.7")
    p.add_argument("name", help="algorithm name (letters, digits, '_' and '-')")
    _code_options(p)
    p.add_argument("--input", action="append", metavar="NAME", help="an input channel the algorithm reads (repeatable)")
    p.add_argument("--output", action="append", metavar="NAME", help="an output channel it writes (repeatable)")
    p = add_verb(av, "update", "change an algorithm", "mafmt train algorithm update ALGORITHM_ID --description new")
    p.add_argument("algorithm_id", metavar="ALGORITHM_ID", help="the algorithm's ID")
    _code_options(p)
    p.add_argument("--input", action="append", metavar="NAME", help="input channels (replace the old ones)")
    p.add_argument("--output", action="append", metavar="NAME", help="output channels (replace the old ones)")
    for verb, text in (("show", "show an algorithm"), ("rm", "delete an algorithm")):
        p = add_verb(av, verb, text, f"mafmt train algorithm {verb} ALGORITHM_ID")
        p.add_argument("algorithm_id", metavar="ALGORITHM_ID", help="the algorithm's ID")
    for p in av.choices.values():
        api_options(p)


def add_parser(sub: Any) -> None:
    tr = sub.add_parser("train", help="ModelArts training jobs: ls, create, show, logs, events, stop, rm, algorithm, ...",
                        description="ModelArts training jobs (v2): create, follow and manage them; v2 algorithms.")
    verbs = tr.add_subparsers(dest="verb", metavar="VERB", required=True, parser_class=type(tr))
    p = add_verb(verbs, "ls", "list training jobs", "mafmt train ls --phase Running")
    p.add_argument("--name", help="fuzzy name filter")
    p.add_argument("--phase", help="Creating, Pending, Running, Completed, Failed, Terminated, ...")
    p.add_argument("--max", type=positive_int, metavar="N", help="at most N jobs")
    p = add_verb(verbs, "create", "create a training job",
                 "mafmt train create job1 --flavor modelarts.vm.cpu.8u --framework PyTorch --framework-version "
                 "PyTorch-1.8.0-python3.7 --code-dir obs://bkt/code/ --boot-file train.py --wait")
    p.add_argument("name", help="job name (letters, digits, '_' and '-')")
    p.add_argument("--flavor", required=True, metavar="ID", help="resource flavor ('mafmt train flavors')")
    p.add_argument("--nodes", type=positive_int, default=1, metavar="N", help="number of nodes (default 1)")
    _code_options(p)
    p.add_argument("--algorithm-id", metavar="ID", help="use this v2 algorithm ('mafmt train algorithm ls')")
    p.add_argument("--input", action="append", metavar="NAME=OBS_URL", help="input channel (repeatable)")
    p.add_argument("--output", action="append", metavar="NAME=OBS_URL", help="output channel (repeatable)")
    p.add_argument("--dataset-id", help="train on this dataset")
    p.add_argument("--dataset-version-id", help="... on this version of it (default: the current one)")
    p.add_argument("--env", action="append", metavar="NAME=VALUE", help="environment variable (repeatable)")
    p.add_argument("--pool-id", help="dedicated resource pool")
    p.add_argument("--log-url", metavar="OBS_DIR", help="OBS folder for the job's log")
    p.add_argument("--follow", action="store_true", help="with --wait: stream the log to stderr")
    waiting(p)
    for verb, text in (("show", "show a job (with the failure reason when it failed)"), ("stop", "terminate a job"),
                       ("tasks", "list a job's tasks (workers)")):
        p = add_verb(verbs, verb, text, f"mafmt train {verb} JOB_ID")
        p.add_argument("job_id", metavar="JOB_ID", help="the job's ID ('mafmt train ls')")
    p = add_verb(verbs, "tags", "list a job's tags (without JOB_ID: every tag key of the project's jobs)",
                 "mafmt train tags JOB_ID")
    p.add_argument("job_id", metavar="JOB_ID", nargs="?", help="the job's ID")
    p = add_verb(verbs, "update", "change a job's description", "mafmt train update JOB_ID --description 'new text'")
    p.add_argument("job_id", metavar="JOB_ID", help="the job's ID")
    p.add_argument("--description", required=True, help="the new description (at most 256 characters)")
    p = add_verb(verbs, "rm", "delete jobs (several in one call)", "mafmt train rm JOB_ID [JOB_ID ...]")
    p.add_argument("job_id", metavar="JOB_ID", nargs="+", help="IDs of the jobs to delete")
    p = add_verb(verbs, "events", "list a job's events", "mafmt train events JOB_ID --level Error")
    p.add_argument("job_id", metavar="JOB_ID", help="the job's ID")
    p.add_argument("--level", choices=("Info", "Warning", "Error"), help="only events of this level")
    for verb, text in (("logs", "print a worker's log"), ("metrics", "print a worker's metrics")):
        p = add_verb(verbs, verb, text, f"mafmt train {verb} JOB_ID --task worker-0")
        p.add_argument("job_id", metavar="JOB_ID", help="the job's ID")
        p.add_argument("--task", default="worker-0", help="which task (default worker-0; 'mafmt train tasks')")
        if verb == "logs":
            p.add_argument("--all", action="store_true", help="the whole log, page by page, not its last 5 MB")
            p.add_argument("--follow", action="store_true", help="stream until the job ends")
            p.add_argument("--poll", type=positive, default=1.0, metavar="S", help="polling interval with --follow")
            p.add_argument("--timeout", type=positive, default=3600.0, metavar="S", help="give up after S seconds")
    p = add_verb(verbs, "check-name", "tell whether a job name is taken", "mafmt train check-name job1")
    p.add_argument("name", help="the job name")
    p = add_verb(verbs, "tag", "tag a job", "mafmt train tag JOB_ID team=cv stage=dev")
    p.add_argument("job_id", metavar="JOB_ID", help="the job's ID")
    p.add_argument("tags", metavar="KEY=VALUE", nargs="+", help="tags to add or overwrite")
    p = add_verb(verbs, "untag", "remove tags of a job", "mafmt train untag JOB_ID team")
    p.add_argument("job_id", metavar="JOB_ID", help="the job's ID")
    p.add_argument("keys", metavar="KEY", nargs="+", help="tag keys to remove")
    p = add_verb(verbs, "flavors", "list resource flavors", "mafmt train flavors --type GPU")
    p.add_argument("--type", choices=("CPU", "GPU", "Ascend"), help="only flavors of this kind")
    add_verb(verbs, "engines", "list preset engines", "mafmt train engines")
    _add_algorithm(verbs, tr)
    for name, p in verbs.choices.items():
        if name != "algorithm":
            api_options(p)
    tr.set_defaults(func=run)
