"""Tiny drivers that run one benchmark case with a peer library, as its users would.

``python bench/peers.py TOOL CASE SRC DST [AUX]`` where TOOL is ``globox`` or ``datumaro``.
Each driver is the few lines of the library's documented API for the case; the library is
imported inside the driver, so the process pays only that import. ``AUX`` is the image
folder (YOLO input: both read image headers for sizes) or, for datumaro, the folder with
the COCO file in the layout its importer requires (``annotations/instances_train.json``,
a hard link to the same file every tool reads).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable


def _yolo_names(root: str) -> dict[int, str]:
    import yaml

    with open(os.path.join(root, "data.yaml")) as fh:
        names = yaml.safe_load(fh)["names"]
    return dict(enumerate(names)) if isinstance(names, list) else {int(k): v for k, v in names.items()}


# --------------------------------------------------------------------------- globox


def globox_coco_yolo(src: str, dst: str, aux: str) -> None:
    import globox

    s = globox.AnnotationSet.from_coco(src)
    s.save_yolo_v5(dst, label_to_id={label: i for i, label in enumerate(sorted(s._labels()))})


def globox_coco_voc(src: str, dst: str, aux: str) -> None:
    import globox

    globox.AnnotationSet.from_coco(src).save_pascal_voc(dst)


def globox_voc_coco(src: str, dst: str, aux: str) -> None:
    import globox

    globox.AnnotationSet.from_pascal_voc(os.path.join(src, "Annotations")).save_coco(dst, auto_ids=True)


def globox_yolo_coco(src: str, dst: str, aux: str) -> None:
    import globox

    names = _yolo_names(src)
    s = globox.AnnotationSet.from_yolo_v5(os.path.join(src, "labels", "train"), image_folder=aux)
    s.map_labels({str(i): n for i, n in names.items()}).save_coco(dst, auto_ids=True)


# --------------------------------------------------------------------------- datumaro


def datumaro_coco_yolo(src: str, dst: str, aux: str) -> None:
    import datumaro as dm

    dm.Dataset.import_from(aux, "coco_instances").export(dst, "yolo")  # yolo_ultralytics needs a val split


def datumaro_coco_voc(src: str, dst: str, aux: str) -> None:
    import datumaro as dm

    dm.Dataset.import_from(aux, "coco_instances").export(dst, "voc_detection")


def datumaro_voc_coco(src: str, dst: str, aux: str) -> None:
    import datumaro as dm

    dm.Dataset.import_from(src, "voc_detection").export(os.path.dirname(dst), "coco_instances")


def datumaro_yolo_coco(src: str, dst: str, aux: str) -> None:
    import datumaro as dm

    dm.Dataset.import_from(src, "yolo").export(os.path.dirname(dst), "coco_instances")


DRIVERS: dict[str, dict[str, Callable[[str, str, str], None]]] = {
    "globox": {"coco-yolo": globox_coco_yolo, "coco-voc": globox_coco_voc, "voc-coco": globox_voc_coco,
               "yolo-coco": globox_yolo_coco},
    "datumaro": {"coco-yolo": datumaro_coco_yolo, "coco-voc": datumaro_coco_voc, "voc-coco": datumaro_voc_coco,
                 "yolo-coco": datumaro_yolo_coco},
}

if __name__ == "__main__":
    tool, case, src, dst, *rest = sys.argv[1:]
    DRIVERS[tool][case](src, dst, rest[0] if rest else "")
