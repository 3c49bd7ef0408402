"""The figure primitives every lecture and tool composes: each draws onto a matplotlib ``ax`` it is given.

Nothing here computes a result, and nothing outside drawing code plots: models, training and
metrics return numbers, a figure function in a topic module (``deepfab.augment.plots``,
``deepfab.explain.plots``, ...) lays out axes and calls these.

    fig, axes = image_axes(2, ncols=2)
    draw_wafer(axes[0], raw_map, "Scratch")           # a raw map (H, W) of 0 no die, 1 pass, 2 fail
    draw_wafer(axes[1], encoded[0], "encoded")        # or an encoded map (C, S, S) from encode_maps
    fig, ax = plt.subplots(); draw_confusion(ax, cm, names)
    draw_curves(ax, {"train": (epochs, loss)}, xlabel="epoch", ylabel="loss")

One palette for wafer maps everywhere: white off the wafer, pale blue passing dies, red failing
dies; soft values (mixup, noise, pooled encodings) blend between them.

References: J. D. Hunter, "Matplotlib: a 2D graphics environment", CiSE 9(3), 2007.
"""
from __future__ import annotations

import numpy as np

OFF = np.array([1.0, 1.0, 1.0])
PASS = np.array([0.61, 0.74, 0.85])
FAIL = np.array([0.75, 0.15, 0.13])
WAFER_LEGEND = "white: no die, blue: pass, red: fail"


def _numpy(x) -> np.ndarray:
    return np.asarray(x.detach().cpu() if hasattr(x, "detach") else x, dtype=float)


def wafer_rgb(x) -> np.ndarray:
    """A wafer map as an (H, W, 3) RGB image.

    ``x`` is a raw map (H, W) with 0 no die, 1 pass, 2 fail, or an encoded map (C, S, S) whose
    channel 0 is the wafer area and channel 1 the fail dies (``deepfab.data.encode_maps``; a
    third, fail-fraction channel is not drawn). Soft encoded values blend the colours.
    """
    x = _numpy(x)
    if x.ndim == 2:
        wafer, fail = (x > 0).astype(float), (x == 2).astype(float)
    elif x.ndim == 3 and x.shape[0] in (2, 3):
        wafer, fail = np.clip(x[0], 0, 1), np.clip(x[1], 0, 1)
    else:
        raise ValueError(f"a wafer map is (H, W) with values 0/1/2 or encoded (2 or 3, S, S); got shape {x.shape}")
    fail = np.minimum(fail, wafer)[..., None]
    wafer = wafer[..., None]
    share = fail / np.maximum(wafer, 1e-9)            # fraction of the wafer's dies that fail
    return (1 - wafer) * OFF + wafer * ((1 - share) * PASS + share * FAIL)


def _bare(ax, title: str | None = None, fontsize: float = 8) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    if title is not None:
        ax.set_title(title, fontsize=fontsize)


def draw_wafer(ax, x, title: str | None = None, fontsize: float = 8) -> None:
    """One wafer map (raw or encoded, see ``wafer_rgb``) without ticks."""
    ax.imshow(wafer_rgb(x), interpolation="nearest")
    _bare(ax, title, fontsize)


def draw_image(ax, image, title: str | None = None, cmap: str = "viridis", vmin=None, vmax=None,
               fontsize: float = 8):
    """One (H, W) array (or (H, W, 3) RGB) without ticks; returns the image for a colour bar."""
    im = ax.imshow(_numpy(image), cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    _bare(ax, title, fontsize)
    return im


def image_axes(n: int, ncols: int = 6, size: float = 1.6, title_space: float = 0.3):
    """A figure with ``n`` tick-less panels in rows of ``ncols`` (unused panels hidden): (fig, axes[:n])."""
    import matplotlib.pyplot as plt

    if n < 1:
        raise ValueError(f"image_axes needs at least one panel; got {n}")
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + title_space), squeeze=False)
    for ax in axes.flat[n:]:
        ax.axis("off")
    for ax in axes.flat[:n]:
        _bare(ax)
    return fig, list(axes.flat[:n])


def draw_confusion(ax, confusion, label_names, title: str = "", fontsize: float = 7,
                   colorbar: bool = False) -> None:
    """Row-normalised confusion matrix (recall on the diagonal), the count written in each non-empty cell.

    ``colorbar=True`` adds a colour bar labelled with what the colour is (the share of the true
    class), since the numbers in the cells are counts, not the coloured quantity."""
    cm = np.asarray(confusion, dtype=float)
    rows = cm.sum(axis=1, keepdims=True)
    frac = np.divide(cm, rows, out=np.zeros_like(cm), where=rows > 0)
    image = ax.imshow(frac, cmap="Blues", vmin=0, vmax=1)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04,
                           label="share of the true class (row)\ncell numbers: map counts")
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            if cm[i, j]:
                ax.text(j, i, int(cm[i, j]), ha="center", va="center", fontsize=fontsize,
                        color="white" if frac[i, j] > 0.6 else "black")
    ax.set_xticks(range(len(label_names)), label_names, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(label_names)), label_names, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title or "confusion (colour: share of the true class; numbers: counts)")


def draw_curves(ax, curves: dict, xlabel: str = "epoch", ylabel: str = "", title: str | None = None,
                logy: bool = False, marker: str | None = "o", integer_x: bool = False) -> None:
    """``curves``: name -> (x, y); one line each, with a legend when there is more than one."""
    from matplotlib.ticker import MaxNLocator

    for name, (x, y) in curves.items():
        ax.plot(x, y, marker=marker, ms=3, label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    if integer_x:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if title is not None:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    if len(curves) > 1:
        ax.legend(fontsize=7)


def history_curves(histories: dict, key: str) -> dict:
    """name -> per-epoch records from ``deepfab.train.fit`` as the name -> (epochs, values) of ``draw_curves``."""
    return {name: ([h["epoch"] for h in hist], [h[key] for h in hist]) for name, hist in histories.items()}


def draw_filters(axes, weight, channel_names=("wafer", "fail")) -> None:
    """First-layer kernels ``weight`` (out, in, k, k) on a grid of axes (in rows x out columns):
    one row per input channel, each row on its own symmetric scale (red positive, blue negative)."""
    w = _numpy(weight)
    axes = np.atleast_2d(axes)
    for c in range(min(w.shape[1], axes.shape[0])):
        lim = np.abs(w[:, c]).max() or 1.0
        for f in range(min(w.shape[0], axes.shape[1])):
            ax = axes[c, f]
            ax.imshow(w[f, c], cmap="RdBu_r", vmin=-lim, vmax=lim)
            _bare(ax)
            if f == 0:
                ax.set_ylabel(channel_names[c] if c < len(channel_names) else f"ch {c}", fontsize=8)


def draw_bars(ax, values: dict, errors: dict | None = None, ylabel: str = "", title: str | None = None,
              horizontal: bool = False) -> None:
    """name -> value as bars, with optional name -> (low, high) interval whiskers."""
    names = list(values)
    v = np.array([values[k] for k in names], dtype=float)
    err = None
    if errors:
        lo = np.array([errors[k][0] for k in names], dtype=float)
        hi = np.array([errors[k][1] for k in names], dtype=float)
        err = np.vstack([v - lo, hi - v])
    pos = np.arange(len(names))
    if horizontal:
        ax.barh(pos, v, xerr=err, color="#4c72b0", capsize=3)
        ax.set_yticks(pos, names, fontsize=8)
        ax.set_xlabel(ylabel)
    else:
        ax.bar(pos, v, yerr=err, color="#4c72b0", capsize=3)
        ax.set_xticks(pos, names, rotation=45, ha="right", fontsize=8)
        ax.set_ylabel(ylabel)
    if title is not None:
        ax.set_title(title)
    ax.grid(alpha=0.3, axis="x" if horizontal else "y")


def draw_grouped_bars(ax, values: dict, ylabel: str = "", title: str | None = None, ylim=(0, 1.05)) -> None:
    """series -> {group: value} as grouped bars: the groups (of the first series, in its order) on the
    x axis, one bar per series in each group (a group a series lacks is left empty)."""
    series = list(values)
    groups = list(values[series[0]])
    width = 0.8 / len(series)
    pos = np.arange(len(groups))
    for k, name in enumerate(series):
        ax.bar(pos + (k - (len(series) - 1) / 2) * width, [values[name].get(g, np.nan) for g in groups], width,
               label=name)
    ax.set_xticks(pos, groups, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(ylabel)
    if ylim is not None:
        ax.set_ylim(*ylim)
    if title is not None:
        ax.set_title(title, fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
