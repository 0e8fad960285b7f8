"""``mafmt publish SRC obs://bucket/prefix/ --dataset NAME``: convert, upload, import and
publish a local dataset in one command (see :mod:`mafmt.publishing`); a re-run resumes."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from mafmt.commands._api import api_options, cli_terms, client, code, positive, positive_int, progress_of, show
from mafmt.commands._util import print_json

__all__ = ["add_parser", "run"]

TERMS = {"dataset_type": "--type", "missing_images": "--missing-images", "src_format": "--from"}


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from mafmt.progress import bar_for
    from mafmt.publishing import publish

    tty = err.isatty() and not args.quiet
    bar = bar_for("importing", err, quiet=args.quiet, unit="sample")

    def stage(name: str, message: str) -> None:
        if tty:
            err.write(f"mafmt publish: {message}\n")

    def imported(state: dict[str, Any]) -> None:
        if bar is not None:
            bar(*progress_of(state))

    with cli_terms(TERMS), client(args) as ma:
        try:
            result = publish(args.src, args.target, dataset=args.dataset, dataset_type=args.type,
                             version=args.version, src_format=args.src_format, images=args.images,
                             description=args.description,
                             missing_images=args.missing_images, client=ma, workers=args.jobs,
                             timeout=args.timeout, poll=args.poll, upload_progress=None if tty else False,
                             on_stage=stage, on_import=imported)
        finally:
            if bar is not None:
                bar.close()
    if result.missing_images and not args.json:
        err.write(f"mafmt: warning: {len(result.missing_images)} image(s) not found locally, e.g. "
                  f"{result.missing_images[0]}: their samples name objects that were not uploaded\n")
    if args.json:
        print_json(result.to_dict(), out)
        return 0
    return show({"dataset_id": result.dataset_id, "dataset_name": result.dataset_name,
                 "dataset": "created" if result.dataset_created else "reused", "version_id": result.version_id,
                 "version_name": result.version_name, "version": "published" if result.version_created else "reused",
                 "samples": result.samples, "imported": result.imported, "annotated": result.annotated,
                 "uploaded": f"{result.uploaded} files ({result.upload_skipped} already there)",
                 "manifest": result.manifest}, args, out)


def add_parser(sub: Any) -> None:
    from mafmt.client.codes import LABELING_TYPES

    p = sub.add_parser(
        "publish", help="convert, upload, import and publish a local dataset on ModelArts (resumable)",
        description="Publish a local dataset on ModelArts in one step: convert SRC to a manifest with its VOC files, "
                    "upload it in parallel (skipping what is there), create or reuse the dataset, import with labels, "
                    "and publish a version. Run it again after an interruption: it resumes without duplicating "
                    "samples or datasets.",
        epilog="example:\n  mafmt publish examples/dataset/train.manifest obs://mafmt-demo/cars/ --dataset cars "
               "--type object_detection\n\ncredentials and endpoints come from the environment ('mafmt emulator' "
               "prints a set for a local ModelArts)",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("src", metavar="SRC", help="the local dataset: any format mafmt reads (manifest, COCO, YOLO, VOC, ...)")
    p.add_argument("target", metavar="TARGET", help="obs://bucket/prefix/ to upload to (the dataset's folders go below)")
    p.add_argument("--dataset", required=True, metavar="NAME", help="dataset name (reused when it exists)")
    p.add_argument("--type", type=code(LABELING_TYPES, "labeling type"), default=LABELING_TYPES["object_detection"],
                   metavar="TYPE", help=f"labeling type: {', '.join(LABELING_TYPES)} or its number "
                                        "(default object_detection)")
    p.add_argument("--version", metavar="NAME", help="version name (reused when it exists; default V001, V002, ...)")
    p.add_argument("--from", dest="src_format", metavar="FMT", help="format of SRC (default: detected)")
    p.add_argument("--images", metavar="DIR", help="folder holding the images when SRC does not say (COCO)")
    p.add_argument("--description", help="description of a new dataset")
    p.add_argument("--missing-images", choices=("warn", "skip", "error"), default="warn",
                   help="a sample whose image is not on disk: keep it with a warning (default), leave it out, or fail")
    p.add_argument("-j", "--jobs", type=positive_int, metavar="N", help="parallel uploads (default: the OBS setting)")
    p.add_argument("--timeout", type=positive, default=3600.0, metavar="S", help="give up waiting after S seconds")
    p.add_argument("--poll", type=positive, default=1.0, metavar="S", help="first polling interval in seconds")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    api_options(p)
    p.set_defaults(func=run)
