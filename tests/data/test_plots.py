"""Data figures compose the deepfab.plots primitives: one wafer palette, class rows from the one subset rule."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from deepfab.data import encode_maps, load_wm811k
from deepfab.data.plots import plot_encodings, wafer_grid
from deepfab.plots import WAFER_LEGEND, wafer_rgb


def test_wafer_grid_rows_are_classes_in_the_wafer_palette():
    ws = load_wm811k("train_1")
    fig = wafer_grid(ws.maps, ws.labels, ws.label_names, n=18, title="t", seed=0)
    rows = [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel()]
    assert rows == [ws.label_names[c] for c in np.unique(ws.labels)]
    assert WAFER_LEGEND in fig._suptitle.get_text()
    shown = [ax.images[0].get_array() for ax in fig.axes if ax.images]
    first = shown[0]
    assert any(m.shape == first.shape[:2] and np.allclose(first, wafer_rgb(m)) for m in ws.maps)
    plt.close(fig)


def test_plot_encodings_greys_out_the_wafer_edge():
    maps = load_wm811k("train_1").maps[:2]
    enc = encode_maps(maps, 16, density=True)
    fig = plot_encodings(maps, enc, ["a", "b"])
    img = fig.axes[1].images[0].get_array()              # channel 1 of the first map, NaN off the wafer
    assert np.ma.getmaskarray(img).sum() == (enc[0, 0] == 0).sum()
    assert [fig.axes[k].get_title() for k in (0, 3)] == ["a", "b"]
    plt.close(fig)
