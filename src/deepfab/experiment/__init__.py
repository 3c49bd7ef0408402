"""deepfab.experiment: train variants x seeds under one protocol, summarise, test, draw.

    from deepfab.experiment import Variant, run_variants, summarize, paired_differences
    rows = run_variants([Variant("baseline"), Variant("+dropout", model={"dropout": 0.3})],
                        train, val, test, dict(epochs=20, lr=3e-3), seeds=[0, 1, 2], label_names=names)
    table = summarize(rows, n_boot=1000)          # mean, sd over seeds, 95 % interval over test maps
    diffs = paired_differences(rows, "baseline")  # paired t-test against the baseline, seed by seed

Modules: ``harness`` (``Variant``, ``run_variants``: one row per run), ``stats`` (``summarize``,
``bootstrap_macro_f1``, ``bootstrap_macro_f1_difference``, ``paired_differences``, ``recall_table``,
``summary_table``), ``plots`` (figures; drawing only). Lecture 1 compares architectures with it,
lecture 2 regularizers and imbalance remedies; the data come from ``deepfab.data.prepare``.

References: see each module.
"""
from .harness import Variant, d4_agreement_score, rows_on, run_variants, set_scores, slug
from .stats import (
    bootstrap_macro_f1,
    bootstrap_macro_f1_difference,
    paired_differences,
    recall_table,
    summarize,
    summary_table,
)

__all__ = ["Variant", "d4_agreement_score", "rows_on", "run_variants", "set_scores", "slug",
           "bootstrap_macro_f1", "bootstrap_macro_f1_difference", "paired_differences",
           "recall_table", "summarize", "summary_table"]
