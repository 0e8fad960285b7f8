"""Every example of the SDK reference's data-management chapter (seed 004, chapter 7,
sections 7.1–7.5 and 7.7), with ``modelarts.`` imports changed to ``mafmt.modelarts.``,
run against the emulator on the local S3-compatible server.

Besides the imports, the only changes are the ones the chapter itself asks the reader to
make: placeholder IDs (``dataset_id``, the sample/version/task IDs printed in the book)
are replaced by IDs of objects that exist. Bucket paths (``/obs-gaia-test/...``) are kept:
the test creates that bucket on the local server.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from mafmt import storage
from mafmt.emulator import Emulator

BUCKET = "obs-gaia-test"


@pytest.fixture()
def book(s3, emulator_s3: Emulator, golden: Path, monkeypatch):
    """Run a chapter-7 snippet: ``book(code, **ids)`` executes it with the session
    configured from the environment, the way the examples expect."""
    s3.backend.create_bucket(BUCKET)
    uri = f"obs://{BUCKET}/data"
    for name in ("a.jpg", "b.jpg"):
        storage.write_bytes(f"{uri}/image/image-classification/{name}", b"\xff\xd8")
        storage.write_bytes(f"{uri}/image/image-detection/{name}", b"\xff\xd8")
    storage.write_bytes(f"{uri}/image/image-detection/a.xml", (golden / "voc/2007_000027.xml").read_bytes())
    storage.write_bytes(f"{uri}/table/table0/t.csv", b"name,age,label\nann,3,x\n")
    storage.write_bytes(f"{uri}/table/table1/t.csv", b"name,age,label\nbob,4,y\n")
    storage.write_bytes(f"{uri}/text/text-classification/t.txt", "高血压又称为高血压病".encode())
    emu = emulator_s3
    for key, value in emu.env().items():
        monkeypatch.setenv(key, value)

    def run(code: str, **names: str) -> dict:
        code = textwrap.dedent(code)
        for placeholder, real in names.items():
            code = code.replace(placeholder, real)
        scope: dict = {"print": lambda *a, **k: None}
        exec(compile(code, "<chapter 7 example>", "exec"), scope)  # noqa: S102 - the book's examples
        emu.wait_idle()
        return scope

    run.emulator = emu  # type: ignore[attr-defined]
    return run


HEAD = """
from mafmt.modelarts.session import Session
from mafmt.modelarts.dataset import Dataset
session = Session()
"""


def test_7_1_datasets(book) -> None:
    # 7.1.2 examples 1-6 (example 5 and 6 continue from a session made before)
    book(HEAD + """
dataset_name = "dataset-image" # 数据集名称
data_type = "IMAGE" # 数据集类型, 图像类型数据集
data_sources = dict() # 数据集数据来源
data_sources["type"] = 0 # 数据来源类型, 0表示OBS
data_sources["path"] = "/obs-gaia-test/data/image/image-classification/" # 数据在OBS中的路径
work_path = dict() # 数据集输出位置, 用于存放输出的标注信息等文件
work_path['type'] = 0 # 数据集工作目录的类型, 0表示OBS
work_path['path'] = "/obs-gaia-test/data/output/work_path/" # 数据集工作目录在OBS中的路径
create_dataset_resp = Dataset.create_dataset(session, dataset_name=dataset_name,
data_type=data_type,
data_sources=data_sources, work_path=work_path)
""")
    book(HEAD + """
dataset_name = "dataset-image-with-annotations"
data_type = "IMAGE"
data_sources = dict()
data_sources["type"] = 0
data_sources["path"] = "/obs-gaia-test/data/image/image-classification/"
annotation_config = dict() # 源数据的标注格式
annotation_config['scene'] = "image_classification" # 数据标注场景为图像分类标注
annotation_config['format_name'] = "ModelArts image classification 1.0"
data_sources['annotation_config'] = annotation_config
work_path = dict()
work_path['type'] = 0
work_path['path'] = "/obs-gaia-test/data/output/work_path/"
create_dataset_resp = Dataset.create_dataset(session, dataset_name=dataset_name,
data_type=data_type,
data_sources=data_sources, work_path=work_path)
""")
    table = """
dataset_name = "dataset-table"
data_type = "TABLE"
data_sources = dict()
data_sources["type"] = 0
data_sources["path"] = "/obs-gaia-test/data/table/table0/"
data_sources['with_column_header'] = True
work_path = dict()
work_path['type'] = 0
work_path['path'] = "/obs-gaia-test/data/output/work_path/" # 表格类型的数据集需要指定表格数据的schema信息
schema0 = dict()
schema0['schema_id'] = 0
schema0['name'] = "name"
schema0['type'] = "STRING"
schema1 = dict()
schema1['schema_id'] = 1
schema1['name'] = "age"
schema1['type'] = "STRING"
schema2 = dict()
schema2['schema_id'] = 2
schema2['name'] = "label"
schema2['type'] = "STRING"
schemas = []
schemas.append(schema0)
schemas.append(schema1)
schemas.append(schema2)
create_dataset_resp = Dataset.create_dataset(session, dataset_name=dataset_name,
data_type=data_type,
data_sources=data_sources, work_path=work_path, schema=schemas)
"""
    first_table = book(HEAD + table)["create_dataset_resp"]["dataset_id"]
    scope = book(HEAD + """
dataset_name = "dataset-image-classification"
dataset_type = 0 # 数据集的标注类型，0表示图像分类标注类型
data_sources = dict()
data_sources["path"] = "/obs-gaia-test/data/image/image-classification/"
data_sources["type"] = "0"
work_path = dict()
work_path['type'] = 0
work_path['path'] = "/obs-gaia-test/data/output/work_path/"
create_dataset_resp = Dataset.create_dataset(session, dataset_name=dataset_name,
dataset_type=dataset_type, data_sources=data_sources, work_path=work_path)
""")
    book(HEAD + """
dataset_name = "dataset-text-triplet"
dataset_type = 102 # 数据集标注类型，102表示文本三元组标注类型
data_sources = dict()
data_sources['type'] = 0
data_sources['path'] = "/obs-gaia-test/data/text/text-classification/"
work_path = dict()
work_path['type'] = 0
work_path['path'] = "/obs-gaia-test/data/output/work_path/"

# 创建文本三元组标注类型的数据集，需要传入标签参数
label_entity1 = dict() # 标签对象
label_entity1['name'] = "疾病" # 标签名称
label_entity1['type'] = 101 # 标签类型，101表示实体类型标签
label_entity2 = dict()
label_entity2['name'] = "疾病别称"
label_entity2['type'] = 101
label_relation1 = dict()
label_relation1['name'] = "又称为"
label_relation1['type'] = 102 # 标签类型，102表示关系类型标签
property = dict() # 关系类型标签需要在标签属性中指定起始实体标签和终止实体标签
property['@modelarts:from_type'] = "疾病" # 起始实体标签
property['@modelarts:to_type'] = "疾病别称" # 终止实体标签
label_relation1['property'] = property
labels = []
labels.append(label_entity1)
labels.append(label_entity2)
labels.append(label_relation1)
create_dataset_resp = Dataset.create_dataset(session, dataset_name=dataset_name,
dataset_type=dataset_type, data_sources=data_sources, work_path=work_path, labels=labels)
""")
    # 7.1.5 (also frees the name "dataset-table" that example 6 reuses)
    book(HEAD + """
Dataset.delete_dataset(session, dataset_id="68ZXdk6CZwgvUICOOdC")
""", **{"68ZXdk6CZwgvUICOOdC": first_table})
    book(HEAD + table.replace('data_type = "TABLE"', 'dataset_type = 400 # 数据集标注类型，400表示表格数据集')
         .replace("data_type=data_type", "dataset_type=dataset_type"))
    dataset_id = scope["create_dataset_resp"]["dataset_id"]

    # 7.1.1 examples 1-4
    found = book(HEAD + """
# 查询数据集列表
dataset_list = Dataset.list_datasets(session)
print(dataset_list) # 打印出查询结果
# 查询图像分类数据集
dataset_list0 = Dataset.list_datasets(session, dataset_type=0)
print(dataset_list0)
# 查询名称中包含dataset的数据集列表
dataset_list1 = Dataset.list_datasets(session, dataset_name="dataset")
print(dataset_list1)
dataset_list2 = Dataset.list_datasets(session, offset=0, limit=50) # 查询第1-50条记录
print(dataset_list2)
dataset_list3 = Dataset.list_datasets(session, offset=1, limit=50) # 查询第51-100条记录
print(dataset_list3)
""")
    assert found["dataset_list"]["total_number"] == 5
    assert [d["dataset_name"] for d in found["dataset_list0"]["datasets"]] == ["dataset-image-classification"]
    assert found["dataset_list1"]["total_number"] == 5 and found["dataset_list3"]["datasets"] == []

    # 7.1.3 and 7.1.4
    got = book(HEAD + """
dataset = Dataset(session, dataset_id)
dataset_info = dataset.get_dataset_info()
print(dataset_info) # 输出数据集的详细信息
dataset.update_dataset(dataset_name = "new-dataset-name")
""", dataset_id=repr(dataset_id))
    assert got["dataset_info"]["total_sample_count"] == 2
    assert got["dataset"].get_dataset_info()["dataset_name"] == "new-dataset-name"


def test_7_2_to_7_5_and_7_7(book) -> None:
    made = book(HEAD + """
dataset_id = Dataset.create_dataset(session, dataset_name="det", dataset_type=1,
    data_sources={"type": 0, "path": "/obs-gaia-test/data/image/image-classification/"},
    work_path={"type": 0, "path": "/obs-gaia-test/data/output/work_path/"})["dataset_id"]
""")
    ids = {"dataset_id": repr(made["dataset_id"])}

    # 7.4.2 examples 1-3, 7.4.1, 7.4.3
    imported = book(HEAD + """
dataset = Dataset(session, dataset_id)
annotation_config = dict()
annotation_config['scene'] = "object_detection"
annotation_config['format_name'] = "ModelArts PASCAL VOC 1.0"
import_resp = dataset.import_data(path="/obs-gaia-test/data/image/image-detection/",
annotation_config=annotation_config)
""", **ids)
    task_id = imported["import_resp"]["task_id"]
    listed = book(HEAD + """
dataset = Dataset(session, dataset_id)
list_tasks_resp = dataset.list_import_tasks()
print(list_tasks_resp) # 打印导入任务列表
task_info = dataset.get_import_task_info(task_id="r4R52nJ4VJKcivuioCU")
print(task_info) # 打印导入任务的详细信息
""", r4R52nJ4VJKcivuioCU=task_id, **ids)
    assert listed["list_tasks_resp"]["total_count"] == 2
    assert listed["task_info"]["status"] == "COMPLETED"

    # 7.3.1, 7.3.2, 7.3.3
    samples = book(HEAD + """
dataset = Dataset(session, dataset_id)
list_samples_resp = dataset.list_samples()
print(list_samples_resp) # 打印样本列表的信息
""", **ids)["list_samples_resp"]["samples"]
    assert len(samples) == 4 and any(s["labels"] for s in samples)
    sid = samples[0]["sample_id"]
    info = book(HEAD + """
dataset = Dataset(session, dataset_id)
sample_info = dataset.get_sample_info(sample_id="2551e78974aed9b60156d8376232f6bd")
print(sample_info) # 打印样本的详细信息
""", **{"2551e78974aed9b60156d8376232f6bd": sid}, **ids)
    assert info["sample_info"]["sample_id"] == sid

    # 7.7.1, 7.7.2, 7.7.3
    tasks = book(HEAD + """
dataset = Dataset(session, dataset_id="VukxA2FlaTUm7tkDtq0") # 初始化数据集
create_task_resp = dataset.create_label_task(task_name="obj_detection_task", task_type=1,
description="label task")
list_label_task_resp = dataset.get_label_tasks(sort_key="create_time", sort_dir="desc")
print(list_label_task_resp)
list_label_task_resp2 = dataset.get_label_tasks(is_workforce_task=True)
print(list_label_task_resp2)
task_info = dataset.get_label_task_info(task_id=create_task_resp["task_id"])
print(task_info)
""", VukxA2FlaTUm7tkDtq0=made["dataset_id"])
    assert tasks["list_label_task_resp"]["count"] == 1 and tasks["list_label_task_resp2"]["count"] == 0
    assert tasks["task_info"]["task_name"] == "obj_detection_task"
    label_task = tasks["create_task_resp"]["task_id"]

    # 7.2.2 examples 1-2, 7.2.1, 7.2.3
    versions = book(HEAD + """
dataset = Dataset(session, dataset_id)
create_version_resp = dataset.create_version(name="V001", version_format="Default", label_task_type=0,
description="version 001")
create_version_resp2 = dataset.create_version(label_task_id="IbAhFai5KXWC3gthUfz", description="dataset version from label task")
version_list = dataset.list_versions()
print(version_list) # 打印数据集的版本列表
version_info = dataset.get_version_info(version_id=create_version_resp["version_id"])
print(version_info) # 打印数据集版本的详情
""", IbAhFai5KXWC3gthUfz=label_task, **ids)
    assert versions["version_list"]["total_number"] == 2
    vid = versions["create_version_resp"]["version_id"]
    # 7.3.1 example 2
    in_version = book(HEAD + """
dataset = Dataset(session, dataset_id)
list_samples_resp = dataset.list_samples(version_id = "cSPuXPgnYp7ObRs6LaR")
print(list_samples_resp)
""", cSPuXPgnYp7ObRs6LaR=vid, **ids)
    assert in_version["list_samples_resp"]["sample_count"] == 4

    # 7.5.2, 7.5.1, 7.5.3
    exported = book(HEAD + """
dataset = Dataset(session, dataset_id)
export_resp = dataset.export_data("/obs-gaia-test/data/output/export-test/")
list_tasks_resp = dataset.list_export_tasks()
print(list_tasks_resp) # 打印导出任务列表
""", **ids)
    task_info = book(HEAD + """
dataset = Dataset(session, dataset_id)
task_info = dataset.get_export_task_info(task_id="iuHALF6xdkSAGKVN2jD")
print(task_info) # 查询导出任务的详细信息
""", iuHALF6xdkSAGKVN2jD=exported["export_resp"]["task_id"], **ids)["task_info"]
    assert task_info["status"] == "SUCCESSED" and storage.exists(task_info["manifest_path"])

    # 7.4.2 example 2: import the manifest the V001 publish wrote
    manifest_path = versions["version_info"]["manifest_path"]
    again = book(HEAD + """
dataset = Dataset(session, dataset_id)
annotation_config = dict() # Manifest文件导入任务中，传入annotation_config参数可以导入标注信息
import_resp = dataset.import_data(
    path="/obs-gaia-test/data/output/work_path/dataset-5932-Qdd1RUZ3wqBQrwrTr3v/annotation/V001/V001.manifest",annotation_config=annotation_config)
""", **{"/obs-gaia-test/data/output/work_path/dataset-5932-Qdd1RUZ3wqBQrwrTr3v/annotation/V001/V001.manifest":
        manifest_path}, **ids)
    status = book(HEAD + "dataset = Dataset(session, dataset_id)\nt = dataset.get_import_task_info(tid)\n",
                  tid=repr(again["import_resp"]["task_id"]), **ids)["t"]
    # every sample is already in the dataset with these very labels: the import does
    # nothing, and its counters say so
    assert status["status"] == "COMPLETED" and status["total_sample_count"] == 4
    assert status["imported_sample_count"] == status["annotated_sample_count"] == 0

    # 7.3.3 and 7.2.4
    book(HEAD + """
dataset = Dataset(session, dataset_id)
samples = []
samples.append("2551e78974aed9b60156d8376232f6bd")
dataset.delete_samples(samples)
dataset.delete_version(version_id="cSPuXPgnYp7ObRs6LaR")
""", **{"2551e78974aed9b60156d8376232f6bd": sid, "cSPuXPgnYp7ObRs6LaR": vid}, **ids)

    # 7.4.2 example 3 (table import) on a table dataset
    table = book(HEAD + """
ds = Dataset.create_dataset(session, dataset_name="tbl", data_type="TABLE",
    data_sources={"type": 0, "path": "/obs-gaia-test/data/table/table0/", "with_column_header": True},
    work_path={"type": 0, "path": "/obs-gaia-test/data/output/work_path/"})
dataset = Dataset(session, ds["dataset_id"])
""")
    res = book(HEAD + "dataset = Dataset(session, dataset_id)\n" + """
import_resp = dataset.import_data(
    path="/obs-gaia-test/data/table/table1/", with_column_header=True)
""", dataset_id=repr(table["ds"]["dataset_id"]))
    state = table["dataset"].get_import_task_info(res["import_resp"]["task_id"])
    assert state["status"] == "COMPLETED" and state["imported_sample_count"] == 1


def test_session_password_modes_and_repr(tmp_path, monkeypatch) -> None:
    from mafmt.emulator import User
    from mafmt.modelarts.dataset import Dataset
    from mafmt.modelarts.session import Session

    for var in ("HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "HUAWEICLOUD_SDK_PROJECT_ID"):
        monkeypatch.delenv(var, raising=False)
    users = [User("acct", "pw-acct", "acct"), User("iam-user", "pw-user", "acct")]
    with Emulator(ak="X", sk="secret-Y-123", project_id="c" * 32, users=users, obs_root=str(tmp_path)) as emu:
        monkeypatch.setenv("MAFMT_MODELARTS_ENDPOINT", emu.url)
        monkeypatch.setenv("MAFMT_IAM_ENDPOINT", emu.url)
        s1 = Session(username="acct", password="pw-acct", region_name="cn-north-4", project_id="c" * 32)
        s2 = Session(account="acct", username="iam-user", password="pw-user", region_name="cn-north-4",
                     project_id="c" * 32)
        for session in (s1, s2):
            assert Dataset.list_datasets(session) == {"total_number": 0, "datasets": []}
            assert "pw-" not in repr(session)
        s3 = Session(username="acct", password="pw-acct", region_name="cn-north-4")  # project from the token
        assert s3.project_id == "c" * 32
        s4 = Session(access_key="X", secret_key="secret-Y-123", project_id="c" * 32, region_name="cn-north-4")
        assert Dataset.list_datasets(s4)["total_number"] == 0 and "secret-Y" not in repr(s4)


def test_chapter_6_obs_examples(s3, tmp_path, monkeypatch) -> None:
    from mafmt.modelarts.session import Session

    home = tmp_path / "ma-user"
    (home / "sub").mkdir(parents=True)
    (home / "file1.txt").write_text("one")
    (home / "sub" / "file2.txt").write_text("two")
    session = Session()
    b = s3.uri("dir1/")
    # 6.2
    session.obs.copy(src_path=str(home / "file1.txt"), dst_path=b + "file1.txt")
    session.obs.copy(src_path=b + "file1.txt", dst_path=str(tmp_path / "copy.txt"))
    session.obs.copy(src_path=str(home), dst_path=s3.uri("dir1"), keep_last_dir=True)
    session.obs.copy(src_path=s3.uri("dir1"), dst_path=str(tmp_path / "down"), keep_last_dir=True)
    assert (tmp_path / "copy.txt").read_text() == "one"
    assert (tmp_path / "down/dir1/ma-user/sub/file2.txt").read_text() == "two"
    # 6.3 - 6.6
    session.obs.upload_file(src_local_file=str(home / "file1.txt"), dst_obs_dir=s3.uri("up/"))
    session.obs.upload_dir(src_local_dir=str(home) + "/", dst_obs_dir=s3.uri("updir/"))
    out = tmp_path / "out"
    out.mkdir()
    session.obs.download_file(src_obs_file=s3.uri("up/file1.txt"), dst_local_dir=str(out) + "/")
    session.obs.download_dir(src_obs_dir=s3.uri("updir/"), dst_local_dir=str(out) + "/")
    assert (out / "file1.txt").read_text() == "one"
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.txt")) == [
        "file1.txt", "updir/ma-user/file1.txt", "updir/ma-user/sub/file2.txt"]
