"""deepfab.plots: the confusion matrix says what its colour and its numbers are."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from deepfab.plots import draw_confusion


def test_confusion_colour_is_the_row_share_and_the_colour_bar_says_so():
    cm = np.array([[8, 2], [0, 5]])
    fig, ax = plt.subplots()
    draw_confusion(ax, cm, ["a", "b"], colorbar=True)
    np.testing.assert_allclose(ax.images[0].get_array(), [[0.8, 0.2], [0.0, 1.0]])
    assert sorted(t.get_text() for t in ax.texts) == ["2", "5", "8"]          # counts, empty cells blank
    bar = fig.axes[1]
    assert "share of the true class" in bar.get_ylabel() and "counts" in bar.get_ylabel()
    plt.close(fig)
    fig, ax = plt.subplots()
    draw_confusion(ax, cm, ["a", "b"])
    assert len(fig.axes) == 1                                                 # no bar unless asked
    plt.close(fig)
