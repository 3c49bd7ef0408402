"""The augmentation gallery draws every map in the one wafer palette (deepfab.plots.wafer_rgb)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

from deepfab.augment.plots import plot_gallery
from deepfab.plots import wafer_rgb


def test_gallery_uses_the_wafer_palette():
    x = np.zeros((2, 3, 3), dtype=np.float32)
    x[0, 1, :] = 1
    x[1, 1, 1] = 1
    rgb = wafer_rgb(x)
    assert rgb.shape == (3, 3, 3)
    np.testing.assert_allclose(rgb[0, 0], [1, 1, 1])       # off the wafer: white
    assert rgb[1, 1, 0] > rgb[1, 1, 1]                    # the fail die is red
    assert rgb[1, 0, 2] > rgb[1, 0, 0]                    # a pass die is blue
    fig = plot_gallery([("a", x), ("raw", np.array([[0, 1], [2, 1]]))], ncols=4)
    np.testing.assert_allclose(fig.axes[0].images[0].get_array(), rgb)
    assert [ax.get_title() for ax in fig.axes[:2]] == ["a", "raw"]
    plt.close(fig)
    with pytest.raises(ValueError, match=r"\(H, W\)"):
        wafer_rgb(np.zeros((4, 4, 4)))
    with pytest.raises(ValueError, match="at least one"):
        plot_gallery([])
