"""The pandas 0.19 / Python 2 DataFrame pickle of ``LSWMD.pkl``, read without running its code.

The Kaggle/MIR ``LSWMD.pkl`` (the wafer maps behind WM-811K, lecture 1's data) was written by
Python 2 with pandas 0.19 at pickle protocol 2. Its globals name modules that pandas has since
moved (``pandas.indexes.base``, ``pandas.indexes.numeric.Int64Index``), so pandas 3 cannot read
it, and any pickle may name ``os.system``. ``read_legacy_frame`` unpickles it with an allowlist:
numpy's array and dtype reconstructors (``numpy.core.multiarray`` is today's
``numpy._core.multiarray``), ``slice``, and the four pandas names, which map to inert stand-ins
that only keep their arrays, so no pandas code runs. Any other global is refused when its name
is read, before it can be called (``UntrustedPickle``, one line naming it). Python 2 byte strings
are decoded as latin-1 (numpy turns array bytes back into raw data).

    columns = read_legacy_frame("LSWMD.pkl")   # {"waferMap": (N,) object array of 2-D uint8, ...}
    write_legacy_frame("tiny.pkl", columns)    # the same layout, written opcode by opcode

The stored layout (``pickletools.dis`` shows it):

    DataFrame  NEWOBJ, state {'_data': BlockManager, '_typ': 'dataframe', '_metadata': []}
    BlockManager  NEWOBJ, state (axes, block values, block items,
                                 {'0.14.1': {'axes': [columns, rows], 'blocks': [{'values', 'mgr_locs'}]}})
    Index / Int64Index  _new_Index(cls, {'data': ndarray, 'name': None})
    block values  (n_items, n_rows) ndarray; mgr_locs: which columns, an int64 array or a slice
    ndarray  _reconstruct(ndarray, (0,), 'b') + state (1, shape, dtype, is_fortran, raw bytes | list)
    dtype  dtype('u1', 0, 1) + state (3, byte order, None, None, None, -1, -1, flags)

``write_legacy_frame`` emits that stream the way Python 2's pickler did (a memo entry for every
object, shared objects fetched from the memo), so tests and ``benchmarks/bench_lswmd.py`` can
check the reader without Python 2.

References: Python ``pickle`` protocol 2 (PEP 307) and ``pickletools``; "Restricting Globals" in
the ``pickle`` documentation; pandas 0.19 ``BlockManager.__getstate__`` and ``Index.__reduce__``.
"""
from __future__ import annotations

import itertools
import pickle
import struct
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from ..errors import DataError

_RECONSTRUCT = np.zeros(0).__reduce__()[0]  # the function numpy itself pickles arrays with


class UntrustedPickle(DataError):
    """The pickle names a global outside the allowlist; only ``--trust-pickle`` may load it."""


class _Refused(Exception):
    pass


class _BadLayout(Exception):
    pass


class _Frame:
    """Stand-in for ``pandas.core.frame.DataFrame``: keeps its block manager."""

    def __setstate__(self, state):
        if not isinstance(state, dict) or not isinstance(state.get("_data"), _BlockManager):
            raise _BadLayout("DataFrame state has no block manager")
        self.mgr = state["_data"]


class _BlockManager:
    """Stand-in for ``pandas.core.internals.BlockManager``: keeps axes and (values, mgr_locs) blocks."""

    def __setstate__(self, state):
        try:
            layout = state[3]["0.14.1"]
            self.axes = list(layout["axes"])
            self.blocks = [(b["values"], b["mgr_locs"]) for b in layout["blocks"]]
        except (TypeError, IndexError, KeyError):
            raise _BadLayout("BlockManager state is not the pandas 0.14.1 layout") from None


class _Index:
    """Stand-in for ``Index`` and ``Int64Index``: ``_new_Index`` returns the label array itself."""


def _new_index(cls, d):
    if cls is not _Index or not isinstance(d, dict) or not isinstance(d.get("data"), np.ndarray):
        raise _BadLayout("_new_Index expects (Index, {'data': ndarray, ...})")
    return d["data"]


_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("__builtin__", "slice"): slice,
    ("pandas.core.frame", "DataFrame"): _Frame,
    ("pandas.core.internals", "BlockManager"): _BlockManager,
    ("pandas.indexes.base", "_new_Index"): _new_index,
    ("pandas.indexes.base", "Index"): _Index,
    ("pandas.indexes.numeric", "Int64Index"): _Index,
}


class _AllowlistUnpickler(pickle.Unpickler):
    def find_class(self, module, name):  # called for GLOBAL/STACK_GLOBAL/EXT, before anything is called
        if (module, name) not in _ALLOWED:
            raise _Refused(f"{module}.{name}")
        return _ALLOWED[(module, name)]


def _columns(top) -> dict[str, np.ndarray]:
    """The frame's columns in stored row order: name -> (n_rows,) array (object for mixed cells)."""
    if not isinstance(top, _Frame) or not hasattr(top, "mgr"):
        raise _BadLayout(f"expected a pandas DataFrame; got {type(top).__name__}")
    axes = top.mgr.axes
    if len(axes) != 2 or not all(isinstance(a, np.ndarray) and a.ndim == 1 for a in axes):
        raise _BadLayout("a DataFrame needs two 1-D axes (columns, rows)")
    items, rows = axes
    columns = {}
    for values, locs in top.mgr.blocks:
        try:
            where = np.arange(len(items))[locs]  # mgr_locs: int64 array or slice of column positions
        except (IndexError, TypeError, ValueError):
            raise _BadLayout(f"block placement {locs!r} does not index {len(items)} columns") from None
        if not isinstance(values, np.ndarray) or values.shape != (len(where), len(rows)):
            shape = getattr(values, "shape", type(values).__name__)
            raise _BadLayout(f"a block of {len(where)} column(s) x {len(rows)} rows holds {shape}")
        for k, j in enumerate(where):
            columns[str(items[j])] = values[k]
    return columns


def read_legacy_frame(path: str | Path) -> dict[str, np.ndarray]:
    """Columns of a pandas 0.19 DataFrame pickle, loaded through the allowlist (``UntrustedPickle`` otherwise)."""
    path = Path(path)
    with open(path, "rb", buffering=1 << 20) as f:
        try:
            top = _AllowlistUnpickler(f, encoding="latin1").load()
            return _columns(top)
        except _Refused as exc:
            raise UntrustedPickle(
                f"{path}: refusing to load global {exc}: a pickle can run arbitrary code when loaded, and only "
                "the numpy/pandas reconstructors of the LSWMD layout are allowed. If you trust where this file "
                "came from, pass trust_pickle=True (CLI: --trust-pickle)") from None
        except _BadLayout as exc:
            raise DataError(f"{path}: not the pandas DataFrame layout of LSWMD.pkl: {exc}") from None
        except Exception as exc:  # UnpicklingError, EOFError, and numpy's errors on malformed array state
            raise DataError(f"{path}: not a readable pickle ({type(exc).__name__}: {exc})") from None


class _Emit:
    """A value the pickler writes by calling ``fn`` (lazy arrays, keyed lists, nested reduces)."""

    def __init__(self, fn):
        self.fn = fn


class _Ref:
    """A value written before under ``key``: fetched from the memo, as Python 2 did for shared objects."""

    def __init__(self, key):
        self.key = key


class _Py2Pickler:
    """Protocol-2 opcodes as Python 2's pickler wrote them: every object memoized, shared ones fetched."""

    def __init__(self, f):
        self.f, self.n_memo, self.refs = f, 0, {}
        f.write(b"\x80\x02")  # PROTO 2

    def put(self, key=None):
        i = self.n_memo
        self.n_memo += 1
        self.f.write(b"q" + bytes([i]) if i < 256 else b"r" + struct.pack("<I", i))  # BINPUT / LONG_BINPUT
        if key is not None:
            self.refs[key] = i

    def get(self, key) -> bool:
        if key not in self.refs:
            return False
        i = self.refs[key]
        self.f.write(b"h" + bytes([i]) if i < 256 else b"j" + struct.pack("<I", i))  # BINGET / LONG_BINGET
        return True

    def global_(self, module: str, name: str):
        if not self.get((module, name)):
            self.f.write(f"c{module}\n{name}\n".encode("ascii"))
            self.put((module, name))

    def save(self, obj, key=None):
        """None, bool, int, float, str (a Python 2 byte string), bytes, tuple, list, dict, ndarray, slice."""
        w = self.f.write
        if key is not None and self.get(key):
            return
        if isinstance(obj, _Emit):
            obj.fn()
        elif isinstance(obj, _Ref):
            self.get(obj.key)
        elif obj is None:
            w(b"N")
        elif isinstance(obj, bool):
            w(b"\x88" if obj else b"\x89")
        elif isinstance(obj, int | np.integer):
            v = int(obj)
            w(b"K" + bytes([v]) if 0 <= v < 256 else b"M" + struct.pack("<H", v) if 0 <= v < 65536
              else b"J" + struct.pack("<i", v))
        elif isinstance(obj, float):
            w(b"G" + struct.pack(">d", obj))
        elif isinstance(obj, str | bytes):
            raw = obj.encode("latin-1") if isinstance(obj, str) else obj
            w((b"U" + bytes([len(raw)]) if len(raw) < 256 else b"T" + struct.pack("<i", len(raw))) + raw)
            if len(raw) > 1:  # cPickle left strings of 0 or 1 characters out of the memo
                self.put(key)
        elif isinstance(obj, tuple):
            self.tuple_(obj, key)
        elif isinstance(obj, list):
            self.list_(obj, key)
        elif isinstance(obj, dict):
            w(b"}")
            self.put(key)
            self.batches(list(obj.items()), b"s", b"u")
        elif isinstance(obj, np.ndarray):
            self.array(obj.shape, obj.dtype, obj.tobytes() if obj.dtype != object else list(obj.ravel()), key)
        elif isinstance(obj, slice):
            self.reduce("__builtin__", "slice", (obj.start, obj.stop, obj.step), key)
        else:
            raise TypeError(f"cannot write {type(obj).__name__} in the legacy layout")

    def tuple_(self, items: tuple, key=None):
        if not items:
            self.f.write(b")")  # EMPTY_TUPLE, never memoized
            return
        if len(items) > 3:
            self.f.write(b"(")
        for x in items:
            self.save(x)
        self.f.write({1: b"\x85", 2: b"\x86", 3: b"\x87"}.get(len(items), b"t"))  # TUPLE1/2/3, TUPLE
        self.put(key)

    def list_(self, items: Iterable, key=None):
        self.f.write(b"]")
        self.put(key)
        self.batches(items, b"a", b"e")

    def batches(self, items: Iterable, one: bytes, many: bytes):
        """APPEND/APPENDS or SETITEM/SETITEMS in batches of 1000, as Python 2 did; dict items are pairs."""
        it = iter(items)
        while batch := list(itertools.islice(it, 1000)):
            if len(batch) > 1:
                self.f.write(b"(")
            for x in batch:
                for part in (x if one == b"s" else (x,)):
                    self.save(part)
            self.f.write(many if len(batch) > 1 else one)

    def reduce(self, module: str, name: str, args: tuple, key=None):
        self.global_(module, name)
        self.save(args)
        self.f.write(b"R")
        self.put(key)

    def newobj(self, module: str, name: str, state):
        self.global_(module, name)
        self.f.write(b")\x81")  # EMPTY_TUPLE, NEWOBJ
        self.put()
        self.save(state)
        self.f.write(b"b")  # BUILD: __setstate__(state)

    def dtype(self, dt: np.dtype):
        if self.get(("dtype", dt.str)):
            return
        obj = dt.kind == "O"
        self.reduce("numpy", "dtype", ("O8" if obj else dt.str[1:], 0, 1), ("dtype", dt.str))
        self.save((3, "|" if obj or dt.itemsize == 1 else "<", None, None, None, -1, -1, 63 if obj else 0))
        self.f.write(b"b")

    def array(self, shape: tuple, dtype: np.dtype, data: bytes | Iterable, key=None):
        """An ndarray: raw bytes, or for object arrays the items in C order (any iterable)."""
        self.global_("numpy.core.multiarray", "_reconstruct")
        self.global_("numpy", "ndarray")
        self.save((0,))
        self.save("b")
        self.f.write(b"\x87R")
        self.put(key)
        self.save((1, tuple(shape), _Emit(lambda: self.dtype(dtype)), False,
                   data if isinstance(data, bytes) else _Emit(lambda: self.list_(data))))
        self.f.write(b"b")

    def index(self, cls: str, labels: np.ndarray):
        module = "pandas.indexes.numeric" if cls == "Int64Index" else "pandas.indexes.base"
        self.reduce("pandas.indexes.base", "_new_Index",
                    (_Emit(lambda: self.global_(module, cls)), {"data": labels, "name": None}))


def _placement(positions: list[int]) -> slice | np.ndarray:
    """A block's mgr_locs as pandas kept them: a slice for a run of columns, else int64 positions."""
    if positions == list(range(positions[0], positions[-1] + 1)):
        return slice(positions[0], positions[-1] + 1, 1)
    return np.array(positions, dtype=np.int64)


def write_legacy_frame(path: str | Path, columns: dict[str, Sequence]) -> Path:
    """Write ``columns`` as pandas 0.19 under Python 2 pickled a DataFrame with an Int64Index.

    A float64 ndarray column goes to the float block, anything else to the object block (cells:
    ndarrays, str, numbers), in the order 0.19 consolidated them: floats first. Object columns
    may be lazy sequences (``len`` and iteration), so a large file streams to disk.
    """
    path = Path(path)
    names = list(columns)
    n = len(columns[names[0]])
    floats = [c for c in names if isinstance(columns[c], np.ndarray) and columns[c].dtype == np.float64]
    blocks = [cols for cols in (floats, [c for c in names if c not in floats]) if cols]
    with open(path, "wb", buffering=1 << 20) as f:
        p = _Py2Pickler(f)

        def values(b, cols):  # (n_items, n_rows); the object block streams its cells column by column
            if cols is floats:
                return _Emit(lambda: p.save(np.stack([columns[c] for c in cols]), key=("block", b)))
            cells = itertools.chain.from_iterable(columns[c] for c in cols)
            return _Emit(lambda: p.array((len(cols), n), np.dtype(object), cells, key=("block", b)))

        def index(cls, labels):
            return _Emit(lambda: p.index(cls, labels))

        axes = [index("Index", np.array(names, dtype=object)), index("Int64Index", np.arange(n, dtype=np.int64))]
        locs = [_placement([names.index(c) for c in cols]) for cols in blocks]
        state = (_Emit(lambda: p.list_(axes, key="axes")),
                 [values(b, cols) for b, cols in enumerate(blocks)],
                 [index("Index", np.array(cols, dtype=object)) for cols in blocks],
                 {"0.14.1": {"axes": _Ref("axes"), "blocks": [{"values": _Ref(("block", b)), "mgr_locs": locs[b]}
                                                              for b in range(len(blocks))]}})
        manager = _Emit(lambda: p.newobj("pandas.core.internals", "BlockManager", state))
        p.newobj("pandas.core.frame", "DataFrame", {"_metadata": [], "_typ": "dataframe", "_data": manager})
        f.write(b".")  # STOP
    return path
