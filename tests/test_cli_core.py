"""The CLI contract of the core commands, in-process through main([...])."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from conftest import GOLDEN

from mafmt import manifest, voc
from mafmt.cli import main


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_inspect_json_contract(capsys):
    code, out, err = run(["inspect", str(GOLDEN / "detect-multi-local-voc.manifest"), "--json"], capsys)
    assert code == 0, err
    info = json.loads(out)
    assert info["format"] == "manifest"
    assert info["samples"] == 8
    assert info["annotations"] == sum(len(s.annotations) for s in manifest.read(GOLDEN / "detect-multi-local-voc.manifest"))
    assert info["by_type"] == {"modelarts/object_detection": info["annotations"]}
    # 8 annotations point at 2007_000027.xml (1 person with parts head, hand, 2 feet),
    # one at 000000089955_1556180702627.xml (2 traffic lights)
    assert info["annotations"] == 9
    assert info["labels"] == {"person": 8, "head": 8, "hand": 8, "foot": 16, "trafficlight": 2}
    assert info["shapes"] == {"bndbox": 8 * 5 + 2}


def test_inspect_voc_folder_counts_parts_and_shapes(capsys):
    code, out, _ = run(["inspect", str(GOLDEN / "voc"), "--json"], capsys)
    info = json.loads(out)
    assert code == 0 and info["format"] == "voc" and info["samples"] == 4
    assert info["shapes"] == {"bndbox": 2 + 5 + 5 + 2, "polyline": 1}


def test_validate_exit_codes_and_json(capsys, tmp_path):
    assert run(["validate", str(GOLDEN / "text_entity.manifest")], capsys)[0] == 0
    code, out, _ = run(["validate", str(GOLDEN / "voc/errorFiles/twoBndBox.xml"), "--json"], capsys)
    assert code == 1
    problems = json.loads(out)
    assert {"file", "line", "path", "message", "severity"} <= set(problems[0])
    bad = tmp_path / "bad.manifest"
    bad.write_text('{"source":"a"}\n{"source":\n', "utf-8")
    code, out, err = run(["validate", str(bad)], capsys)
    assert code == 1 and f"{bad}:2:" in out and "Traceback" not in err


def test_usage_errors_exit_2(capsys, tmp_path):
    assert run(["convert"], capsys)[0] == 2
    assert run(["inspect", str(tmp_path / "missing.manifest")], capsys)[0] == 2
    code, _, err = run(["convert", str(GOLDEN / "V002.manifest"), str(tmp_path / "x"), "--to", "nope"], capsys)
    assert code == 2 and "unknown format 'nope'" in err
    assert run([], capsys)[0] == 2


def test_convert_voc_folder_to_manifest_and_back(capsys, tmp_path):
    shutil.copytree(GOLDEN / "voc", tmp_path / "voc", ignore=shutil.ignore_patterns("errorFiles"))
    code, out, err = run(["convert", str(tmp_path / "voc"), str(tmp_path / "out/all.manifest")], capsys)
    assert code == 0, err
    assert "written: 4" in out and "lost: nothing" in out
    samples = list(manifest.read(tmp_path / "out/all.manifest"))
    assert [s.annotations[0].load().filename for s in samples] == [
        "000000089955.jpg", "2007_000027.jpg", "000000484951.jpg", "test",
    ]
    # back to ModelArts VOC files: lossless
    code, out, err = run(["convert", str(tmp_path / "out/all.manifest"), str(tmp_path / "back"),
                          "--to", "modelarts-voc", "--json"], capsys)
    assert code == 0, err
    report = json.loads(out)
    assert report["written"] == 4 and report["lost"] == {}
    for src in (tmp_path / "voc").glob("*.xml"):
        original = voc.read_document(str(src))
        again = voc.read_document(str(tmp_path / "back" / (original.filename.rsplit(".", 1)[0] + ".xml")))
        assert again == original
    # to the standard VOC layout: boxes only, every loss counted
    code, out, err = run(["convert", str(tmp_path / "out/all.manifest"), str(tmp_path / "std"), "--to", "voc", "--json"],
                         capsys)
    assert code == 0, err
    report = json.loads(out)
    assert report["lost"] == {
        "confidence->dropped": 2,  # 2007_000027.xml: the person and its head
        "polyline->bbox": 1,  # polyline.xml
        "properties->dropped": 4,  # polyline.xml: four objects with properties
    }
    assert report["metadata"]["document unknown fields"] == 1  # test.xml: <path>
    assert sorted(p.name for p in (tmp_path / "std/Annotations").iterdir()) == [
        "000000089955.xml", "000000484951.xml", "2007_000027.xml", "test.xml",
    ]


def test_a_target_that_holds_none_of_the_input_is_an_error(capsys, tmp_path):
    code, _, err = run(["convert", str(GOLDEN / "text_entity.manifest"), str(tmp_path / "v.xml"), "--to", "voc"],
                         capsys)
    samples = list(manifest.read(GOLDEN / "text_entity.manifest"))
    assert code == 1 and f"none of the {len(samples)} samples fits voc (no detection annotation: {len(samples)})" in err
    assert not (tmp_path / "v.xml").exists() and "Traceback" not in err


def test_convert_counts_loss_and_strict_fails_without_writing(capsys, tmp_path):
    code, out, _ = run(["convert", str(GOLDEN / "detect-multi-local-voc.manifest"), str(tmp_path / "v"), "--to", "voc",
                        "--json"], capsys)
    report = json.loads(out)
    assert code == 0 and report["written"] == report["read"] > 0 and report["lost"]
    code, _, err = run(["convert", str(GOLDEN / "detect-multi-local-voc.manifest"), str(tmp_path / "w"), "--to", "voc",
                        "--strict"], capsys)
    assert code == 1 and "would lose data" in err
    assert not (tmp_path / "w").exists()


def test_formats_lists_native_formats(capsys):
    code, out, _ = run(["formats", "--json"], capsys)
    names = [f["name"] for f in json.loads(out)]
    assert code == 0 and {"manifest", "voc"} <= set(names)


def test_console_script_and_module_entry_points(tmp_path):
    for i, cmd in enumerate(([sys.executable, "-m", "mafmt"], [shutil.which("mafmt") or "mafmt"])):
        target = tmp_path / f"o{i}.manifest"
        proc = subprocess.run([*cmd, "convert", str(GOLDEN / "V002.manifest"), str(target)], capture_output=True, text=True,
                              check=False)
        assert proc.returncode == 0, proc.stderr
        assert "written: 10" in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "mafmt", "validate", str(GOLDEN / "voc/errorFiles/empty.xml")],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 1 and "empty file" in proc.stdout and "Traceback" not in proc.stderr


@pytest.mark.parametrize("argv", [["--version"], ["--help"]])
def test_version_and_help(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 0
