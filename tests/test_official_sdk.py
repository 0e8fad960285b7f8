"""The official client (``huaweicloudsdkmodelarts``, unchanged) against the emulator, for
every operation both have; and mafmt's own requests checked against the official
request models (issue 14, items 4 and 7).

For each operation the official client's call must be signed acceptably (the emulator
verifies every signature), have its body accepted (2xx), deserialize with its main
fields set, and the raw answer must have no key and no type the official response model
does not have. The scenario runs once per module; each operation is its own test case.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import official_models as om
import pytest

core = pytest.importorskip("huaweicloudsdkcore")

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import SdkException
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkcore.http.http_handler import HttpHandler

AK, SK = "MAFMTTESTAK0000000001", "mafmtTestSecretKey0000000000000000000001"
PID = "0123456789abcdef0123456789abcdef"
ENGINE = {"engine_name": "PyTorch", "engine_version": "PyTorch-1.8.0-python3.7"}
JOB = {"kind": "job", "metadata": {"name": "official-job", "description": "from the official client"},
       "algorithm": {"code_dir": "obs://b/code/", "boot_file": "obs://b/code/train.py", "engine": ENGINE,
                     "parameters": [{"name": "epochs", "value": "2"}], "environments": {"MY_VAR": "1"},
                     "outputs": [{"name": "out", "remote": {"obs": {"obs_url": "obs://b/out/"}}}]},
       "spec": {"resource": {"flavor_id": "modelarts.vm.cpu.8u", "node_count": 1}}}
ALGORITHM = {"metadata": {"name": "official-algo", "description": "an algorithm"},
             "job_config": {"code_dir": "obs://b/code/", "boot_file": "obs://b/code/train.py", "engine": ENGINE,
                            "parameters": [{"name": "lr", "value": "0.1"}],
                            "inputs": [{"name": "data_url"}], "outputs": [{"name": "train_url"}]}}
DEPLOYMENT = {"name": "blue", "weight": 100, "count": 1,
              "unit_configs": [{"image": {"source": "SWR", "swr_path": "swr.example.com/org/infer:1"},
                                "flavor": "modelarts.vm.cpu.2u", "port": 8080}]}
SERVICE = {"name": "official-svc", "type": "REAL_TIME", "deploy_type": "SINGLE", "group_configs": [DEPLOYMENT],
           "runtime_config": {"service_invoke": {"port": 8080, "protocol": "HTTPS", "auth_type": "TOKEN"},
                              "service_limit": {"rate_limit": {"num": 100, "unit": "SECONDS"},
                                                "request_size_limit": 12, "request_timeout": 60}},
           "custom_metrics_path": ""}

#: operation -> attribute paths of the deserialized answer that must not be None
MAIN = {
    "ShowTrainingJobFlavors": ["total_count", "flavors"], "ShowTrainingJobEngines": ["total", "items"],
    "CreateAlgorithm": ["metadata.id", "job_config.code_dir"], "ListAlgorithms": ["total", "count", "items"],
    "ShowAlgorithmByUuid": ["metadata.name", "job_config.engine"], "ChangeAlgorithm": ["metadata.description"],
    "CreateTrainingJob": ["kind", "metadata.id", "status.phase", "algorithm.environments", "spec.resource"],
    "ListTrainingJobs": ["total", "count", "items"], "ShowTrainingJobDetails": ["metadata.name", "status.phase"],
    "ValidateTrainingJobName": ["is_duplicate"], "ListTrainingJobTasks": ["body"],
    "ShowTrainingJobLogsPreview": ["content", "full_size"], "ShowTrainingJobLogsFromAom": ["content", "lines"],
    "ShowTrainingJobMetrics": ["metrics"], "ListTrainingJobEvents": ["total", "events"],
    "ShowTrainJobTags": ["tags"], "ListTrainingJobTags": ["tags"], "StopTrainingJob": ["status.phase"],
    "CreateInferService": ["id", "status", "version"], "ListInferServices": ["data", "total", "pages"],
    "ShowInferService": ["id", "name", "predict_url", "create_at"], "UpdateInferService": ["version"],
    "StopInferService": ["status"], "StartInferService": ["status"], "CreateInferDeployment": ["id", "status"],
    "ListInferDeployments": ["data", "total"], "ShowInferDeployment": ["name", "unit_configs", "create_at"],
    "DeleteInferDeployment": ["id"], "ListInferServiceEvents": ["data", "total"],
    "BatchDeleteInferServices": ["service_responses"],
}


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _get(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


class Run:
    """The official client wired to an emulator, recording each call's outcome."""

    def __init__(self, emu: Any) -> None:
        from huaweicloudsdkmodelarts.v1 import ModelArtsClient

        self.raw: list[Any] = []
        cfg = HttpConfig.get_default_config()
        cfg.retry_times = 0
        handler = HttpHandler().add_response_handler(lambda response, logger: self.raw.append(response))
        self.client = (ModelArtsClient.new_builder().with_http_config(cfg)
                       .with_credentials(BasicCredentials(AK, SK, PID)).with_endpoints([emu.url])
                       .with_http_handler(handler).build())
        self.results: dict[str, tuple[Any, Any, str | None]] = {}

    def call(self, op_name: str, body: Any = None, **params: Any) -> Any:
        """Call one operation; record (answer object, raw JSON, error)."""
        import warnings

        self.raw.clear()
        req = om.request(op_name, body, **params)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                resp = getattr(self.client, snake(op_name))(req)
            except SdkException as exc:
                self.results[op_name] = (None, None, f"{type(exc).__name__}: {exc}")
                return None
        text = self.raw[-1].text if self.raw else ""
        trouble = "; ".join(str(w.message) for w in caught) or None  # e.g. a date-time it could not read
        self.results[op_name] = (resp, json.loads(text) if text.strip() else None, trouble)
        return resp


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Run:
    from mafmt.emulator import Emulator
    from mafmt.emulator._ml import ml_state

    root = tmp_path_factory.mktemp("obs")
    with Emulator(ak=AK, sk=SK, project_id=PID, obs_root=str(root)) as emu:
        ml_state(emu.store).tick = 0.05
        r = Run(emu)
        r.call("ShowTrainingJobFlavors")
        r.call("ShowTrainingJobEngines")
        algo = r.call("CreateAlgorithm", ALGORITHM)
        aid = algo.metadata.id if algo else "missing"
        r.call("ListAlgorithms", limit=10, offset=0)
        r.call("ShowAlgorithmByUuid", algorithm_id=aid)
        r.call("ChangeAlgorithm", {**ALGORITHM, "metadata": {"name": "official-algo", "description": "changed"}},
               algorithm_id=aid)
        job = r.call("CreateTrainingJob", JOB)
        jid = job.metadata.id if job else "missing"
        by_algo = {"kind": "job", "metadata": {"name": "by-algorithm"}, "algorithm": {"id": aid},
                   "spec": {"resource": {"flavor_id": "modelarts.vm.cpu.8u", "node_count": 1}}}
        second = r.client.create_training_job(om.request("CreateTrainingJob", by_algo))
        # stopped at once: on a 0.05 s tick a job ends within 0.25 s, and a busy machine is slow
        r.call("StopTrainingJob", {"action_type": "terminate"}, training_job_id=second.metadata.id)
        r.call("ValidateTrainingJobName", job_name="official-job")
        r.call("ListTrainingJobs", {"offset": 0, "limit": 10, "filters": [
            {"key": "name", "operator": "like", "value": ["official"]}]})
        r.call("ShowTrainingJobDetails", training_job_id=jid)
        r.call("ChangeTrainingJobDescription", {}, training_job_id=jid)  # every field optional
        r.call("ListTrainingJobTasks", training_job_id=jid)
        r.call("ShowTrainingJobLogsPreview", training_job_id=jid, task_id="worker-0")
        r.call("ShowTrainingJobLogsFromAom", training_job_id=jid, task_id="worker-0", lines=10, order="asc")
        r.call("ShowTrainingJobMetrics", training_job_id=jid, task_id="worker-0")
        r.call("ListTrainingJobEvents", training_job_id=jid, offset=0, limit=10)
        r.call("CreateTrainJobTags", {"tags": [{"key": "team", "value": "cv"}]}, training_job_id=jid)
        r.call("ShowTrainJobTags", training_job_id=jid)
        r.call("ListTrainingJobTags", limit=10, offset=0)
        r.call("DeleteTrainJobTags", {"tags": [{"key": "team"}]}, training_job_id=jid)
        r.call("BatchDeleteTrainingJob", {"jobs": [{"kind": "job", "metadata": {"id": second.metadata.id}}]})
        r.call("DeleteTrainingJob", training_job_id=jid)
        r.call("DeleteAlgorithm", algorithm_id=aid)
        svc = r.call("CreateInferService", SERVICE)
        sid = svc.id if svc else "missing"
        r.call("ListInferServices", limit=10, offset=0)
        r.call("ShowInferService", service_id=sid)
        emu.store.clock()  # (the service deploys on the 0.05 s tick)
        __import__("time").sleep(0.15)
        r.call("UpdateInferService", {"description": "updated"}, service_id=sid)
        r.call("StopInferService", service_id=sid)
        r.call("StartInferService", service_id=sid)
        dep = r.call("CreateInferDeployment", {**DEPLOYMENT, "name": "green", "weight": 0}, service_id=sid)
        did = dep.id if dep else "missing"
        r.call("ListInferDeployments", service_id=sid, limit=10, offset=0)
        r.call("ShowInferDeployment", service_id=sid, deployment_id=did)
        r.call("DeleteInferDeployment", service_id=sid, deployment_id=did)
        r.call("ListInferServiceEvents", service_id=sid, limit=10, offset=0)
        r.call("BatchDeleteInferServices", {"service_ids": [sid]})
        yield r


def test_every_shared_operation_is_exercised(run: Run) -> None:
    from mafmt.emulator import Emulator
    from mafmt.emulator._http import ApiError

    emu = Emulator(ak=AK, sk=SK, project_id=PID)
    try:
        served = []
        for op in om.operations():  # all of them, not only mafmt's areas: every operation both have
            path = re.sub(r"\{(\w+)\}", lambda m: PID if m.group(1) == "project_id" else "id1", op.path)
            try:
                emu.app.router.match(op.method, path)
                served.append(op.name)
            except ApiError:
                pass
    finally:
        emu.store.stop()
    assert sorted(served) == sorted(run.results), "every operation the emulator serves is in the scenario"
    assert len(served) >= 36


@pytest.mark.parametrize("op_name", sorted({
    "ShowTrainingJobFlavors", "ShowTrainingJobEngines", "CreateAlgorithm", "ListAlgorithms", "ShowAlgorithmByUuid",
    "ChangeAlgorithm", "DeleteAlgorithm", "CreateTrainingJob", "ValidateTrainingJobName", "ListTrainingJobs",
    "ShowTrainingJobDetails", "ChangeTrainingJobDescription", "ListTrainingJobTasks", "ShowTrainingJobLogsPreview",
    "ShowTrainingJobLogsFromAom", "ShowTrainingJobMetrics", "ListTrainingJobEvents", "CreateTrainJobTags",
    "ShowTrainJobTags", "ListTrainingJobTags", "DeleteTrainJobTags", "StopTrainingJob", "BatchDeleteTrainingJob",
    "DeleteTrainingJob", "CreateInferService", "ListInferServices", "ShowInferService", "UpdateInferService",
    "StopInferService", "StartInferService", "BatchDeleteInferServices", "ListInferServiceEvents",
    "CreateInferDeployment", "ListInferDeployments", "ShowInferDeployment", "DeleteInferDeployment"}))
def test_official_client_against_the_emulator(run: Run, op_name: str) -> None:
    resp, raw, error = run.results[op_name]
    assert error is None, error  # signature verified, body accepted, answer 2xx
    op = next(o for o in om.operations() if o.name == op_name)
    assert om.problems(raw, om.body_type(op.response)) == []  # no unknown key, no type difference
    for dotted in MAIN.get(op_name, []):
        assert _get(resp, dotted) is not None, f"{op_name}: {dotted} deserialized as None"
    if isinstance(raw, dict):  # nothing the answer carried was lost in deserialization
        cls = om.model(op.response)
        by_key = {cls.attribute_map[a]: a for a in cls.openapi_types}
        lost = [k for k, x in raw.items() if x is not None and k in by_key and getattr(resp, by_key[k]) is None]
        assert lost == []


def test_no_official_path_word_is_taken_as_an_id() -> None:
    """Every official path (IDs filled in) reaches the emulator's route of that operation
    or none: a literal word of the path (``batch-delete``, ``tags``, ``autosearch``, ...)
    never lands in a route parameter."""
    from mafmt.emulator import Emulator
    from mafmt.emulator._http import ApiError

    emu = Emulator(ak=AK, sk=SK, project_id=PID)
    try:
        wrong, routed = [], 0
        for op in om.operations():
            path = re.sub(r"\{(\w+)\}", lambda m: PID if m.group(1) == "project_id" else "id1", op.path)
            try:
                _, params = emu.app.router.match(op.method, path)
            except ApiError:
                continue
            routed += 1
            taken = {k: x for k, x in params.items() if x not in (PID, "id1")}
            if taken:
                wrong.append(f"{op.method} {op.path} ({op.name}): {taken}")
        assert wrong == [] and routed >= 36
        for method, path, status in [("GET", "training-jobs/batch-delete", 405), ("GET", "training-jobs/autosearch", 404),
                                     ("GET", "modelarts-training-job/resource-instances", 404),
                                     ("GET", "services/api-keys", 404), ("GET", "services/flavors", 404),
                                     ("DELETE", "services/delete", 405)]:
            with pytest.raises(ApiError) as err:
                emu.app.router.match(method, f"/v2/{PID}/{path}")
            assert err.value.status == status, path
    finally:
        emu.store.stop()


# --------------------------------------------------------------------------- mafmt's own requests


def test_mafmt_requests_match_the_official_request_models(ml_tick, tmp_path: Path) -> None:
    from mafmt.client import ModelArts
    from mafmt.client.infer_services import deployment_body

    sent: list[httpx.Request] = []
    http = httpx.Client(headers={"User-Agent": "mafmt"}, event_hooks={"request": [sent.append]})
    env = ml_tick.env()
    ma = ModelArts(endpoint=env["MAFMT_MODELARTS_ENDPOINT"], ak=env["HUAWEICLOUD_SDK_AK"],
                   sk=env["HUAWEICLOUD_SDK_SK"], project_id=PID, http=http)
    tj, al, sv = ma.training_jobs, ma.algorithms, ma.infer_services
    tj.flavors()
    tj.engines()
    algo = al.create("mafmt-algo", code_dir="obs://b/code/", boot_file="train.py", parameters=[{"name": "lr",
                     "value": 0.1}], inputs=["data_url"], outputs=["train_url"], **ENGINE)
    al.list().to_list()
    al.get(algo.metadata["id"])
    al.update(algo.metadata["id"], description="changed")
    job = tj.create(name="mafmt-job", code_dir="obs://b/code/", boot_file="train.py", framework_type="PyTorch",
                    framework_version=ENGINE["engine_version"], flavor_id="modelarts.vm.cpu.8u",
                    env_variables={"MY_VAR": "1"}, outputs=[{"name": "out", "obs_url": "obs://b/out/"}],
                    parameters=[{"name": "epochs", "value": 2}])
    jid = job.metadata["id"]
    other = tj.create(name="mafmt-by-algo", algorithm_id=algo.metadata["id"], flavor_id="modelarts.vm.cpu.8u")
    tj.stop(other.metadata["id"])  # at once: on a 0.05 s tick the job ends within 0.25 s
    tj.name_taken("mafmt-job")
    tj.list(filters=[{"key": "name", "operator": "like", "value": ["mafmt"]}], limit=1).to_list()
    tj.get(jid)
    tj.update(jid, "new description")
    tj.tasks(jid)
    tj.logs(jid)
    list(tj.log_lines(jid, page_lines=2))
    tj.metrics(jid)
    tj.events(jid, limit=1).to_list()
    tj.add_tags(jid, {"team": "cv"})
    tj.tags(jid)
    tj.project_tags().to_list()
    tj.remove_tags(jid, ["team"])
    tj.batch_delete([other.metadata["id"]])
    tj.delete(jid)
    al.delete(algo.metadata["id"])
    svc = sv.create(name="mafmt-svc", deployments=[deployment_body("blue", image="swr.example.com/o/i:1",
                                                                   flavor="modelarts.vm.cpu.2u")], wait=True,
                    poll=0.02, timeout=5)
    sid = svc["id"]
    sv.list().to_list()
    sv.get(sid)
    sv.update(sid, description="updated")
    sv.stop(sid)
    sv.start(sid)
    dep = sv.create_deployment(sid, deployment_body("green", image="swr.example.com/o/i:2", weight=0))
    sv.list_deployments(sid).to_list()
    sv.get_deployment(sid, dep["id"])
    sv.delete_deployment(sid, dep["id"])
    sv.events(sid).to_list()
    sv.delete(sid)
    ma.close()

    problems, seen = [], set()
    for req in sent:
        op = om.find(req.method, req.url.path)
        assert op is not None, f"{req.method} {req.url.path}: not an official operation"
        seen.add(op.name)
        body = json.loads(req.content) if req.content else None
        types = om.model(op.request).openapi_types
        if "body" in types:
            problems += [f"{op.name} body {p}" for p in om.problems(body, types["body"], request=True)]
            if om.required(op.request) >= {"body"} and body is None:
                problems.append(f"{op.name}: body required")
        else:
            assert body is None, f"{op.name} takes no body"
        names = om.query_names(op)
        for key, value in httpx.QueryParams(req.url.query).multi_items():
            if key not in names:
                problems.append(f"{op.name}: query {key} is not an official parameter")
            elif names[key] == "int" and not re.fullmatch(r"-?\d+", value):
                problems.append(f"{op.name}: query {key}={value!r} is not an integer")
    assert problems == []
    assert len(seen) >= 36


def test_the_model_checker_sees_differences() -> None:
    job = {"kind": "job", "metadata": {"name": "x", "surprise": 1},
           "algorithm": {"environments": {"A": "1"}},
           "spec": {"resource": {"flavor_detail": {"flavor_info": {"disk": {"size": 50}}}}}}
    found = om.problems(job, "JobResponse")
    assert "$.metadata.surprise: not a field of JobMetadataResponse" in found
    assert any(p.startswith("$.algorithm.environments: expected a list") for p in found)
    assert any(p.startswith("$.spec.resource.flavor_detail.flavor_info.disk.size: expected str") for p in found)
    assert om.problems({"metadata": {}}, "Job", request=True) == [
        "$.metadata.name: required by JobMetadata, missing", "$.kind: required by Job, missing"]
    assert om.problems("2024-01-01T00:00:00.000+08:00", "datetime")  # the official client cannot read it
    assert om.find("POST", f"/v2/{PID}/training-jobs/batch-delete").name == "BatchDeleteTrainingJob"
    assert len(om.in_areas()) >= 103  # huaweicloudsdkmodelarts 3.1.219 has 103; later releases add more
