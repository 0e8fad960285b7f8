"""What mafmt writes for ModelArts passes mafmt's own validation, and a conversion that finds or
writes nothing never says it succeeded."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
import user_layouts as U
from test_coco_fidelity import _source

from mafmt.cli import main

GOLDEN = Path(__file__).parent / "data" / "golden"
#: the ModelArts-side targets and the format ``mafmt validate`` checks them as
MODELARTS_TARGETS = [("manifest", "m/out.manifest", "manifest"), ("modelarts-voc", "mvoc", "modelarts-voc"),
                     ("modelarts-yolo", "darknet", "modelarts-yolo")]


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def _sources(tmp: Path) -> dict[str, tuple[str, Path]]:
    tmp.mkdir(parents=True, exist_ok=True)
    coco = tmp / "instances.json"
    coco.write_text(json.dumps(_source()))
    csv = tmp / "boxes.csv"
    csv.write_text("filename,width,height,class,xmin,ymin,xmax,ymax\na.jpg,20,10,cat,1,1,5,5\nb.jpg,20,10,,,,,\n")
    return {
        "coco": ("coco", coco),
        "csv": ("csv", csv),
        "yolo": ("yolo", U.ultralytics(tmp / "y").root),
        "voc-devkit": ("voc", U.voc_devkit(tmp / "v").root),
        "voc-kaggle": ("voc", U.voc_kaggle(tmp / "k").root),
        "voc-flat-globox": ("voc", _globox_voc(tmp / "g")),
        "manifest": ("manifest", GOLDEN / "detect-multi-local-voc.manifest"),
    }


def _globox_voc(tmp: Path) -> Path:
    """A flat folder of XML files as globox writes them (no folder, segmented or difficult),
    images beside them."""
    root = tmp / "globox"
    for stem in ("img1", "img2"):
        U._image(root / f"{stem}.jpg")
        U._write(root / f"{stem}.xml", f"<annotation><filename>{stem}.jpg</filename><size><width>{U.W}</width>"
                                       f"<height>{U.H}</height></size><object><name>cat</name><bndbox><xmin>4.0</xmin>"
                                       "<ymin>6.0</ymin><xmax>20.0</xmax><ymax>30.0</ymax></bndbox></object></annotation>")
    return root


@pytest.mark.parametrize("target", MODELARTS_TARGETS, ids=[t[0] for t in MODELARTS_TARGETS])
def test_every_modelarts_output_passes_validate(tmp_path: Path, target: tuple[str, str, str]) -> None:
    fmt, rel, check_as = target
    for name, (src_fmt, path) in _sources(tmp_path / "src").items():
        dst = tmp_path / name / rel
        extra = ["-o", "write_sizes=true"] if "yolo" in fmt else []  # a YOLO folder without images needs them
        code, _, err = _run("convert", str(path), str(dst), "--from", src_fmt, "--to", fmt, "--size-table",
                            str(_sizes(tmp_path)), *extra)
        assert code == 0, (name, err)
        code, out, err = _run("validate", str(dst), "--format", check_as, "--size-table", str(_sizes(tmp_path)))
        errors = [line for line in out.splitlines() if line.startswith("error")]
        assert code == 0 and not errors, (name, fmt, errors[:5], err)


def _sizes(tmp: Path) -> Path:
    table = tmp / "sizes.csv"
    if not table.exists():
        table.write_text("filename,width,height\n" + "".join(f"img{i}.jpg,60,40\n" for i in range(1, 5))
                         + "a.jpg,20,10\nb.jpg,20,10\n")
    return table


def test_standard_voc_from_other_tools_is_valid_under_the_devkit_rules(tmp_path: Path) -> None:
    fx = U.voc_kaggle(tmp_path)  # no <folder>, no <difficult>: fine for the devkit
    code, out, _ = _run("validate", str(fx.root), "--format", "voc")
    assert code == 0 and "valid (voc; 0 error(s)" in out
    code, out, _ = _run("validate", str(fx.root / "annotations"), "--format", "modelarts-voc")
    assert code == 1 and "<difficult> is missing" in out  # ModelArts' reader needs it


def _voc_without_sizes(tmp: Path) -> Path:
    """Standard VOC as labelImg-like tools write it when they skip the optional fields: no
    <size>, <segmented> or <difficult>; the images are beside the XML files."""
    root = tmp / "no-size"
    for stem in ("img1", "img2"):
        U._image(root / f"{stem}.jpg")
        U._write(root / f"{stem}.xml", f"<annotation><filename>{stem}.jpg</filename><object><name>cat</name>"
                                       "<bndbox><xmin>4</xmin><ymin>6</ymin><xmax>20</xmax><ymax>30</ymax></bndbox>"
                                       "</object></annotation>")
    return root


@pytest.mark.parametrize("target", [
    ("modelarts-voc", "mvoc"),
    ("manifest", "m/out.manifest"),
], ids=["modelarts-voc", "manifest"])
def test_voc_without_size_gets_the_image_size_in_modelarts_outputs(tmp_path: Path, target: tuple[str, str]) -> None:
    fmt, rel = target
    src = _voc_without_sizes(tmp_path)
    code, _, err = _run("convert", str(src), str(tmp_path / rel), "--from", "voc", "--to", fmt)
    assert code == 0, err
    code, out, _ = _run("validate", str(tmp_path / rel), "--format", fmt)
    assert code == 0 and " 0 error(s)" in out, out  # ModelArts' reader requires <size>
    if fmt == "modelarts-voc":
        assert "<width>64</width>" in (tmp_path / rel / "img1.xml").read_text()
    for image in src.glob("*.jpg"):
        image.unlink()  # no image, no size: an error naming the images, never a document ModelArts refuses
    code, _, err = _run("convert", str(src), str(tmp_path / "again" / rel), "--from", "voc", "--to", fmt)
    assert code == 1 and "2 of the 2 samples have no image size" in err and "img1.jpg" in err and "--size-table" in err


# --------------------------------------------------------------------------- never an empty success


def test_a_folder_with_no_labels_is_an_error_that_says_what_was_looked_for(tmp_path: Path) -> None:
    root = tmp_path / "yolo"
    (root / "labels").mkdir(parents=True)
    (root / "classes.txt").write_text("cat\n")
    (root / "README.txt").write_text("nothing here yet\n")
    code, _, err = _run("convert", str(root), str(tmp_path / "out.json"), "--from", "yolo")
    assert code == 1 and "no YOLO label file or image found" in err and "looked for" in err
    code, out, _ = _run("validate", str(root), "--format", "yolo")
    assert code == 1 and "invalid" in out
    empty_voc = tmp_path / "voc"
    (empty_voc / "Annotations").mkdir(parents=True)
    code, _, err = _run("convert", str(empty_voc), str(tmp_path / "v.json"), "--from", "voc")
    assert code == 1 and "no VOC annotation found" in err
    assert not (tmp_path / "out.json").exists() and not (tmp_path / "v.json").exists()


def test_missing_image_sizes_name_the_images_and_the_way_out(tmp_path: Path) -> None:
    manifest = tmp_path / "m.manifest"
    manifest.write_text("".join(json.dumps({"source": f"p{i}.jpg", "annotation": [
        {"type": "modelarts/image_classification", "name": "cat"}]}) + "\n" for i in range(5)))
    code, _, err = _run("convert", str(manifest), str(tmp_path / "c.csv"))
    assert code == 0, err  # CSV holds samples without a size
    yolo = U.yolo_without_names(tmp_path / "y")
    for image in (yolo.root / "images").iterdir():
        image.unlink()  # the sizes are gone with the images
    code, _, err = _run("convert", str(yolo.root), str(tmp_path / "o.json"), "--from", "yolo")
    assert code == 1 and "image size of 'img1.jpg' unknown" in err and "--size-table" in err
    coco = tmp_path / "c.json"
    coco.write_text(json.dumps({"images": [{"id": 1, "file_name": "a.jpg"}, {"id": 2, "file_name": "b.jpg"},
                                           {"id": 3, "file_name": "c.jpg", "width": 9, "height": 9}],
                                "annotations": [], "categories": []}))
    code, _, err = _run("convert", str(coco), str(tmp_path / "vv"), "--to", "voc")
    assert code == 1 and "2 of the 3 samples have no image size (a.jpg, b.jpg)" in err and "--images" in err
    assert not (tmp_path / "vv").exists()
    code, out, err = _run("convert", str(coco), str(tmp_path / "vv"), "--to", "voc", "--on-error", "skip", "--json")
    report = json.loads(out)
    assert code == 0 and report["written"] == 1 and report["dropped"] == {"no image size": 2}


def test_wrong_images_folder_is_a_usage_error(tmp_path: Path) -> None:
    fx = U.classes_txt(tmp_path)
    for bad in (str(tmp_path / "nope"), str(fx.root / "classes.txt")):
        code, _, err = _run("convert", str(fx.root), str(tmp_path / "o.json"), "--images", bad)
        assert code == 2 and "--images" in err


def test_a_target_that_holds_none_of_the_types_is_an_error(tmp_path: Path) -> None:
    code, _, err = _run("convert", str(GOLDEN / "detect-multi-local-voc.manifest"), str(tmp_path / "imagenet"),
                        "--to", "modelarts-imagenet")
    assert code == 1 and "nothing written" in err and "no classification label" in err
    assert not (tmp_path / "imagenet").exists()


def test_annotations_of_an_unknown_image_are_lost_and_counted(tmp_path: Path) -> None:
    coco = tmp_path / "c.json"
    coco.write_text(json.dumps({"images": [{"id": 1, "file_name": "a.jpg", "width": 9, "height": 9}],
                                "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 2, 2]},
                                                {"id": 2, "image_id": 7, "category_id": 1, "bbox": [1, 1, 2, 2]}],
                                "categories": [{"id": 1, "name": "cat"}]}))
    code, out, _ = _run("convert", str(coco), str(tmp_path / "o.json"), "--json")
    assert code == 0 and json.loads(out)["lost"] == {"annotation of unknown image->dropped": 1}
    code, _, err = _run("convert", str(coco), str(tmp_path / "s.json"), "--strict")
    assert code == 1 and "annotation of unknown image" in err


def test_a_flat_folder_of_yolo_files_is_detected_as_yolo(tmp_path: Path) -> None:
    fx = U.flat_yolo(tmp_path)
    code, out, _ = _run("inspect", str(fx.root), "--json")
    summary = json.loads(out)
    assert code == 0 and summary["format"] == "yolo" and summary["objects"] == fx.boxes
    assert set(summary["labels"]) == {"cat", "dog", "traffic light"}


def test_coco_files_that_are_not_instances_are_named(tmp_path: Path) -> None:
    cases = {
        "results.json": ([{"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.9}] * 3000, "results file"),
        "captions.json": ({"images": [{"id": 1, "file_name": "a.jpg", "width": 9, "height": 9}],
                           "annotations": [{"id": 1, "image_id": 1, "caption": "a cat"}]}, "captions file"),
        "panoptic.json": ({"images": [{"id": 1, "file_name": "a.jpg", "width": 9, "height": 9}],
                           "annotations": [{"image_id": 1, "file_name": "a.png", "segments_info": []}],
                           "categories": []}, "panoptic file"),
    }
    for name, (doc, words) in cases.items():
        (tmp_path / name).write_text(json.dumps(doc))
        for argv in (["validate", str(tmp_path / name), "--format", "coco"],
                     ["convert", str(tmp_path / name), str(tmp_path / f"{name}.manifest"), "--from", "coco"]):
            code, out, err = _run(*argv)
            text = out + err
            assert code == 1 and words in text, (name, argv[0], text)
            assert max(len(line) for line in text.splitlines()) < 400  # never the whole document in a message


def test_coco_validate_reports_each_problem_once_and_accepts_info_null(tmp_path: Path) -> None:
    doc = {"info": None, "images": [{"id": 1, "file_name": "a.jpg", "width": 9, "height": 9}],
           "annotations": [{"id": 1, "image_id": 1, "category_id": 5, "bbox": [1, 1, 2, 2]}],
           "categories": [{"id": 1, "name": "cat"}]}
    (tmp_path / "c.json").write_text(json.dumps(doc))
    code, out, _ = _run("validate", str(tmp_path / "c.json"), "--json")
    problems = json.loads(out)
    assert code == 1 and [(p["path"], p["message"]) for p in problems] == [
        ("$.annotations[0].category_id", "annotation 1: no category with id 5")]
    doc["annotations"][0]["category_id"] = 1
    (tmp_path / "c.json").write_text(json.dumps(doc))
    assert _run("validate", str(tmp_path / "c.json"))[0] == 0


def test_image_level_coco_labels_are_read_as_classification(tmp_path: Path) -> None:
    doc = {"images": [{"id": 1, "file_name": "a.jpg", "width": 9, "height": 9}],
           "annotations": [{"id": 1, "image_id": 1, "category_id": 1}], "categories": [{"id": 1, "name": "cat"}]}
    (tmp_path / "labels.json").write_text(json.dumps(doc))
    code, out, _ = _run("inspect", str(tmp_path / "labels.json"), "--json")
    assert code == 0 and json.loads(out)["by_type"] == {"modelarts/object_detection": 1,
                                                         "modelarts/image_classification": 1}
    code, out, err = _run("convert", str(tmp_path / "labels.json"), str(tmp_path / "cls"), "--to",
                          "modelarts-image-classification", "--images", str(tmp_path), "--json")
    # a label file without its image is nothing ModelArts (or mafmt) reads: not written, and said
    assert code == 1 and "file not found (give --images DIR)" in err and not (tmp_path / "cls").exists()
    (tmp_path / "a.jpg").write_bytes(b"\xff\xd8 not really a JPEG")
    code, out, _ = _run("convert", str(tmp_path / "labels.json"), str(tmp_path / "cls"), "--to",
                          "modelarts-image-classification", "--images", str(tmp_path), "--json")
    report = json.loads(out)
    assert code == 0 and report["lost"] == {} and report["warnings"] == {}
    assert (tmp_path / "cls" / "a.txt").read_text() == "cat\n"
    assert (tmp_path / "cls" / "a.jpg").exists()


def test_a_leftover_of_a_killed_write_is_no_dataset(tmp_path: Path) -> None:
    """kill -9 leaves a hidden staging folder: it is never read, validated or counted as a dataset."""
    left = tmp_path / ".voc.mafmt-4242-0badc0de.tmp"
    (left / "Annotations").mkdir(parents=True)
    shutil.copy(GOLDEN / "voc" / "2007_000027.xml", left / "Annotations" / "a.xml")
    for command in (("validate", str(left), "--format", "voc"), ("inspect", str(left), "--format", "voc"),
                    ("convert", str(left), str(tmp_path / "out.json"), "--from", "voc")):
        code, out, err = _run(*command)
        assert code == 1 and "interrupted or running mafmt write left" in out + err, (command, out, err)
    assert not (tmp_path / "out.json").exists()


def test_a_sample_dropped_for_its_size_leaves_none_of_its_documents(tmp_path: Path) -> None:
    """Two inline documents, the second without a size: the sample is dropped whole, no orphan XML."""
    from mafmt import manifest
    from mafmt.model import OBJECT_DETECTION, BndBox, Detection, Sample, VocDocument, VocObject

    def det(width: int | None) -> Detection:
        doc = VocDocument(filename="a.jpg", width=width, height=width, objects=[VocObject.plain("cat", BndBox(1, 1, 2, 2))])
        return Detection(type=OBJECT_DETECTION, annotation_format="PASCAL VOC", document=doc)

    sample = Sample(source="a.jpg", annotations=[det(8), det(None)])
    report = manifest.write([sample], str(tmp_path / "m.manifest"), sizes=lambda s: None)
    assert report.dropped == {"no image size": 1} and report.written == 0
    assert not list(tmp_path.rglob("*.xml"))
