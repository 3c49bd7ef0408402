"""Every formula of every lecture renders: no raw TeX is left on any lecture page.

The lecture pages convert TeX to MathML at build time (``deepfab.runner.mathml``), so a new TeX
construct in a lecture must either convert or fail here, before a reader sees its source.

    .venv/bin/python -m pytest tests/runner/test_lecture_math.py -q
"""
from __future__ import annotations

import re

import jupytext
import pytest

from deepfab import lectures
from deepfab.runner.mathml import MathSpans, protect_math, tex_to_mathml

COMMAND = re.compile(r"\\[A-Za-z]+")
CODE = re.compile(r"```.*?```|`[^`]*`", re.S)


@pytest.mark.parametrize("lec", lectures.available(), ids=lambda lec: lec.id)
def test_every_formula_of_the_lecture_converts_to_mathml(lec):
    spans = MathSpans()
    for cell in jupytext.read(lec.path).cells:
        if cell.cell_type == "markdown":
            text, _ = protect_math(cell.source, spans)
            prose = CODE.sub("", text)               # a dollar in code is not math
            assert not re.search(r"(?<!\\)\$", prose), f"{lec.id}: an unmatched $ is left in: {prose[:200]!r}"
    assert spans.spans, f"{lec.id} has no formula"
    failed = []
    for tex, display in spans.spans.values():
        mathml, ok = tex_to_mathml(tex, display)
        visible = re.sub(r"<annotation[^>]*>.*?</annotation>", "", mathml, flags=re.S)
        if not ok or COMMAND.search(re.sub(r"<[^>]+>", " ", visible)):
            failed.append(tex)
    assert failed == [], f"{lec.id}: {len(failed)} formulas left as TeX: {failed[:5]}"
