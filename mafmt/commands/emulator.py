"""``mafmt emulator``: a stateful ModelArts on 127.0.0.1 with its own S3 server."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from mafmt.commands._util import print_json

__all__ = ["add_parser", "run"]


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    import tempfile
    import threading

    from mafmt.emulator import Emulator

    obs_endpoint, obs_root, extra_env, moto = args.obs_endpoint, args.obs_root, {}, None
    if not obs_endpoint and not obs_root:
        moto, obs_endpoint = _start_moto()
        if moto is None:
            obs_root = tempfile.mkdtemp(prefix="mafmt-obs-")
            err.write(f"moto is not installed: OBS paths are served from the local folder {obs_root}\n")
        else:
            extra_env = {"MAFMT_OBS_SIGNATURE": "v4", "MAFMT_OBS_REGION": "us-east-1", "MAFMT_OBS_PATH_STYLE": "true"}
    emu = Emulator(ak=args.ak, sk=args.sk, project_id=args.project_id, port=args.port, obs_root=obs_root,
                   obs_endpoint=obs_endpoint, task_delay=args.task_delay, publish_interval=args.publish_interval)
    if getattr(args, "tick", None):
        from mafmt.emulator._ml import ml_state  # training jobs, models, services advance one state per tick

        ml_state(emu.store).tick = args.tick
    emu.start()
    if obs_endpoint and not obs_root:
        from mafmt import storage

        storage.configure_obs(endpoint=obs_endpoint, access_key=emu.ak, secret_key=emu.env()["HUAWEICLOUD_SDK_SK"],
                              **({"signature": "v4", "region": "us-east-1", "path_style": True} if moto else {}))
        if moto is not None and args.bucket:  # the emulator's own S3 server starts empty: give it a bucket
            storage.backend_for("obs://" + args.bucket).create_bucket(args.bucket)  # type: ignore[attr-defined]
    env = {**emu.env(secrets_too=emu.generated_sk), **extra_env}  # a secret you gave is not echoed
    if args.json:
        print_json(env, out)
    else:
        out.write(f"# ModelArts emulator on {emu.url}" + (f", OBS at {obs_endpoint}" if obs_endpoint else "") + "\n")
        if moto is not None and args.bucket:
            out.write(f"# bucket obs://{args.bucket}/ is ready\n")
        if not emu.generated_sk:
            out.write("# HUAWEICLOUD_SDK_SK: the secret key you gave (--sk or the environment)\n")
        out.writelines(f"export {key}={value}\n" for key, value in env.items())
    out.flush()
    stop = threading.Event()
    try:
        stop.wait(args.duration if args.duration else None)
    except KeyboardInterrupt:
        pass
    finally:
        emu.stop()
        if moto is not None:
            moto.stop()
    return 0


def _start_moto() -> tuple[Any, str | None]:
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        return None, None
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log on the emulator's console
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    return server, f"http://127.0.0.1:{port}"


def add_parser(sub: Any) -> None:
    import argparse

    from mafmt.commands._api import nonnegative, positive

    p = sub.add_parser(
        "emulator", help="run a local ModelArts emulator (prints the client environment)",
        description="Run a stateful ModelArts on 127.0.0.1 with its own S3 server (bucket mafmt-demo ready) and print "
                    "the 'export ...' lines a client needs; stop it with Ctrl-C.",
        epilog="example:\n  mafmt emulator --tick 0.2      # then paste the export lines into a second shell",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free port)")
    p.add_argument("--obs-endpoint", metavar="URL", help="S3-compatible OBS endpoint (default: start a local one)")
    p.add_argument("--obs-root", metavar="DIR", help="serve OBS paths from this local folder instead")
    p.add_argument("--ak", help="accepted access key (default: HUAWEICLOUD_SDK_AK, else random)")
    p.add_argument("--sk", help="accepted secret key (default: HUAWEICLOUD_SDK_SK, else random)")
    p.add_argument("--project-id", help="accepted project ID (default: HUAWEICLOUD_SDK_PROJECT_ID, else random)")
    p.add_argument("--task-delay", type=nonnegative, default=0.0, metavar="S", help="delay before each async task")
    p.add_argument("--publish-interval", type=nonnegative, default=0.0, metavar="S",
                   help="minimum seconds between two versions of a dataset (the cloud: 60; default 0)")
    p.add_argument("--duration", type=nonnegative, default=0.0, metavar="S", help="stop after S seconds (0: on Ctrl-C)")
    p.add_argument("--bucket", default="mafmt-demo", metavar="NAME",
                   help="bucket created on the emulator's own S3 server (default: mafmt-demo; '' for none)")
    p.add_argument("--tick", type=positive, metavar="S",
                   help="seconds per state of training jobs, models and services (default 0.5 or MAFMT_EMULATOR_TICK)")
    p.add_argument("--json", action="store_true", help="print the environment as JSON")
    p.set_defaults(func=run)
