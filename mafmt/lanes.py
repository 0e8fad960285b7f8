"""The switch of mafmt's fast lanes.

Readers and writers take a quick path for the plain records that make up most datasets (a
COCO box, a standard VOC object, a YOLO box line, a plain manifest line) and the general path
for everything else; both give the same result, byte for byte. ``PLAIN = False`` sends
everything through the general paths: the tests compare the two on generated data, and a
suspected fast-lane bug can be ruled out with ``MAFMT_PLAIN_LANES=0``.
"""

from __future__ import annotations

import os

__all__ = ["PLAIN"]

#: whether the fast lanes are used (environment: ``MAFMT_PLAIN_LANES=0`` turns them off)
PLAIN: bool = os.environ.get("MAFMT_PLAIN_LANES", "1") != "0"
