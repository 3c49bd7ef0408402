"""LSWMD pickles: the Python 2 / pandas 0.19 layout read through the allowlist, trusted pickles, refusals."""
import io
import os
import pickle
import pickletools

import numpy as np
import pytest

from deepfab.data import DataError, WaferSet, convert_lswmd, read_lswmd, read_wafer_npz
from deepfab.data.legacy_pickle import UntrustedPickle, read_legacy_frame, write_legacy_frame

# where pandas 3 keeps what pandas 0.19 pickled: an unrestricted oracle that builds a real DataFrame
MOVED = {("pandas.indexes.base", "_new_Index"): ("pandas.core.indexes.base", "_new_Index"),
         ("pandas.indexes.base", "Index"): ("pandas.core.indexes.base", "Index"),
         ("pandas.indexes.numeric", "Int64Index"): ("pandas.core.indexes.base", "Index"),
         ("pandas.core.internals", "BlockManager"): ("pandas.core.internals.managers", "BlockManager"),
         ("numpy.core.multiarray", "_reconstruct"): ("numpy._core.multiarray", "_reconstruct"),
         ("__builtin__", "slice"): ("builtins", "slice")}


class _RenamingUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        return super().find_class(*MOVED.get((module, name), (module, name)))


def _label(name):
    return np.array([[name]], dtype=object) if name else np.zeros((0, 0))  # LSWMD: [['none']] or (0, 0)


def _columns(n=9, seed=0):
    """LSWMD-like columns: lots out of order, [['...']] and empty labels, maps of several shapes."""
    rng = np.random.default_rng(seed)
    types = ["Center", "none", None, "Scratch", None, "Edge-Ring", "none", None, "Near-full"]
    lots = [12, 3, 12, 3, 7, 3, 7, 12, 7]
    index = [2, 5, 1, 1, 3, 2, 1, 3, 2]
    maps = []
    for i in range(n):
        m = rng.integers(1, 3, size=(20 + lots[i], 22 + i)).astype(np.uint8)
        m[0, :3] = 0
        maps.append(m)
    return dict(waferMap=maps, dieSize=np.array([m.size for m in maps], dtype=np.float64),
                lotName=[f"lot{k}" for k in lots[:n]], waferIndex=np.array(index[:n], dtype=np.float64),
                trianTestLabel=[_label("Training" if t else None) for t in types[:n]],
                failureType=[_label(t) for t in types[:n]])


def _same(a: WaferSet, b: WaferSet):
    assert len(a) == len(b) and a.label_names == b.label_names
    assert all(x.shape == y.shape and x.dtype == y.dtype == np.uint8 and np.array_equal(x, y)
               for x, y in zip(a.maps, b.maps))
    assert np.array_equal(a.labels, b.labels) and np.array_equal(a.source_index, b.source_index)


def test_fixture_is_the_python2_pandas019_layout(tmp_path):
    src = write_legacy_frame(tmp_path / "LSWMD.pkl", _columns())
    data = src.read_bytes()
    ops = list(pickletools.genops(data))
    pickletools.dis(data, io.StringIO())  # a well-formed stream: marks, memo and stack all balance
    assert ops[0][0].name == "PROTO" and ops[0][1] == 2
    names = {tuple(arg.split(" ")) for op, arg, _ in ops if op.name == "GLOBAL"}
    legacy = set(MOVED) - {("__builtin__", "slice")} | {("pandas.core.frame", "DataFrame"), ("numpy", "ndarray"),
                                                         ("numpy", "dtype")}
    assert names == legacy  # mgr_locs here are int64 arrays (float block [1, 3]; object block [0, 2, 4, 5])
    strings = {op.name for op, arg, _ in ops if isinstance(arg, str | bytes) and op.name != "GLOBAL"}
    assert strings <= {"SHORT_BINSTRING", "BINSTRING"}  # Python 2 byte strings, never unicode
    # pandas itself, with the moved names, reads the stream as the frame it was written from
    df = _RenamingUnpickler(io.BytesIO(data), encoding="latin1").load()
    cols = _columns()
    assert list(df.columns) == list(cols) and df.index.tolist() == list(range(9))
    assert all(np.array_equal(a, b) for a, b in zip(df["waferMap"], cols["waferMap"]))
    assert df["failureType"][1].tolist() == [["none"]] and df["failureType"][2].shape == (0, 0)
    assert df["lotName"].tolist() == cols["lotName"] and np.array_equal(df["dieSize"], cols["dieSize"])


def test_legacy_lswmd_converts_without_trust_like_the_trusted_path(tmp_path):
    cols = _columns()
    src = write_legacy_frame(tmp_path / "LSWMD.pkl", cols)
    ws = read_lswmd(src)
    # (lot, wafer index): lot3 1,2,5; lot7 1,2,3; lot12 1,2,3
    expect = [3, 5, 1, 6, 8, 4, 2, 0, 7]
    assert [ws.label_names[y] if y >= 0 else None for y in ws.labels] == \
        [cols["failureType"][i].ravel()[0] if cols["failureType"][i].size else None for i in expect]
    assert all(np.array_equal(m, cols["waferMap"][i]) for m, i in zip(ws.maps, expect))
    assert ws.source_index.tolist() == list(range(9))
    # the trusted path on a modern pickle of the same frame gives the same WaferSet
    modern = tmp_path / "modern.pkl"
    _RenamingUnpickler(io.BytesIO(src.read_bytes()), encoding="latin1").load().to_pickle(modern)
    _same(ws, read_lswmd(modern, trust_pickle=True))
    out = tmp_path / "lswmd.npz"
    assert len(convert_lswmd(src, out)) == 9
    _same(read_wafer_npz(out), ws)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["LSWMD.pkl", "lswmd.npz", "modern.pkl"]  # no temp left


def test_block_placement_as_slice_and_columns_in_any_order(tmp_path):
    cols = _columns()
    first = {k: cols[k] for k in ("dieSize", "waferIndex", "waferMap", "lotName", "failureType")}
    frame = read_legacy_frame(write_legacy_frame(tmp_path / "a.pkl", first))  # both blocks are runs: slices
    assert b"c__builtin__\nslice\n" in (tmp_path / "a.pkl").read_bytes()
    assert list(frame) == ["dieSize", "waferIndex", "waferMap", "lotName", "failureType"]
    _same(read_lswmd(tmp_path / "a.pkl"), read_lswmd(write_legacy_frame(tmp_path / "b.pkl", cols)))


class _RunsShell:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_code_in_a_pickle_is_refused_without_running(tmp_path):
    marker = tmp_path / "ran"
    src = tmp_path / "evil.pkl"
    src.write_bytes(pickle.dumps(_RunsShell(marker), protocol=2))
    with pytest.raises(UntrustedPickle) as err:
        read_lswmd(src)
    msg = str(err.value)
    assert f"global {os.system.__module__}.system" in msg and "--trust-pickle" in msg and "\n" not in msg
    # the same call inside an LSWMD-looking stream: refused when its name is read, before the REDUCE
    legacy = write_legacy_frame(tmp_path / "LSWMD.pkl", _columns(n=2)).read_bytes()
    evil = pickle.dumps(_RunsShell(marker), protocol=2)[2:-1]  # without PROTO and STOP
    (tmp_path / "mixed.pkl").write_bytes(legacy[:-1] + evil + b"0.")  # the frame, then the call, POP it
    with pytest.raises(UntrustedPickle, match="system"):
        read_lswmd(tmp_path / "mixed.pkl")
    with pytest.raises(DataError, match="--trust-pickle"):
        convert_lswmd(src, tmp_path / "x.npz")
    assert not marker.exists() and not (tmp_path / "x.npz").exists()


def test_broken_legacy_pickles_are_one_line_data_errors(tmp_path):
    data = write_legacy_frame(tmp_path / "LSWMD.pkl", _columns()).read_bytes()
    (tmp_path / "trunc.pkl").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="not a readable pickle") as err:
        read_lswmd(tmp_path / "trunc.pkl")
    assert "trunc.pkl" in str(err.value) and "\n" not in str(err.value)
    (tmp_path / "old.pkl").write_bytes(data.replace(b"U\x060.14.1", b"U\x060.13.1"))
    with pytest.raises(DataError, match="not the pandas 0.14.1 layout"):
        read_lswmd(tmp_path / "old.pkl")
    with pytest.raises(DataError, match="missing column"):
        read_lswmd(write_legacy_frame(tmp_path / "few.pkl", {"waferMap": _columns()["waferMap"]}))
    (tmp_path / "empty.pkl").write_bytes(b"")
    with pytest.raises(DataError, match="empty file"):
        read_lswmd(tmp_path / "empty.pkl")


def _lswmd_pickle(path):
    import pandas as pd

    rng = np.random.default_rng(0)
    rows = []
    for lot, idx, ft in [(12, 2, [["Center"]]), (3, 5, [["none"]]), (12, 1, []), (3, 1, [["Scratch"]])]:
        m = rng.integers(1, 3, size=(20 + lot, 22)).astype(np.uint8)
        m[0, 0] = 0
        rows.append(dict(waferMap=m, dieSize=440.0, lotName=f"lot{lot}", waferIndex=float(idx),
                         trianTestLabel=np.array([["Training"]]) if ft else np.array([]),
                         failureType=np.array(ft, dtype=object) if ft else np.array([])))
    df = pd.DataFrame(rows)
    df.to_pickle(path)
    return df


def test_lswmd_needs_trust_then_reads_and_converts(tmp_path):
    src = tmp_path / "LSWMD.pkl"
    df = _lswmd_pickle(src)  # a pandas 3 pickle: not the legacy layout, so only with trust
    with pytest.raises(DataError, match="arbitrary code"):
        read_lswmd(src)
    ws = read_lswmd(src, trust_pickle=True)
    # sorted by (lot, wafer index): lot3/1 Scratch, lot3/5 none, lot12/1 unlabelled, lot12/2 Center
    assert [ws.label_names[y] if y >= 0 else None for y in ws.labels] == ["Scratch", "none", None, "Center"]
    assert np.array_equal(ws.maps[3], df.waferMap[0]) and np.all(np.diff(ws.source_index) > 0)
    out = tmp_path / "my.npz"
    convert_lswmd(src, out, trust_pickle=True, labelled_only=True)
    back = read_wafer_npz(out)
    assert len(back) == 3 and np.array_equal(back.maps[2], df.waferMap[0])
    (tmp_path / "junk.pkl").write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(DataError, match="expected a pandas DataFrame"):
        read_lswmd(tmp_path / "junk.pkl", trust_pickle=True)
