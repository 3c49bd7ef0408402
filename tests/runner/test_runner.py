"""Tests for ``deepfab.runner`` (every lecture runs through it) and ``deepfab.book``.

A tiny fixture lecture (markdown with math, Context, a metric, a figure) is executed as a real
notebook; a second fixture fails in its second code cell. The TeX-to-MathML conversion is
checked on a wide sample of the notation the lectures use.

    .venv/bin/python -m pytest tests/runner/test_runner.py -q
"""
from __future__ import annotations

import html
import json
import math
import re

import nbformat
import numpy as np
import pytest

from deepfab import lectures
from deepfab.book import build_book
from deepfab.cli import UsageError
from deepfab.runner import is_timing_metric, markdown_math_to_html, notebook_to_html, run_lecture, tex_to_mathml

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def no_network(page: str) -> None:
    assert "<script" not in page.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page, re.I), "page references the network"
    assert "<link" not in page.lower()


@pytest.fixture(scope="module")
def ok_run(tmp_path_factory, fixture_lecture):
    """The passing fixture, run once as lecture L00 with seed 3 (the book test reuses it)."""
    runs = tmp_path_factory.mktemp("runs")
    lec = fixture_lecture("lecture_ok", "L00")
    status = run_lecture(lec, out=runs / "L00", smoke=True, seed=3, device="auto")
    return status, runs / "L00", runs


def test_run_writes_notebook_html_figures_metrics_config(ok_run):
    status, out, _ = ok_run
    assert status == 0
    # The seed and smoke mode reached the kernel: recompute the fixture's metric independently.
    rng = np.random.default_rng(3)
    X = rng.normal(size=(50, 3))
    w = np.array([1.0, -2.0, 0.5])
    y = X @ w + 0.1 * rng.normal(size=50)
    expected = np.linalg.norm(np.linalg.solve(X.T @ X, X.T @ y) - w)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["fit/weight_error"] == pytest.approx(expected, rel=1e-12)

    png = (out / "figures" / "fit.png").read_bytes()
    assert png.startswith(PNG_MAGIC) and len(png) > 2000
    assert (out / "stray.txt").is_file(), "the kernel's working directory must be the output folder"

    config = json.loads((out / "config.json").read_text())
    assert (config["lecture"], config["mode"], config["seed"], config["device"]) == ("L00", "smoke", 3, "cpu")
    assert config["status"] == "ok" and config["error"] is None
    assert set(config["versions"]) >= {"deepfab", "torch", "numpy", "python"}
    assert [c["number"] for c in config["cells"]] == [1, 2, 3]
    assert all(c["status"] == "ok" and c["seconds"] >= 0 for c in config["cells"])
    assert config["wall_seconds"] >= sum(c["seconds"] for c in config["cells"])
    assert config["cells"][0]["first_line"] == "import numpy as np"
    assert config["started"] <= config["finished"]
    assert {"L00.ipynb", "L00.html", "metrics.json", "config.json", "figures/fit.png"} <= set(config["files"])

    nb = nbformat.read(out / "L00.ipynb", as_version=4)
    streams = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "samples: 50" in streams                                  # ctx.pick(real=200, smoke=50)
    assert any("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "$\\|Xw - y\\|_2^2$" in nb.cells[0].source                # the notebook keeps its TeX


def test_html_is_self_contained_with_mathml(ok_run):
    _, out, _ = ok_run
    page = (out / "L00.html").read_text()
    no_network(page)
    assert page.count("<math") >= 4 and 'display="block"' in page
    assert "<mtable" in page                                        # the aligned block became a table
    assert 'class="tex-fallback"' not in page and "dfmath" not in page
    assert re.search(r'<img[^>]+src="data:image/png;base64,', page)
    assert "A price of $5 is not math" in page                      # \$ stays a dollar
    assert "<code>a $b$ c</code>" in page                           # code spans keep their dollars
    assert "L00 · Fixture lecture_ok" in page and "smoke run" in page


def test_failing_cell_exits_1_and_names_the_cell(tmp_path, fixture_lecture, capsys):
    out = tmp_path / "fail"
    status = run_lecture(fixture_lecture("lecture_fail"), out=out, smoke=True, seed=0)
    assert status == 1
    err = capsys.readouterr().err
    assert "cell 2/3" in err and "value = 1.0" in err and "lecture_fail.py line 11" in err
    assert "ZeroDivisionError" in err
    config = json.loads((out / "config.json").read_text())
    assert config["status"] == "failed" and config["error"]["cell"] == "2/3"
    assert [c["status"] for c in config["cells"]] == ["ok", "error", "pending"]
    assert json.loads((out / "metrics.json").read_text()) == {"before/value": 1.0}
    page = (out / "L99.html").read_text()                           # the partial page is still written
    assert "ZeroDivisionError" in page and "never reached" in page and "failed" in page
    assert nbformat.read(out / "L99.ipynb", as_version=4).cells[3].outputs == []


def test_output_folder_policy(tmp_path, fixture_lecture):
    lec = fixture_lecture("lecture_ok")
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("the user's own file")
    with pytest.raises(UsageError, match="not a previous run of L99"):
        run_lecture(lec, out=out, smoke=True)
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    (out / "L99.html").write_text("an old page the user asked to overwrite")
    assert run_lecture(lec, out=out, smoke=True, force=True) == 0
    assert (out / "notes.txt").read_text() == "the user's own file"
    assert "<math" in (out / "L99.html").read_text()
    assert "notes.txt" not in json.loads((out / "config.json").read_text())["files"]

    # A previous run of the same lecture: its files go first (no stale figure survives), others stay.
    (out / "figures" / "old.png").write_bytes(PNG_MAGIC)
    config = json.loads((out / "config.json").read_text())
    config["files"].append("figures/old.png")
    (out / "config.json").write_text(json.dumps(config))
    assert run_lecture(lec, out=out, smoke=True) == 0
    assert not (out / "figures" / "old.png").exists()
    assert (out / "notes.txt").exists() and (out / "figures" / "fit.png").exists()

    # A run killed half-way (config.json still says "running"): all but the files that were there go.
    (out / "figures" / "stale.png").write_bytes(PNG_MAGIC)
    (out / "config.json").write_text(json.dumps({"lecture": "L99", "status": "running",
                                                 "preexisting": ["notes.txt"]}))
    assert run_lecture(lec, out=out, smoke=True) == 0
    assert not (out / "figures" / "stale.png").exists() and (out / "notes.txt").exists()

    with pytest.raises(UsageError, match="is a file"):
        run_lecture(lec, out=out / "notes.txt", smoke=True)
    with pytest.raises(UsageError, match="seed"):
        run_lecture(lec, out=tmp_path / "x", seed=-1)


def test_cell_timeout_is_a_failure_naming_the_cell(tmp_path, fixture_lecture, capsys):
    out = tmp_path / "slow"
    assert run_lecture(fixture_lecture("lecture_slow"), out=out, smoke=True, timeout=2) == 1
    assert "timed out after 2 s" in capsys.readouterr().err
    config = json.loads((out / "config.json").read_text())
    assert config["status"] == "failed" and config["error"]["first_line"] == "import time"
    assert (out / "L99.html").is_file() and (out / "L99.ipynb").is_file()


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_gpu_is_a_usage_error(tmp_path, fixture_lecture):
    with pytest.raises(UsageError, match="CUDA is not available"):
        run_lecture(fixture_lecture("lecture_ok"), out=tmp_path / "x", device="cuda")


def test_book_lists_all_lectures_and_links_runs(ok_run, tmp_path):
    _, _, runs = ok_run
    index = build_book(out=tmp_path / "book", runs=runs)
    page = index.read_text()
    no_network(page)
    for lec in lectures.LECTURES:
        assert f"{lec.id} · {html.escape(lec.title)}" in page and html.escape(lec.title_seed) in page
        if lec.id != "L00":
            assert (f"deepfab run {lec.id}" in page) == lec.available
    assert page.count('class="lec"') == len(lectures.LECTURES) == 17
    assert 'href="L00.html"' in page and "fit/weight_error" in page and "smoke run" in page
    copied = (tmp_path / "book" / "L00.html").read_text()
    assert 'href="index.html"' in copied and "<math" in copied
    datasets = (tmp_path / "book" / "datasets.html").read_text()
    assert "WM-811K" in datasets and "Wu" in datasets
    no_network(datasets)


# ---- TeX to MathML (no kernel) ----

WIDE_SAMPLE = [
    r"\|Xw-y\|_2^2", r"\begin{aligned} a &= b \\ c &= d \end{aligned}", r"\underbrace{a+b}_{n}",
    r"\operatorname{softmax}(z)_i", r"\mathbb{R}^{n\times d}", r"\left( \frac{a}{b} \right)", r"\mathcal{L}(\theta)",
    r"\boldsymbol{\theta}", r"\tfrac{1}{2}", r"\text{if } x>0", r"X^\top X", r"\sum_{i=1}^n x_i", r"\nabla_\theta L",
    r"\mathrm{KL}(p\,\|\,q)", r"\hat{y}", r"\tilde{x}", r"\bar x", r"a\odot b", r"\mathbf{x}", r"a\quad b\;c\,d\!e",
    r"f(x)=\begin{cases}1 & x>0\\0&\text{else}\end{cases}", r"\begin{bmatrix}1&2\\3&4\end{bmatrix}",
    r"\begin{align} a &= b \\ c&=d \end{align}", r"\arg\min_w L", r"\operatorname*{argmin}_w L", r"\lVert x \rVert",
    r"\langle a,b\rangle", r"\frac{\partial L}{\partial w}", r"\sqrt[3]{x}", r"\binom{n}{k}",
    r"\mathbb{E}_{x\sim p}[f(x)]",
    r"\left. \frac{df}{dx} \right|_{x=0}", r"\max_{\|\delta\|_\infty\le\epsilon}", r"x^{(100)} = A^{100} x^{(0)}",
    r"\int_0^1 f(x)\,dx", r"p(x\mid z)", r"\begin{gathered} a \\ b \end{gathered}",
    r"\begin{equation} a \label{e} \end{equation}",
    r"\sigma(z) = \frac{1}{1+e^{-z}}", r"\mathbb{1}[y=k]", r"\lfloor x \rfloor", r"\xrightarrow{f}", r"\Pr[y=1]",
]


@pytest.mark.parametrize("tex", WIDE_SAMPLE)
def test_wide_sample_converts(tex):
    out, ok = tex_to_mathml(tex, display=True)
    assert ok, out
    assert out.startswith("<math") and "\\" not in out.replace("\\\\", "")


def test_styled_letters_become_characters():
    def chars(tex):
        return html.unescape(tex_to_mathml(tex)[0])

    assert "\U0001D7D9" in chars(r"\mathbb{1}")          # MATHEMATICAL DOUBLE-STRUCK DIGIT ONE
    assert "\u211D" in chars(r"\mathbb{R}")
    assert "\U0001D431" in chars(r"\mathbf{x}")          # bold x
    assert "\u2112" in chars(r"\mathcal{L}")             # script L (a "hole" letter)
    assert "\U0001D6C9" not in chars(r"\theta")          # plain letters stay plain


def test_min_max_limits_go_under_in_display():
    for tex in (r"\min_{\theta\in\Theta} f", r"\lim_{n\to\infty} a_n", r"\operatorname*{argmin}_w L"):
        out, ok = tex_to_mathml(tex, display=True)
        assert ok and '<munder><mo movablelimits="true">' in out and "<msub><mo" not in out
        assert out.count("<munder>") == out.count("</munder>")


def test_function_names_get_a_thin_space():
    assert '<mi>log</mi><mspace width="0.1667em" /><mi>p</mi>' in tex_to_mathml(r"\log p")[0]
    assert '</msup><mspace width="0.1667em" /><mi>x</mi>' in tex_to_mathml(r"\sin^2 x")[0]
    assert "mspace" not in tex_to_mathml(r"\exp(x)")[0]           # none before a parenthesis


@pytest.mark.parametrize("tex", [r"\frac{a}{", r"a^", r"\begin{aligned} a", r"\nosuchcommand{x}"])
def test_bad_tex_degrades_to_visible_source(tex):
    out, ok = tex_to_mathml(tex)
    assert not ok and out.startswith('<code class="tex-fallback"') and "$" in out


def test_dollars_code_and_escapes():
    text = ("Costs \\$5, and $5 and $10 are money. Inline $a_1$, code `x = $y$`.\n\n"
            "```python\nprint('$z$')\n```\n\n$$\\frac{1}{2}$$")
    out, failed = markdown_math_to_html(text)
    assert failed == []
    assert out.count("<math") == 2 and "\\$5" in out and "$5 and $10" in out
    assert "`x = $y$`" in out and "print('$z$')" in out


def test_math_in_heading_keeps_valid_ids():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("## The loss $\\mathcal{L}(\\theta)$ and a broken $\\frac{a}{$"),
        nbformat.v4.new_code_cell("x", outputs=[nbformat.v4.new_output(
            "display_data", data={"text/latex": "\\displaystyle \\sum_i x_i", "text/plain": "sum"}),
            nbformat.v4.new_output("display_data", data={"text/markdown": "| a | $b^2$ |\n|---|---|\n| 1 | 2 |"})]),
    ])
    page, failed = notebook_to_html(nb, "t", ".")
    no_network(page)
    assert failed == ["\\frac{a}{"]
    assert page.count("<math") == 3
    assert not re.search(r'id="[^"]*<', page), "a formula leaked into an id attribute"


@pytest.mark.parametrize("name,timing", [
    ("timing/train", True), ("train_time", True), ("fit/seconds", True), ("epoch_s", True), ("speedup", True),
    ("cpu/ratio_time", True), ("latency_ms", True), ("test/macro_f1", False), ("val_score", False),
    ("loss", False), ("params", False),
])
def test_timing_metric_convention(name, timing):
    assert is_timing_metric(name) is timing


def test_metric_values_are_finite(ok_run):
    _, out, _ = ok_run
    assert all(math.isfinite(v) for v in json.loads((out / "metrics.json").read_text()).values())
