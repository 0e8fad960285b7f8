"""The SDK reference's model and service chapters (seed 004, chapters 10 and 11) with
``modelarts.`` imports changed to ``mafmt.modelarts.``, against the emulator on the
local S3-compatible server. Placeholders ("your_model_id", "/your_obs_bucket/…",
"your_service_id", the data of ``predict``) are replaced by real values; variables the
book defines elsewhere (``model_location``, ``input_params`` …) are set up first."""

from __future__ import annotations

import json
import textwrap

import pytest

from mafmt import storage
from mafmt.client import TaskFailedError


@pytest.fixture()
def book(ml_book):
    return ml_book


SERVICE = textwrap.dedent("""
    from model_service.pytorch_model_service import PTServingBaseService


    class DigitService(PTServingBaseService):
        def _preprocess(self, data):
            if "images" in data:
                return {"bytes": sum(len(f.read()) for f in data["images"].values())}
            return data

        def _inference(self, data):
            return {"echo": data, "model": self.model_name}

        def _postprocess(self, data):
            return {"result": data}
""")

M = """
from mafmt.modelarts.session import Session
from mafmt.modelarts.model import Model
session = Session()
"""
P = """
from mafmt.modelarts.session import Session
from mafmt.modelarts.model import Predictor
session = Session()
"""


def _obs_model(prefix: str) -> str:
    storage.write_bytes(f"obs://bucket/{prefix}/model/customize_service.py", SERVICE.encode())
    storage.write_bytes(f"obs://bucket/{prefix}/model/config.json", b"{}")
    storage.write_bytes(f"obs://bucket/{prefix}/model/mnist_mlp.pt", b"weights")
    return f"/bucket/{prefix}"


def test_10_1_local_model_and_publish(book, tmp_path) -> None:
    model_dir = tmp_path / "tensorflow_mlp_mnist_local_mode/train/model"
    model_dir.mkdir(parents=True)
    (model_dir / "customize_service.py").write_text(SERVICE)
    (model_dir / "config.json").write_text("{}")
    env_code = """
from mafmt.modelarts.environment import Environment
from mafmt.modelarts.environment.conda_env import CondaDependencies

env = Environment("tensorflow_mlp_mnist")
cd = CondaDependencies.create(pip_packages=["tensorflow==1.13.1", "Pillow>=8.0.1"],
                             conda_packages=["python=3.6.2"])
env.conda = cd
"""
    local = M + """
src_local_path = "/home/ma-user/work/tensorflow_mlp_mnist_local_mode/train/"
model = Model(session,
             publish=False,
             source_location_type="LOCAL_SOURCE", # 模型文件位置类型,
             source_location=src_local_path + 'model', # 模型文件位置
             environment=env,
             model_version='1.0.1',
             model_type='TensorFlow', # 模型使用的AI框架
             model_algorithm="image_classification",
             model_name="tensorflow_mlp_mnist_local_infer")
"""
    home = {"/home/ma-user/work/": f"{tmp_path}/"}
    s = book(env_code)
    book(local, s, **home)
    s["obs_location"] = "obs://bucket/published/"
    book("model.publish_model(obs_location=obs_location)\n", s)
    info = s["model"].get_model_info()
    assert info["model_status"] == "published" and info["source_location"] == "obs://bucket/published/"
    assert info["dependencies"][0]["packages"][1] == {"package_name": "Pillow", "package_version": "8.0.1",
                                                      "restraint": "ATLEAST"}
    assert storage.exists("obs://bucket/published/model/customize_service.py")
    s["model"].delete_model()
    project = book.emulator.project_id[:8]
    book.s3.backend.create_bucket(f"modelarts-cn-north-4-{project}")  # the default bucket of publish_model()
    s2 = book(env_code)
    book(local, s2, **home)
    book("model.publish_model()\n", s2)
    assert s2["model"].get_model_info()["source_location"].startswith(f"obs://modelarts-cn-north-4-{project}/model-")
    # 11.2: deploy the local model as a local predictor and ask it
    s3 = book(env_code)
    book(local.replace("1.0.1", "1.0.2"), s3, **home)
    book("""
from mafmt.modelarts.config.model_config import ServiceConfig
configs = [ServiceConfig(model_id=model.get_model_id(), weight="100", instance_count=1,
 specification="local")]
predictor_instance = model.deploy_predictor(configs=configs)
if predictor_instance is not None:
    predict_result = predictor_instance.predict(data={"x": [1, 2]}, data_type="json")
""", s3)
    assert s3["predict_result"] == {"result": {"echo": {"x": [1, 2]}, "model": "tensorflow_mlp_mnist_local_infer"}}
    image = tmp_path / "digit.png"
    image.write_bytes(b"12345")
    assert s3["predictor_instance"].predict(str(image), "images") == {
        "result": {"echo": {"bytes": 5}, "model": "tensorflow_mlp_mnist_local_infer"}}


def test_10_2_to_10_6_models(book) -> None:
    loc = _obs_model("model_path")
    s = book(M + """
model_location = "/your_obs_bucket/model_path" # 修改为真实的模型文件OBS路径
execution_code = "/your_obs_bucket/model_path/customize_service.py"
runtime = "python3.7"
model_instance = Model(
 session,
 model_name="input_model_name", # (可选)模型名称
 model_version="1.0.0", # (可选)模型版本
 source_location=model_location, # 模型文件所在的OBS路径，如："/your_obs_bucket/model_path"
 model_type="PyTorch", # 模型类型
 execution_code=execution_code, # (可选)存放执行脚本的OBS路径，如：" /your_obs_bucket/model_path/customize_service.py"
 runtime=runtime # (可选)支持的运行环境
)
""", **{"/your_obs_bucket/model_path": loc})
    model_id = s["model_instance"].model_id
    deps = book("""
from mafmt.modelarts.config.model_config import ServiceConfig, Params, Dependencies, Packages
dependencies = []
packages = [{
 "package_name": "numpy",
 "package_version": "1.15.0",
 "restraint": "EXACT"
}, {
 "package_name": "h5py",
 "package_version": "2.8.0",
 "restraint": "EXACT"
}]
dependency = Dependencies(installer="pip", packages=packages)
dependencies.append(dependency)
packages = []
package1 = Packages(
 package_name="package_name", # 包名
 package_version="version", # 包版本号
 restraint="EXACT"
)
packages.append(package1)
""")
    s2 = book(M + """
model_instance = Model(session, model_name="digit_recognition", model_version="1.0.0",
 source_location=model_location, model_type="MXNet", model_algorithm="image_classification",
 dependencies=dependencies)
""", {"model_location": loc, "dependencies": deps["dependencies"]})
    assert s2["model_instance"].get_model_info()["dependencies"][0]["packages"][0]["package_name"] == "numpy"
    book(M + """
image_path = "custom_image_path" # 自定义镜像的swr路径
model_instance = Model(
 session,
 model_name="your_model_name", # 模型名称
 model_version="0.1.0", # 模型版本
 source_location="image_path", # 模型文件路径
 model_type="Image" # 模型类型
)
""")
    assert book(M + 'model_instance = Model(session, model_id="your_model_id")\n',
                your_model_id=model_id)["model_instance"].model_id == model_id
    out = book(M + "model_list = Model.get_model_list(session)\nprint(model_list)\n")
    assert out["model_list"]["total_count"] == 3
    out = book(M + """
model_list = Model.get_model_list(session, model_status="published", model_name="digit",
order="desc")
""")
    assert [m["model_name"] for m in out["model_list"]["models"]] == ["digit_recognition"]
    assert len(book(M + "model_object_list = Model.get_model_object_list(session)\n")["model_object_list"]) == 3
    objs = book(M + """
model_object_list = Model.get_model_object_list(session, model_status="published",
model_name="digit", order="desc")
""")["model_object_list"]
    assert objs[0].model_name == "digit_recognition"
    info = book(M + """
model_instance = Model(session, model_id="your_model_id")
model_info = model_instance.get_model_info()
print(model_info)
""", your_model_id=model_id)["model_info"]
    assert info["execution_code"].endswith("customize_service.py") and info["runtime"] == "python3.7"
    book(M + """
model_object_list = Model.get_model_object_list(session)
model_instance = model_object_list[0]
model_info = model_instance.get_model_info()
""")
    book(M + """
model_instance = Model(session, model_id="your_model_id")
model_instance.delete_model()
""", your_model_id=model_id)
    book(M + """
model_object_list = Model.get_model_object_list(session)
model_instance = model_object_list[0]
model_instance.delete_model()
""")
    assert book(M + "n = Model.get_model_list(session)['total_count']\n")["n"] == 1
    with pytest.raises(TaskFailedError):  # nothing at the OBS location: publishing fails
        book(M + 'm = Model(session, model_version="1.0.0", source_location="/bucket/none", model_type="PyTorch")\n')


def _two_versions(book) -> tuple[str, str]:
    ids = []
    for version in ("1.0.0", "1.0.1"):
        loc = _obs_model(f"digit-{version}")
        ids.append(book(M + f'm = Model(session, model_name="digit", model_version="{version}", '
                            f'source_location="{loc}", model_type="MXNet")\n')["m"].model_id)
    return ids[0], ids[1]


def test_11_services(book, tmp_path) -> None:
    m1, m2 = _two_versions(book)
    s = book(M + """
from mafmt.modelarts.config.model_config import ServiceConfig, TransformerConfig, Schedule
model_instance = Model(session, model_id='your_model_id')
vpc_id = None # (可选) 在线服务实例部署的虚拟私有云ID, 默认为空
subnet_network_id = None # (可选) 子网的网络ID, 默认为空
security_group_id = None # (可选) 安全组, 默认为空
configs = [ServiceConfig(model_id=model_instance.model_id,
 weight="100",
 instance_count=1,
 specification="modelarts.vm.cpu.2u")] # 参考表3中specification字段
predictor_instance = model_instance.deploy_predictor(
 service_name="service_predictor_name",
 infer_type="real-time",
 vpc_id=vpc_id,
 subnet_network_id=subnet_network_id,
 security_group_id=security_group_id,
 configs=configs, # predictor配置参数, 参考下文configs参数格式说明
 schedule = [Schedule(op_type='stop', time_unit='HOURS', duration=1)] # (可选) 设置在线服务运行时间
)
""", your_model_id=m1)
    sid = s["predictor_instance"].service_id
    info = s["predictor_instance"].get_service_info()
    assert info["status"] == "running" and info["schedule"][0] == {"type": "stop", "time_unit": "HOURS", "duration": 1}
    book("""
from mafmt.modelarts.config.model_config import ServiceConfig
configs = [ServiceConfig(model_id=model_instance.model_id, weight="100", instance_count=1,
 specification="modelarts.vm.cpu.2u")]
predictor_instance = model_instance.deploy_predictor(
 service_name="your_service_name",
 infer_type="real-time",
 configs=configs,
 cluster_id="your dedicated pool id"
)
""", s)
    two = book(M + """
from mafmt.modelarts.config.model_config import ServiceConfig
configs = []
envs = {"model_name": "mxnet-model-1", "load_epoch": "0"}
service_config1 = ServiceConfig(
 model_id="model_id1", # model_id1和model_id2必须是同一个模型的不同版本对应的model_id
 weight="70",
 specification="modelarts.vm.cpu.2u", # 参考表3中specification字段
 instance_count=2,
 envs=envs) # (可选) 设置环境变量的值, 如: envs = {"model_name": "mxnet-model-1", "load_epoch": "0"}
service_config2 = ServiceConfig(
 model_id='model_id2',
 weight="30",
 specification="modelarts.vm.cpu.2u", # 参考表3中specification字段
 instance_count=2,
 envs=envs) # (可选) 设置环境变量的值, 如: envs = {"model_name": "mxnet-model-1", "load_epoch": "0"}
configs.append(service_config1)
configs.append(service_config2)
predictor = Model(session, model_id="model_id1").deploy_predictor(service_name="DigitRecognition", configs=configs)
""", model_id1=m1, model_id2=m2)
    assert [c["weight"] for c in two["predictor"].get_service_info()["config"]] == [70, 30]
    # batch transformer
    storage.write_bytes("obs://bucket/sdk-demo/a.jpg", b"img")
    t = book(M + """
from mafmt.modelarts.config.model_config import TransformerConfig
model_instance = Model(session, model_id='your_model_id')
configs = []
mapping_rule = None # (可选) 输入参数与csv数据的映射关系
mapping_type= "file" # file或者csv
envs = {"model_name": "mxnet-model-1", "load_epoch": "0"}
transformer_config1 = TransformerConfig(
 model_id="your_model_id",
 specification="modelarts.vm.cpu.2u", # 参考表3中specification字段
 instance_count=2,
 src_path="/shp-cn4/sdk-demo/", # 批量任务输入数据的OBS路径, 如: "/your_obs_bucket/src_path"
 dest_path="/shp-cn4/data-out/", # 批量任务输出结果的OBS路径, 如: "/your_obs_bucket/dest_path"
 req_uri="/",
 mapping_type=mapping_type,
 mapping_rule=mapping_rule,
 envs=envs) # (可选) 设置环境变量的值
configs.append(transformer_config1)
vpc_id = None
subnet_network_id = None
security_group_id = None
transformer = model_instance.deploy_transformer(
 service_name="service_transformer_name",
 infer_type="batch",
 vpc_id=vpc_id,
 subnet_network_id=subnet_network_id,
 security_group_id=security_group_id,
 configs=configs # transformer配置参数, 参考下文configs参数格式说明
)
""", your_model_id=m2, **{"/shp-cn4/": "/bucket/"})
    assert t["transformer"].get_service_info()["status"] == "finished"
    assert json.loads(storage.read_bytes("obs://bucket/data-out/a.jpg.result"))["size"] == 3
    one = {"your_service_id": sid}
    assert book(P + """
predictor_instance = Predictor(session, service_id="your_service_id")
predictor_info = predictor_instance.get_service_info()
print(predictor_info)
""", **one)["predictor_info"]["service_name"] == "service_predictor_name"
    book(P + """
predictor_object_list = Predictor.get_service_object_list(session)
predictor_instance = predictor_object_list[0]
predictor_info = predictor_instance.get_service_info()
""")
    image = tmp_path / "test.jpg"
    image.write_bytes(b"\xff\xd8\xff")
    for data, kind in ((str(image), "images"), (str(image), "files"), ({"is_training": "False"}, "json")):
        out = book(P + """
predictor_instance = Predictor(session, service_id="your_service_id")
predict_result = predictor_instance.predict(data=data_path, data_type=data_type)
print(predict_result)
""", {"data_path": data, "data_type": kind}, **one)["predict_result"]
        assert out["service_id"] == sid and out["received"]
    assert book(P + "predictor_list = Predictor.get_service_list(session)\n")["predictor_list"]["total_count"] == 4
    out = book(P + """
predictor_list = Predictor.get_service_list(session, service_name="digit", order="asc", offset="0",
infer_type="real-time")
""")
    assert [x["service_name"] for x in out["predictor_list"]["services"]] == ["DigitRecognition"]
    assert len(book(P + "predictor_list_object_resp = Predictor.get_service_object_list(session)\n")[
        "predictor_list_object_resp"]) == 4
    objs = book(P + """
predictor_object_list = Predictor.get_service_object_list(session, service_name="digit", order="asc",
offset="0", infer_type="real-time")
""")["predictor_object_list"]
    assert objs[0].service_id == two["predictor"].service_id
    book(P + """
from mafmt.modelarts.config.model_config import ServiceConfig
predictor_instance = Predictor(session, service_id="your_service_id")
configs = [ServiceConfig(weight="100", instance_count=1,
specification="modelarts.vm.cpu.2u",model_id="your_model_id")]
service_config = predictor_instance.update_service_config(description="description",
status="running",
configs=configs)
""", your_model_id=m1, **one)
    from mafmt.modelarts.model import Predictor

    assert Predictor(s["session"], sid).get_service_info()["description"] == "description"
    book(P + """
from mafmt.modelarts.config.model_config import ServiceConfig
predictor_object_list = Predictor.get_service_object_list(session, service_name="DigitRecognition")
predictor_instance = predictor_object_list[0]
configs = [ServiceConfig(weight="100", instance_count=1,
specification="modelarts.vm.cpu.2u",model_id="your_model_id")]
predictor_config = predictor_instance.update_service_config(configs=configs)
""", your_model_id=m2)
    assert two["predictor"].wait()["config"][0]["model_id"] == m2
    mon = book(P + """
predictor_instance = Predictor(session, service_id="your_service_id")
predictor_monitor = predictor_instance.get_service_monitor()
print(predictor_monitor)
""", **one)["predictor_monitor"]
    assert mon["monitors"][0]["invocation_times"] == 3
    book(P + """
predictor_object_list = Predictor.get_service_object_list(session)
predictor_instance = predictor_object_list[0]
predictor_monitor = predictor_instance.get_service_monitor()
""")
    logs = book(P + """
predictor_instance = Predictor(session, service_id="your_service_id")
predictor_log = predictor_instance.get_service_logs()
print(predictor_log)
""", **one)["predictor_log"]
    assert logs["logs"][0]["result"] == "SUCCESS"
    book(P + """
predictor_object_list = Predictor.get_service_object_list(session)
predictor_instance = predictor_object_list[0]
predictor_log = predictor_instance.get_service_logs()
""")
    book(P + """
predictor_instance = Predictor(session, service_id="your_service_id")
predictor_instance.delete_service()
""", **one)
    book(P + """
predictor_object_list = Predictor.get_service_object_list(session)
predictor_instance = predictor_object_list[0]
predictor_instance.delete_service()
""")
    assert book(P + "n = Predictor.get_service_list(session)['total_count']\n")["n"] == 2


def test_11_2_local_predictor_from_published_model(book) -> None:
    loc = _obs_model("local-from-obs")
    s = book(M + """
from mafmt.modelarts.config.model_config import ServiceConfig
Model.configure_tf_infer_environ(device_type="CPU")
model_instance = Model(
 session,
 model_name="input_model_name", # 模型名称
 model_version="1.0.0", # 模型版本
 source_location=model_location, # 模型文件路径
 model_type="MXNet", # 模型类型
 model_algorithm="image_classification", # 模型算法
 execution_code="OBS_PATH",
 input_params=input_params, # 参考input_params格式描述
 output_params=output_params, # 参考output_params格式描述
 dependencies=dependencies, # 参考dependencies格式描述
 apis=apis)
configs = [ServiceConfig(model_id=model_instance.get_model_id(), weight="100", instance_count=1,
 specification="local")]
predictor_instance = model_instance.deploy_predictor(configs=configs)
if predictor_instance is not None:
    predict_result = predictor_instance.predict(data="your_raw_data_or_data_path",
 data_type="your_data_type") # 本地推理预测
""", {"model_location": loc, "input_params": [{"url": "/", "protocol": "http", "method": "post",
                                              "param_name": "images", "param_type": "file"}],
      "output_params": None, "dependencies": None, "apis": None},
        OBS_PATH=loc + "/model/customize_service.py", **{'"your_raw_data_or_data_path"': '{"k": 1}',
                                                         "your_data_type": "json"})
    assert s["predict_result"] == {"result": {"echo": {"k": 1}, "model": "input_model_name"}}
    assert book.emulator.request_count("POST", f"/v1/{book.emulator.project_id}/services") == 0


def test_dataset_to_training_to_model_to_service(book, tmp_path) -> None:
    """The mission's chain through the facade: a published dataset version feeds a
    training job, its output becomes a model, the model is deployed and answers — with
    its own ``customize_service.py`` when the emulator runs models."""
    from mafmt.emulator._ml import ml_state

    ml_state(book.emulator.store).run_models = True
    from mafmt.modelarts.config.model_config import ServiceConfig
    from mafmt.modelarts.estimatorV2 import Estimator
    from mafmt.modelarts.model import Model
    from mafmt.modelarts.session import Session
    from mafmt.modelarts.train_params import OutputData, TrainingFiles
    from tests.test_facade_training import _dataset_version

    ds, ver = _dataset_version(book)
    session = Session()
    est = Estimator(session=session, training_files=TrainingFiles("obs://bucket/code/", "train.py"),
                    outputs=[OutputData(obs_path="obs://bucket/train-out/", name="train_url")],
                    framework_type="PyTorch", framework_version="PyTorch-1.4.0-python3.6",
                    train_instance_type="modelarts.vm.cpu.8u", train_instance_count=1,
                    log_url="obs://bucket/train-log/")
    job = est.fit(dataset_id=ds, dataset_version_id=ver, job_name="chain", wait=True)
    assert job.get_job_info()["status"]["phase"] == "Completed"
    assert storage.exists("obs://bucket/train-out/training_summary.json")
    assert b"training finished" in storage.read_bytes("obs://bucket/train-log/chain-worker-0.log")
    _obs_model("train-out")  # what the training script would have saved
    model = Model(session, model_name="chain", model_version="1.0.0", source_location="/bucket/train-out",
                  model_type="PyTorch", source_job_id=job.job_id)
    assert model.get_model_info()["source_job_id"] == job.job_id
    predictor = model.deploy_predictor(configs=[ServiceConfig(model_id=model.model_id, weight=100, instance_count=1,
                                                              specification="modelarts.vm.cpu.2u")])
    assert predictor.predict({"x": 1}) == {"result": {"echo": {"x": 1}, "model": "chain"}}
    image = tmp_path / "digit.png"
    image.write_bytes(b"1234")
    assert predictor.predict(str(image), "images") == {"result": {"echo": {"bytes": 4}, "model": "chain"}}
    predictor.delete_service()
    model.delete_model()
