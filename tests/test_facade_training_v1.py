"""The SDK reference's legacy training chapter (seed 004, chapter 9) with
``modelarts.`` imports changed to ``mafmt.modelarts.``, against the emulator. Placeholder
IDs are replaced by real ones; examples whose printed code is broken by the PDF rendering
(stray ``{``, lost commas) are repaired minimally, as noted at each."""

from __future__ import annotations

import pytest

from mafmt.client.training_v1 import ConfigRuleError
from mafmt.emulator._ml import ml_state


@pytest.fixture()
def book(ml_book):
    return ml_book


H = """
from mafmt.modelarts.session import Session
from mafmt.modelarts.estimator import Estimator
session = Session()
"""

EX1 = H + """
estimator = Estimator(
    modelarts_session=session,
    framework_type='PyTorch',           # AI引擎名称
    framework_version='PyTorch-1.0.0-python3.6', # AI引擎版本
    code_dir='/bucket/src/',            # 训练脚本目录
    boot_file='/bucket/src/pytorch_sentiment.py', # 训练启动脚本目录
    log_url='/bucket/log/',             # 训练日志目录
    hyperparameters=[
        {"label": "classes",
         "value": "10"},
        {"label": "lr",
         "value": "0.001"}],
    output_path='/bucket/output/',       # 训练输出目录
    train_instance_type='modelarts.vm.cpu.2u', # 训练环境规格
    train_instance_count=1,                # 训练节点个数
    job_description='pytorch-sentiment with ModelArts SDK') # 训练作业描述
job_instance = estimator.fit(inputs='/bucket/data/train/', wait=False, job_name='my_training_job')
"""

# example 2 (dataset): the book prints "hyperparameters=[{ {...}, {...}], ]," - repaired to a list
EX2 = EX1.replace("job_instance = estimator.fit(inputs='/bucket/data/train/', wait=False, job_name='my_training_job')",
                  "job_instance = estimator.fit(dataset_id='4AZNvFkN7KYr5EdhFkH',\n"
                  "dataset_version_id='UOF9BleSGArwVt0l6T', wait=False, job_name='my_training_job_ds')")

# example 3 (custom image): same repair; the command's line breaks joined
EX3 = H + """
estimator = Estimator(
    modelarts_session=session,
    log_url='/bucket/log/',                                # 训练日志目录
    hyperparameters=[
        {"label": "classes",
         "value": "10"},
        {"label": "lr",
         "value": "0.001"}],
output_path='/bucket/output',                      # 训练输出目录
train_instance_type='modelarts.vm.cpu.2u',          # 训练环境规格
train_instance_count=1,                            # 训练节点个数
user_command='bash -x /home/work/run_train.sh python /home/work/user-job-dir/app/mnist/mnist_softmax.py --data_url /home/work/user-job-dir/app/mnist_data',                                     # 自定义镜像启动命令
user_image_url='100.125.5.235:20202/jobmg/cpu-base:1.0',  # 自定义镜像下载地址
job_description='pytorch-sentiment with ModelArts SDK')  # 训练作业描述
job_instance = estimator.fit(inputs='/bucket/data/train/', wait=False, job_name='my_training_job_img')
"""

# example 4 (dedicated pool): same repair; the comment's line break joined
EX4 = H + """
estimator = Estimator(
    modelarts_session=session,
    framework_type='PyTorch',                            # AI引擎名称
    framework_version='PyTorch-1.0.0-python3.6',          # AI引擎版本
    code_dir='/bucket/src/',                            # 训练脚本目录
    boot_file='/bucket/src/pytorch_sentiment.py',        # 训练启动脚本目录
    log_url='/bucket/log/',                           # 训练日志目录
    hyperparameters=[
        {"label": "classes",
         "value": "10"},
        {"label": "lr",
         "value": "0.001"}],
output_path='/bucket/output',                      # 训练输出目录
pool_id="your pool id",                           # 专属资源池id
train_instance_type='your instance type',          # 训练环境规格, 如果为None, 默认使用专属池默认规格
train_instance_count=1,                            # 训练节点个数
job_description='pytorch-sentiment with ModelArts SDK')  # 训练作业描述
job_instance = estimator.fit(inputs='/bucket/data/train/', wait=False, job_name='my_training_job_pool')
"""

VERSION_EX1 = H + """
estimator = Estimator(
    modelarts_session=session,
    framework_type='PyTorch',
    framework_version='PyTorch-1.0.0-python3.6',
    code_dir='/bucket/src/',
    boot_file='/bucket/src/pytorch_sentiment.py',
    log_url='/bucket/log/',
    hyperparameters=[
        {"label": "classes",
         "value": "10"},
        {"label": "lr",
         "value": "0.001"}
    ],
    output_path='/bucket/output/',
    train_instance_type='modelarts.vm.gpu.p100',
    train_instance_count=1)
job_version_instance = estimator.create_job_version(job_id='182626', pre_version_id=278813, inputs='/bucket/data/train/', wait=False, job_desc='create a job version')
"""

# example 4 (built-in model): commas restored, brackets balanced
VERSION_EX4 = H + """
estimator = Estimator(
    modelarts_session=session,
    model_name='Faster_RCNN_ResNet_v1_50', # 内置模型名称
    log_url='/bucket/log/', # 训练日志目录
    hyperparameters=[
        {"label": "classes",
         "value": "10"},
        {"label": "lr",
         "value": "0.001"}
        ],
        output_path='/bucket/output/', # 训练输出目录
        train_instance_type='modelarts.vm.gpu.p100', # 训练环境规格
        train_instance_count=1, # 训练节点个数
        job_description='pytorch-sentiment with ModelArts SDK') # 训练作业描述
job_version_instance = estimator.create_job_version(job_id='182626', pre_version_id=278813, inputs='/bucket/data/train/', wait=False, job_desc='create a job version')
"""

CONFIG_EX2 = H + """
estimator = Estimator(
    modelarts_session=session,
    framework_type='PyTorch',
    framework_version='PyTorch-1.0.0-python3.6',
    code_dir='/bucket/src/',
    boot_file='/bucket/src/pytorch_sentiment.py',
    log_url='/bucket/log/',
    hyperparameters=[
        {"label": "classes",
         "value": "10"},
        {"label": "lr",
         "value": "0.001"}
    ],
    output_path='/bucket/output/',
          # 训练输出目录
    train_instance_type='modelarts.vm.gpu.p100',
    train_instance_count=1)
          # 训练节点个数
job_config_instance = estimator.create_job_configs(config_name='my_job_config',
dataset_id='4AZNvFkN7KYr5EdhFkH', dataset_version_id='UOF9BleSGArwVt0oI6T', config_desc='my job config')
"""

UPDATE_EX1 = H + """
estimator = Estimator(
    modelarts_session=session,
    framework_type='PyTorch',
    framework_version='PyTorch-1.0.0-python3.6',
    code_dir='/bucket/src/',
    boot_file='/bucket/src/pytorch_sentiment.py',
    log_url='/bucket/log/',
    hyperparameters=[{"label": "classes", "value": "10"}, {"label": "lr", "value": "0.001"}],
    output_path='/bucket/output/',
    train_instance_type='modelarts.vm.gpu.p100',
    train_instance_count=1)
update_info = estimator.update_job_configs(config_name='my_job_config', inputs='/bucket/dataset/',
config_desc='update')
"""
UPDATE_EX2 = UPDATE_EX1.replace("inputs='/bucket/dataset/',", "\ndataset_id='4AZNvFkN7KYr5EdhFkH', "
                                "dataset_version_id='UOF9BleSGArwVt0oI6T',\n")


def _ds(book):
    from tests.test_facade_training import _dataset_version

    ds, ver = _dataset_version(book)
    return {"4AZNvFkN7KYr5EdhFkH": ds, "UOF9BleSGArwVt0l6T": ver, "UOF9BleSGArwVt0oI6T": ver}


def test_9_1_jobs(book) -> None:
    ml = ml_state(book.emulator.store)
    ml.tick, ml.run_ticks = 0.0001, 10**9  # versions reach status 8 (running) at once and stay there to be stopped
    ids = _ds(book)
    s1 = book(EX1)
    book(EX2, **ids)
    book(EX3)
    book(EX4)
    job = s1["job_instance"]
    jid, vid = str(job.job_id), str(job.version_id)
    out = book(H + """
job_list_info = Estimator.get_job_list(modelarts_session=session, status=8, per_page=10, page=1,
order="asc", search_content="job")
print(job_list_info)
""")
    assert out["job_list_info"]["job_total_count"] == 4
    names = {"182626": jid, "278813": vid}
    info = book(H + """
estimator = Estimator(modelarts_session=session, job_id="182626", version_id="278813")
job_info = estimator.get_job_info()
print(job_info)
""", **names)["job_info"]
    assert info["app_url"] == "/bucket/src/" and info["spec_id"] == 1 and info["engine_id"] == 3
    assert book("job_info = job_instance.get_job_info()\nprint(job_info)\n", s1)["job_info"]["version_id"] == job.version_id
    book(H + """
estimator = Estimator(modelarts_session=session, job_id="182626")
job_description = estimator.update_job_description(description='update description')
""", **names)
    book("job_description = job_instance.update_job_description(description='update description')\n", s1)
    logs = book(H + """
estimator = Estimator(modelarts_session=session, job_id="182626", version_id="278813")
job_log_list = estimator.get_job_log_file_list()
""", **names)["job_log_list"]["log_file_list"]
    assert logs == ["my_training_job.0"]
    names["job-job-0713-191758.0"] = logs[0]
    assert "my_training_job" in book(H + """
estimator = Estimator(modelarts_session=session, job_id="182626", version_id="278813")
job_log = estimator.get_job_log(log_file='job-job-0713-191758.0')
print(job_log)
""", **names)["job_log"]["content"]
    book("job_log = job_instance.get_job_log(log_file='job-job-0713-191758.0')\n".replace(
        "job-job-0713-191758.0", logs[0]), s1)
    # 9.2 versions
    s2 = book(VERSION_EX1, **names)
    s3 = book(VERSION_EX4, **names)
    assert s3["job_version_instance"].get_job_info()["model_id"] == 2
    s = book(H + """
estimator = Estimator(session, job_id="182626")
job_version_instance_list = estimator.get_job_version_object_list()
print(job_version_instance_list)
""", **names)
    assert len(s["job_version_instance_list"]) == 3
    book("job_info = job_version_instance_list[0].get_job_info()\nprint(job_info)\n", s)
    book("job_description = job_version_instance_list[0].update_job_description(description='update description')\n",
         s)
    book("job_log = job_version_instance_list[0].get_job_log(log_file='job-job-0713-191758.0')\n", s, **names)
    info = book(H + """
estimator = Estimator(session, job_id="182626")
job_version_info = estimator.get_job_version_info()
print(job_version_info)
""", **names)["job_version_info"]
    assert info["version_count"] == 3 and info["job_desc"] == "update description"
    assert book(H + """
estimator = Estimator(session, job_id="182626", version_id="278813")
status = estimator.stop_job_version()
""", **names)["status"]["is_success"]
    book("status = job_version_instance.stop_job_version()\n", s2)
    book("status = job_version_instance_list[0].stop_job_version()\n", s3 | {"job_version_instance_list": [
        s3["job_version_instance"]]})
    book("status = job_version_instance.delete_job_version()\n", s2)
    book("status = job_version_instance_list[0].delete_job_version()\n", s)
    book(H + """
estimator = Estimator(session, job_id="182626", version_id="278813")
status = estimator.delete_job_version()
""", **names)
    assert book(H + "n = Estimator(session, job_id='182626').get_job_version_info()\n", **names)["n"][
        "version_count"] == 0
    # 9.1.8 delete, both ways
    book(H + 'Estimator.delete_job_by_id(modelarts_session=session, job_id="155500")\n', **{"155500": jid})
    other = book(EX3.replace("my_training_job_img", "again"))
    assert book("status = job_instance.delete_job()\n", other)["status"]["is_success"]


def test_9_3_configs(book) -> None:
    ids = _ds(book)
    s1 = book(CONFIG_EX2, **ids)
    assert s1["job_config_instance"].config_name == "my_job_config"
    s = book(H + """
job_config_instance_list = Estimator.get_job_configs_object_list(modelarts_session=session, is_show=True,
per_page=10, page=1, sort_by="create_time", order="asc", search_content="my_job")
print(job_config_instance_list)
""")
    assert [c.config_name for c in s["job_config_instance_list"]] == ["my_job_config"]
    out = book(H + """
job_paras_list = Estimator.get_job_configs_list(modelarts_session=session, per_page=10, page=1,
sort_by="create_time", order="asc", search_content="my_job")
print(job_paras_list)
""")
    assert out["job_paras_list"]["config_total_count"] == 1
    info = book(H + """
estimator = Estimator(modelarts_session=session, config_name="my_job_config")
job_paras_info = estimator.get_job_configs_info()
print(job_paras_info)
""")["job_paras_info"]
    assert info["dataset_version_id"] == ids["UOF9BleSGArwVt0oI6T"] and info["spec_code"] == "modelarts.vm.gpu.p100"
    book("job_paras_info = job_config_instance.get_job_configs_info()\n", s1)
    book("job_paras_info = job_config_instance_list[0].get_job_configs_info()\n", s)
    book(UPDATE_EX1)
    assert book(H + "i = Estimator(session, config_name='my_job_config').get_job_configs_info()\n")["i"][
        "data_url"] == "/bucket/dataset/"
    book(UPDATE_EX2, **ids)
    book("status = job_config_instance.delete_job_configs()\n", s1)
    book(CONFIG_EX2, **ids)
    book(H + """
estimator = Estimator(modelarts_session=session, config_name="my_job_config")
status = estimator.delete_job_configs()
""")
    book(CONFIG_EX2, **ids)
    book("status = job_config_instance_list[0].delete_job_configs()\n", s)
    with pytest.raises(ConfigRuleError, match="rule 2"):  # inputs and a dataset together
        book(CONFIG_EX2.replace("config_desc='my job config'", "config_desc='x', inputs='/bucket/data/'"), **ids)


def test_9_4_visualization_and_9_5_catalogues(book) -> None:
    ml_state(book.emulator.store).tick = 0.001  # visualization jobs run (status 8) at once
    V = """
from mafmt.modelarts.session import Session
from mafmt.modelarts.estimator import VisualizationJob
session = Session()
"""
    s = book(V + """
job = VisualizationJob(modelarts_session=session)
job_visualization_instance = job.create_visualization_job(train_url='/bucket/train/',
job_name='visualization_job', job_desc='my visualization job')
""")
    vid = str(s["job_visualization_instance"].visualization_id)
    lst = book(V + """
job_visualization_instance_list = VisualizationJob.get_visualization_job_object_list(modelarts_session=session,
is_show=True, status=8, per_page=10, page=1, sort_by="create_time", order="asc", search_content="job")
print(job_visualization_instance_list)
""")
    assert len(lst["job_visualization_instance_list"]) == 1
    out = book(V + """
job_list = VisualizationJob.get_visualization_job_list(modelarts_session=session, status=8, per_page=10,
page=1, sort_by="create_time", order="asc", search_content="job")
print(job_list)
""")
    assert out["job_list"]["job_total_count"] == 1
    one = {"8992": vid}
    assert book(V + """
job = VisualizationJob(modelarts_session=session, visualization_id='8992')
job_info = job.get_visualization_job_info()
print(job_info)
""", **one)["job_info"]["train_url"] == "/bucket/train/"
    book("job_info = job_visualization_instance.get_visualization_job_info()\n", s)
    book("job_info = job_visualization_instance_list[0].get_visualization_job_info()\n", lst)
    book(V + """
job = VisualizationJob(modelarts_session=session, visualization_id='8992')
job_description = job.update_visualization_job(job_desc='update visualization job')
""", **one)
    book("job_description = job_visualization_instance.update_visualization_job(job_desc='update visualization job')\n",
         s)
    book("job_description = job_visualization_instance_list[0].update_visualization_job(job_desc='x')\n", lst)
    book(V + """
job = VisualizationJob(modelarts_session=session, visualization_id='8992')
status = job.stop_visualization_job()
""", **one)
    book(V + """
job = VisualizationJob(modelarts_session=session, visualization_id='8992')
resp = job.restart_visualization_job()
""", **one)
    book("status = job_visualization_instance.stop_visualization_job()\n", s)
    book("status = job_visualization_instance.restart_visualization_job()\n", s)
    book("status = job_visualization_instance_list[0].stop_visualization_job()\n", lst)
    book("status = job_visualization_instance_list[0].restart_visualization_job()\n", lst)
    book("status = job_visualization_instance.delete_visualization_job()\n", s)
    for code in (("job = VisualizationJob(modelarts_session=session, visualization_id='8992')\n"
                  "status = job.delete_visualization_job()\n"),
                 "status = job_visualization_instance_list[0].delete_visualization_job()\n"):
        s = book(V + "job = VisualizationJob(modelarts_session=session)\njob_visualization_instance_list = [job.create_"
                 "visualization_job(train_url='/bucket/train/', job_name='visualization_job')]\n")
        book(code, s, **{"8992": str(s["job_visualization_instance_list"][0].visualization_id)})
    assert book(H + "algo_info = Estimator.get_builtin_algorithms(modelarts_session=session)\nprint(algo_info)\n")[
        "algo_info"]["model_total_count"] == 3
    specs = book(H + "algo_info = Estimator.get_train_instance_types(modelarts_session=session)\nprint(algo_info)\n")
    assert specs["algo_info"][0]["spec_code"] == "modelarts.vm.cpu.2u"
    engines = book(H + "engine_list = Estimator.get_framework_list(modelarts_session=session)\nprint(engine_list)\n")
    assert {"framework_type": "PyTorch", "framework_version": "PyTorch-1.0.0-python3.6"} in engines["engine_list"]
