"""Held-out SEM-like scenes (``deepfab.sem.heldout``): seeded, in range, and unlike the training kinds."""
from __future__ import annotations

import numpy as np
import pytest

from deepfab.errors import DataError
from deepfab.sem.heldout import REPORT_SEED, VAL_SEED, heldout_scene, heldout_set


@pytest.mark.parametrize("kind", ["bars", "wires"])
def test_scenes_are_seeded_and_use_the_sem_levels(kind):
    a, b = heldout_set(kind, 3, 96, seed=VAL_SEED), heldout_set(kind, 3, 96, seed=VAL_SEED)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, heldout_set(kind, 3, 96, seed=REPORT_SEED))     # the report set differs
    assert a.shape == (3, 96, 96) and a.dtype == np.float32 and a.min() >= 0 and a.max() <= 1
    for x in a:                                   # the renderer's levels: space 0.15, edges up to 0.95
        assert (np.abs(x - 0.15) < 0.01).mean() > 0.1 and x.min() >= 0.15 - 1e-6 and x.max() <= 0.95 + 1e-6
        assert (x > 0.6).mean() > 0.05                                           # bright edges


def test_bars_are_tilted_and_wires_run_along_x():
    """Orientation from the image gradients: bars have edges off the axes, wires mostly horizontal edges."""
    def off_axis_share(x):
        gy, gx = np.gradient(x.astype(np.float64))
        strong = np.hypot(gx, gy) > 0.05
        angle = np.degrees(np.arctan2(gy[strong], gx[strong])) % 90
        return float(((angle > 10) & (angle < 80)).mean())

    bars, wires = heldout_set("bars", 4, 128), heldout_set("wires", 4, 128)
    assert min(off_axis_share(x) for x in bars) > 0.3
    assert max(off_axis_share(x) for x in wires) < 0.2
    gy, gx = np.gradient(wires[0].astype(np.float64))
    assert np.abs(gy).sum() > 1.5 * np.abs(gx).sum()                             # long horizontal edges


def test_bad_kind_or_size():
    with pytest.raises(DataError, match="bars, wires"):
        heldout_scene("lines")
    with pytest.raises(DataError, match="size >= 32"):
        heldout_scene("bars", size=16)
