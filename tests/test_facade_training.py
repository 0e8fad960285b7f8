"""The SDK reference's training chapters (seed 004, chapters 8 and 9), run with
``modelarts.`` imports changed to ``mafmt.modelarts.`` against the emulator on the local
S3-compatible server. Besides the imports, only placeholder IDs ("your job id", the
IDs printed in the book) are replaced by IDs of objects that exist; a few v1 examples
whose printed code is not valid Python (stray braces, missing commas from the PDF
rendering) are given with those typos repaired and nothing else changed."""

from __future__ import annotations

import pytest

from mafmt import storage
from mafmt.client import TaskFailedError


@pytest.fixture()
def book(ml_book):
    """Runs the book's snippets (see ``ml_book`` in conftest)."""
    return ml_book


V2_EX1 = """
from mafmt.modelarts.session import Session
from mafmt.modelarts.train_params import TrainingFiles
from mafmt.modelarts.train_params import OutputData
from mafmt.modelarts.train_params import InputData
from mafmt.modelarts.estimatorV2 import Estimator
session = Session()
#训练脚本里接收的参数，请根据实际情况填写

parameters = [{"name": "mod", "value": "gpu"}, {"name": "epoch_num", "value": 2}]
estimator = Estimator(session=session,
    training_files=TrainingFiles(code_dir="obs://bucket_name/code_dir/",
boot_file="boot_file.py"),
    outputs=[OutputData(obs_path="obs://bucket_name/output/", name="output_dir")],
parameters=parameters,
framework_type='PyTorch', # 常用框架类型
framework_version='PyTorch-1.4.0-python3.6', # 常用框架版本
train_instance_type="modelarts.p3.large.public",
train_instance_count=1,
log_url="obs://bucket_name/log/",
env_variables={"USER_ENV_VAR": "customize environment variable"},
working_dir="/home/ma-user/modelarts/user-job-dir",
local_code_dir="/home/ma-user/modelarts/user-job-dir",
job_description='This is a image net train job')
job_instance = estimator.fit(inputs=[InputData(obs_path="obs://bucket_name/input/",
name="data_url")],
    job_name="job_name_1")
"""

V2_EX2 = """
from mafmt.modelarts.session import Session
from mafmt.modelarts.train_params import TrainingFiles
from mafmt.modelarts.train_params import OutputData
from mafmt.modelarts.train_params import InputData
from mafmt.modelarts.estimatorV2 import Estimator
session = Session()
parameters = [{"name": "mod", "value": "gpu"},
              {"name": "epoch_num", "value": 2}]
estimator = Estimator(session=session,
                      training_files=TrainingFiles(code_dir="obs://bucket_name/code_dir/",
                      boot_file="boot_file.py"),
                      outputs=[OutputData(obs_path="obs://bucket_name/output/", name="output_dir")],
                      parameters=parameters,
                      user_image_url="sdk-test/pytorch1_4:1.0.1", # 自定义镜像地址
                      user_command="/home/ma-user/anaconda3/envs/PyTorch-1.4/bin/python /home/ma-user/modelarts/user-job-dir/train/test-pytorch.py", # 自定义启动命令
                      train_instance_type="modelarts.p3.large.public",
                      train_instance_count=1,
                      log_url="obs://bucket_name/log/",
                      env_variables={"USER_ENV_VAR": "customize environment variable"},
                      working_dir="/home/ma-user/modelarts/user-job-dir",
                      local_code_dir="/home/ma-user/modelarts/user-job-dir",
                      job_description='This is a image net train job')
job_instance = estimator.fit(inputs=[InputData(obs_path="obs://bucket_name/input/",
name="data_url")],
                           job_name="job_name_2")
"""

V2_EX3 = V2_EX1.replace("framework_version='PyTorch-1.4.0-python3.6', # 常用框架版本",
                        "framework_version='PyTorch-1.4.0-python3.6',\npool_id=\"your pool id\", # 专属资源池id") \
    .replace('train_instance_type="modelarts.p3.large.public"', 'train_instance_type="modelarts.pool.visual.xlarge"') \
    .replace("job_name_1", "job_name_3")

V2_EX4 = """
from mafmt.modelarts.session import Session
from mafmt.modelarts.train_params import TrainingFiles
from mafmt.modelarts.train_params import OutputData
from mafmt.modelarts.train_params import InputData
from mafmt.modelarts.estimatorV2 import Estimator
session = Session()
#训练脚本里接收的参数，请根据实际情况填写
parameters = [{"name": "model_name", "value": "s"}, {"name": "batch-size", "value": 32}, {"name": "epochs", "value": 100}, {"name": "img-size", "value": "640,640"}]
estimator = Estimator(session=session,
                      training_files=TrainingFiles(code_dir="obs://bucket_name/code_dir/",
                      boot_file="boot_file.py"),
                      outputs=[OutputData(obs_path="obs://bucket_name/output/", name="output_dir")],
                      parameters=parameters,
                      framework_type='PyTorch', # 常用框架类型
                      framework_version='PyTorch-1.4.0-python3.6', # 常用框架版本
                      train_instance_type="modelarts.p3.large.public",
                      train_instance_count=1,
                      log_url="obs://bucket_name/log/",
                      working_dir="/home/ma-user/modelarts/user-job-dir",
                      local_code_dir="/home/ma-user/modelarts/user-job-dir",
                      job_description='This is a image net train job')
job_instance = estimator.fit(dataset_id="your dataset id",
                             dataset_version_id="your dataset version id",
                             job_name="job_name_5")
"""

HEAD2 = """
from mafmt.modelarts.session import Session
from mafmt.modelarts.estimatorV2 import Estimator
session = Session()
"""


def _dataset_version(book) -> tuple[str, str]:
    from mafmt.client import ModelArts

    storage.write_bytes("obs://bucket/ds/in/a.jpg", b"\xff\xd8")
    with ModelArts() as ma:
        ds = ma.datasets.create("flowers", data_type="IMAGE", data_path="/bucket/ds/in/", work_path="/bucket/ds/out/",
                                wait=True, poll=0.05)
        ver = ma.versions.create(ds.dataset_id, wait=True, poll=0.05)
        return ds.dataset_id, ver["version_id"]


def test_8_1_1_create_jobs(book) -> None:
    jobs = [book(code)["job_instance"] for code in (V2_EX1, V2_EX2, V2_EX3)]
    ds, ver = _dataset_version(book)
    jobs.append(book(V2_EX4, **{"your dataset id": ds, "your dataset version id": ver})["job_instance"])
    info = jobs[0].get_job_info()
    assert info["metadata"]["name"] == "job_name_1"
    assert info["algorithm"]["boot_file"] == "obs://bucket_name/code_dir/boot_file.py"
    assert info["algorithm"]["engine"] == {"engine_name": "PyTorch", "engine_version": "PyTorch-1.4.0-python3.6"}
    assert jobs[1].get_job_info()["algorithm"]["command"].endswith("test-pytorch.py")
    assert jobs[2].get_job_info()["spec"]["resource"]["pool_id"] == "your pool id"
    assert jobs[3].get_job_info()["algorithm"]["inputs"][0]["remote"]["dataset"]["version_id"] == ver


def test_8_1_3_to_8_2_job_operations(book) -> None:
    scope = book(V2_EX1)
    job_id = scope["job_instance"].job_id
    book(HEAD2 + """
job_list = Estimator.get_job_list(session=session, offset=10, limit=5, sort_by="create_time", order="asc",
                                    filters=[{"key": "name", "operator": "like", "value": ["trainjob"]}])
print(job_list)
""")
    out = book(HEAD2 + """
job_list = Estimator.get_job_list(session=session, offset=0, limit=5, sort_by="create_time", order="asc",
                                    filters=[{"key": "name", "operator": "like", "value": ["job_name"]}])
""")
    assert out["job_list"]["count"] == 1
    out = book(HEAD2 + """
estimator = Estimator(session=session, job_id="618222c4-dc2f-4cfe-bc49-72b075b7552f")
job_info = estimator.get_job_info()
print(job_info)
""", **{"618222c4-dc2f-4cfe-bc49-72b075b7552f": job_id})
    assert out["job_info"]["metadata"]["id"] == job_id
    book("""
job_info = job_instance.get_job_info()
print(job_info)
""", scope)
    book(HEAD2 + """
estimator = Estimator(session=session, job_id="your job id")
estimator.update_job_configs(description="update job description")
""", **{"your job id": job_id})
    book("""
job_instance.update_job_configs(description="update job description fourth")
""", scope)
    assert scope["job_instance"].get_job_info()["metadata"]["description"] == "update job description fourth"
    scope["job_instance"].wait(timeout=10)
    out = book(HEAD2 + """
estimator = Estimator(session=session, job_id="your job id")
info = estimator.get_job_log()
print(info)
""", **{"your job id": job_id})
    assert "epoch 3/3" in out["info"]
    assert "epoch 1/3" in book("""
log = job_instance.get_job_log(task_id="worker-0")
print(log)
""", scope)["log"]
    out = book(HEAD2 + """
estimator = Estimator(session=session, job_id="your job id")
info = estimator.get_job_metrics()
print(info)
""", **{"your job id": job_id})
    assert out["info"]["metrics"][0]["value"]
    book("""
info = job_instance.get_job_metrics(task_id="worker-0")
print(info)
""", scope)
    out = book(HEAD2 + """
info = Estimator.get_train_instance_types(session=session)
print(info)
""")
    assert any(f["flavor_id"] == "modelarts.vm.cpu.8u" for f in out["info"])
    out = book(HEAD2 + """
info = Estimator.get_framework_list(session=session)
print(info)
""")
    assert {"framework_type": "PyTorch", "framework_version": "PyTorch-1.4.0-python3.6"} in out["info"]
    assert book(HEAD2 + "info = Estimator.get_spec_list(session=session)\n")["info"]["total_count"] >= 4
    # 8.1.7 terminate, both ways; 8.1.6 delete, both ways
    from mafmt.emulator._ml import ml_state

    ml_state(book.emulator.store).run_ticks = 10**9  # the next jobs run until terminated
    second = book(V2_EX2)
    out = book(HEAD2 + """
info = Estimator.control_job_by_id(session=session, job_id="your job id")
print(info)
""", **{"your job id": second["job_instance"].job_id})
    assert out["info"]["status"]["phase"] == "Terminating"
    third = book(V2_EX3)
    book("job_instance.control_job()\n", third)
    book(HEAD2 + 'Estimator.delete_job_by_id(session=session, job_id="your job id")\n',
         **{"your job id": second["job_instance"].job_id})
    book("job_instance.delete_job()\n", scope)
    assert _job_count(book) == 1


def _job_count(book) -> int:
    return book(HEAD2 + "n = Estimator.get_job_list(session=session, limit=50)['count']\n")["n"]


def test_fit_wait_show_log_and_failure(book, capsys) -> None:
    scope = book(V2_EX1.replace('job_name="job_name_1")', 'job_name="job_name_1", wait=True, show_log=True)'))
    assert scope["job_instance"].get_job_info()["status"]["phase"] == "Completed"
    assert "training finished" in capsys.readouterr().out
    book.emulator.fail_next("training", error_msg="script crashed")
    with pytest.raises(TaskFailedError, match="script crashed"):
        book(V2_EX2.replace('job_name="job_name_2")', 'job_name="job_name_2", wait=True)'))
