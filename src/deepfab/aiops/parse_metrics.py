"""How good is a log parse? Grouping accuracy, parsing accuracy and template-level F1 against ground truth.

**Grouping accuracy** (GA, Zhu et al. 2019): a parser groups lines by the template it gives them;
a line is parsed correctly when its predicted group holds exactly the same lines as its true group;
GA is the share of such lines. With ``n(p)`` the size of predicted group ``p``, ``n(t)`` of true
group ``t`` and ``n(p, t)`` the lines in both, every line of ``p`` is correct when
``n(p, t) = n(p) = n(t)`` for one ``t``, and none otherwise:

    GA = (1 / N) * sum over p of n(p) * [exists t: n(p, t) = n(p) = n(t)]

**Parsing accuracy** (PA, Dai et al. 2022; "message-level accuracy" in Liu et al. 2022): the share
of lines whose predicted template text equals the true one (whitespace normalised, runs of ``<*>``
read as one). **Template F1** (Khan et al. 2022, "grouping template accuracy"): a predicted group is
right when it equals a true group as a set of lines; precision over predicted groups, recall over
true ones.

    from deepfab.aiops.parse_metrics import grouping_accuracy, parsing_accuracy, template_f1
    grouping_accuracy(truth_event_ids, predicted_event_ids)     # 0.0 .. 1.0

Introduced in lecture 16 (AIOps).

References: J. Zhu, S. He, J. Liu, P. He, Q. Xie, Z. Zheng, M. R. Lyu, "Tools and Benchmarks for
Automated Log Parsing", ICSE-SEIP 2019; H. Dai, H. Li, C.-S. Chen, W. Shang, T.-H. Chen, "Logram:
Efficient Log Parsing Using n-Gram Dictionaries", IEEE TSE 2022; Z. A. Khan, D. Shin, D. Bianculli,
L. Briand, "Guidelines for Assessing the Accuracy of Log Message Template Identification
Techniques", ICSE 2022.
"""
from __future__ import annotations

import re
from collections import Counter

from ..errors import DataError

_RUNS = re.compile(r"(?:<\*>\s*)+")


def _pair(truth, pred) -> tuple[list, list]:
    truth, pred = list(truth), list(pred)
    if len(truth) != len(pred):
        raise DataError(f"ground truth and prediction must label the same lines; got {len(truth)} and {len(pred)}")
    if not truth:
        raise DataError("no lines to score; expected at least one labelled line")
    return truth, pred


def _exact_groups(truth: list, pred: list) -> tuple[Counter, Counter, dict]:
    """(n(t), n(p), {p: t}) for the predicted groups that equal a true group."""
    nt, np_, npt = Counter(truth), Counter(pred), Counter(zip(pred, truth))
    exact = {p: t for (p, t), n in npt.items() if n == np_[p] == nt[t]}
    return nt, np_, exact


def grouping_accuracy(truth, pred) -> float:
    """Share of lines whose predicted group is exactly their true group (module docstring)."""
    truth, pred = _pair(truth, pred)
    _, np_, exact = _exact_groups(truth, pred)
    return sum(np_[p] for p in exact) / len(truth)


def template_f1(truth, pred) -> dict:
    """{'precision', 'recall', 'f1'} of predicted groups that equal a true group as sets of lines."""
    truth, pred = _pair(truth, pred)
    nt, np_, exact = _exact_groups(truth, pred)
    p, r = len(exact) / len(np_), len(exact) / len(nt)
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


def normalize_template(template: str) -> str:
    """A template with runs of ``<*>`` read as one and whitespace collapsed (for comparing texts)."""
    return " ".join(_RUNS.sub("<*> ", str(template)).split())


def parsing_accuracy(true_templates, pred_templates) -> float:
    """Share of lines whose predicted template text equals the true one (``normalize_template``)."""
    truth, pred = _pair(true_templates, pred_templates)
    return sum(normalize_template(a) == normalize_template(b) for a, b in zip(truth, pred)) / len(truth)
