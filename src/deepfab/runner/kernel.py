"""Execute a notebook in a fresh kernel of *this* Python, one progress line per code cell.

``deepfab run`` (every lecture) uses ``execute_notebook``. The kernel is started from
``sys.executable`` (the interpreter running deepfab, so the same virtual environment and the same
installed deepfab), never from a kernelspec found on the machine. While it runs, each cell's
output is streamed to the terminal as it arrives, and a line per finished cell says where the run
is, e.g. ``[L00 12/48] 3.2s  model = MLP(...)``.

References:
    nbclient, https://nbclient.readthedocs.io/ ; jupyter_client kernel specs.
"""
from __future__ import annotations

import re
import sys
import time
from dataclasses import dataclass, field

from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class _ThisPythonKernelSpecs(KernelSpecManager):
    """Every kernel name resolves to ipykernel running under ``sys.executable``."""

    def get_kernel_spec(self, kernel_name):
        return KernelSpec(argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                          display_name=f"Python {sys.version_info.major}.{sys.version_info.minor} (deepfab)",
                          language="python", resource_dir="")


class ThisPythonKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels always run this interpreter (nbclient owns and stops it)."""

    def __init__(self, **kw):
        kw.setdefault("kernel_spec_manager", _ThisPythonKernelSpecs())
        super().__init__(**kw)


def first_line(source: str) -> str:
    """The first non-blank line of a cell, stripped and cut to 70 characters."""
    for line in source.splitlines():
        if line.strip():
            line = line.strip()
            return line if len(line) <= 70 else line[:67] + "..."
    return ""


@dataclass
class CellRecord:
    index: int           # position in the notebook (markdown cells count)
    number: int          # 1-based among code cells, as the progress line shows it
    first_line: str
    seconds: float = 0.0
    status: str = "pending"


@dataclass
class Execution:
    """What happened: per-cell records, and the failure (if any) as ``error``."""

    cells: list = field(default_factory=list)
    error: dict | None = None
    status: str = "ok"


class _ProgressClient(NotebookClient):
    """A NotebookClient that echoes stream output and prints a line as each code cell finishes."""

    def __init__(self, nb, label: str, records: dict, echo: bool = True, **kw):
        super().__init__(nb, **kw)
        self._label, self._records, self._echo = label, records, echo
        self._t0 = 0.0
        self.on_cell_execute = self._started
        self.on_cell_executed = self._finished

    def _started(self, cell, cell_index):
        self._t0 = time.perf_counter()
        self._records[cell_index].status = "running"

    def _finished(self, cell, cell_index, execute_reply):
        rec = self._records[cell_index]
        rec.seconds = time.perf_counter() - self._t0
        rec.status = "ok" if execute_reply["content"].get("status") == "ok" else "error"
        if self._echo:
            total = sum(1 for r in self._records.values())
            print(f"[{self._label} {rec.number}/{total}] {rec.seconds:.1f}s  {rec.first_line}", flush=True)

    def output(self, outs, msg, display_id, cell_index):
        if self._echo and msg["msg_type"] == "stream":
            stream = sys.stderr if msg["content"].get("name") == "stderr" else sys.stdout
            stream.write(msg["content"].get("text", ""))
            stream.flush()
        return super().output(outs, msg, display_id, cell_index)


def _error_of(cell) -> tuple[str, str]:
    """``(message, traceback)`` of a cell's error output, ANSI colours removed."""
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            tb = ANSI.sub("", "\n".join(out.get("traceback", [])))
            return f"{out.get('ename', 'Error')}: {out.get('evalue', '')}", tb
    return "", ""


def execute_notebook(nb, label: str, cwd: str, env: dict, timeout: int | None = None,
                     echo: bool = True) -> Execution:
    """Run every code cell of ``nb`` in place (outputs land in ``nb``); stop at the first error.

    ``env`` is the kernel's whole environment; ``cwd`` its working directory. Never raises for a
    failing cell, a timeout or a dead kernel: the failure is returned in ``Execution.error``.
    """
    code = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.strip()]
    records = {i: CellRecord(i, n + 1, first_line(c.source)) for n, (i, c) in enumerate(code)}
    result = Execution(cells=list(records.values()))
    client = _ProgressClient(nb, label, records, echo=echo, kernel_manager_class=ThisPythonKernelManager,
                             kernel_name="python3", timeout=timeout, startup_timeout=180,
                             allow_errors=False, record_timing=True, coalesce_streams=True,
                             shutdown_kernel="immediate", resources={"metadata": {"path": cwd}},
                             # the kernel's own log (transport notices) is noise in a lecture's output
                             extra_arguments=["--IPKernelApp.log_level=ERROR"])
    try:
        client.execute(env=env)
    except (Exception, KeyboardInterrupt) as exc:   # a cell error, a timeout, a dead kernel, Ctrl-C
        # nbclient's SIGINT/SIGTERM handler shuts the kernel down and raises something else
        interrupted = isinstance(exc, KeyboardInterrupt) or (
            getattr(client, "_async_cleanup_kernel_future", None) is not None)
        result.status = "interrupted" if interrupted else "failed"
        running = [r for r in records.values() if r.status in ("running", "error")]
        rec = running[0] if running else None
        if rec is not None:
            rec.status = "error"
            message, tb = _error_of(nb.cells[rec.index])
        else:
            message, tb = "", ""
        if interrupted:
            message = "interrupted"
        elif isinstance(exc, CellTimeoutError):
            message = f"timed out after {timeout} s (--timeout)"
        elif isinstance(exc, DeadKernelError):
            message = "the kernel died (out of memory, or a crash in native code)"
        elif not isinstance(exc, CellExecutionError):
            message = f"{type(exc).__name__}: {exc}"
        result.error = {"cell": f"{rec.number}/{len(records)}" if rec else "?",
                        "index": rec.index if rec else None,
                        "first_line": rec.first_line if rec else "",
                        "message": message or (str(exc).strip().splitlines() or [type(exc).__name__])[-1],
                        "traceback": tb}
    return result
