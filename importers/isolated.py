"""Reading an upload in a child process, so a native crash (an abort in the reader, memory exhausted)
ends the child and not the web worker that serves everyone.

``parse_file_isolated(content, **kwargs)`` takes the arguments of :func:`importers.pipeline.parse_file`
(``cells_isolated`` reads a flow-back list the same way),
runs it in ``python -m importers.isolated`` under an address-space and a CPU-time limit, relays its
progress, and returns its :class:`ParsedFile`, or a ParsedFile holding one Chinese file issue when the
child died. The child gets the file and the arguments through a private temporary file and hands the
result back the same way (pickle, written and read only by this module).
"""

from __future__ import annotations

import os
import pickle
import resource
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.issues import Issue, ValidationFailed
from app.procstat import peak_mb as _peak_mb
from importers.model import ParsedFile

#: Limits of the reading child: address space (MB) and CPU seconds; YBT_IMPORT_MEMORY_MB overrides.
MEMORY_MB = 2048
CPU_SECONDS = 900
#: The last reading child's own peak resident memory (VmHWM, MB), for bench/bench_import_memory.py.
LAST_CHILD_PEAK_MB = 0.0


def _memory_mb() -> int:
    try:
        return int(os.environ.get("YBT_IMPORT_MEMORY_MB", MEMORY_MB))
    except ValueError:
        return MEMORY_MB


def parse_file_isolated(content: bytes, *, file_name: str, on_progress: Callable[[int, int], None] | None = None,
                        memory_mb: int | None = None, **kwargs: Any) -> ParsedFile:
    from app.registry.loader import runtime_context

    limit = memory_mb or _memory_mb()
    ctx = runtime_context()  # the parent's tag types and code lists, for the child that has no app
    code, err, value = _run("parse", (content, file_name, kwargs, (ctx.tag_types, ctx.code_lists, ctx.observation_items)),
                            on_progress, limit)
    if code == 0 and isinstance(value, ParsedFile):
        return value
    return ParsedFile(file_name=file_name, sha256="", issues=[_crashed(file_name, code, err, limit)])


def cells_isolated(content: bytes, file_name: str, *, memory_mb: int | None = None) -> list[list[Any]]:
    """``importers.lists._cells`` in the child: the first sheet's rows, or ValidationFailed."""
    limit = memory_mb or _memory_mb()
    code, err, value = _run("cells", (content, file_name), None, limit)
    if code == 0 and isinstance(value, tuple) and value[0] == "issues":
        raise ValidationFailed(value[1])
    if code == 0 and isinstance(value, tuple) and value[0] == "rows":
        return value[1]
    raise ValidationFailed(_crashed(file_name, code, err, limit))


def _run(mode: str, payload: Any, on_progress: Callable[[int, int], None] | None, limit: int) -> tuple[int, str, Any]:
    """(exit code, the child's stderr, its pickled result or None)."""
    global LAST_CHILD_PEAK_MB
    with tempfile.TemporaryDirectory(prefix="ybt-read-") as tmp:
        job, result = Path(tmp) / "job.pickle", Path(tmp) / "result.pickle"
        job.write_bytes(pickle.dumps((mode, payload), protocol=pickle.HIGHEST_PROTOCOL))
        env = {**os.environ, "YBT_READER_MEMORY_MB": str(limit), "RUST_BACKTRACE": "0"}
        root = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
        with (Path(tmp) / "stderr").open("w+b") as errfile, subprocess.Popen(
                [sys.executable, "-m", "importers.isolated", str(job), str(result)],
                stdout=subprocess.PIPE, stderr=errfile, env=env, cwd=root) as proc:
            assert proc.stdout is not None
            for line in proc.stdout:  # progress: "done total" per line; "peak MB" at the end
                parts = line.split()
                if len(parts) == 2 and parts[0] == b"peak":
                    LAST_CHILD_PEAK_MB = float(parts[1])
                    continue
                if on_progress is not None and len(parts) == 2 and parts[0].isdigit() and parts[1].isdigit():
                    on_progress(int(parts[0]), int(parts[1]))
            code = proc.wait()
            errfile.seek(0)
            err = errfile.read(20000)
        value = None
        if code == 0 and result.exists():
            with result.open("rb") as fh:  # streamed: never the whole pickle and its objects at once
                value = _load(fh)
    return code, err.decode("utf-8", "replace"), value


def _crashed(file_name: str, code: int, err: str, limit: int) -> Issue:
    if "memory" in err.lower() or "MemoryError" in err:
        why = f"读取这个文件需要的内存超过了上限（{limit}MB）"
    elif code < 0:
        why = f"读取程序异常终止（信号{-code}）"
    else:
        why = f"读取程序异常退出（代码{code}）"
    return Issue("reader-crashed", f"{why}，文件可能是恶意构造的或已损坏，已停止读取；系统其他功能不受影响",
                 {"file": file_name}, "error", "请在Excel中打开后另存为新文件（或删除多余的行和列）再上传")


def _child(job: Path, result: Path) -> None:
    limit = int(os.environ.get("YBT_READER_MEMORY_MB", MEMORY_MB)) << 20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))
    mode, payload = pickle.loads(job.read_bytes())  # noqa: S301 - written by our parent

    def progress(done: int, total: int) -> None:
        sys.stdout.write(f"{done} {total}\n")
        sys.stdout.flush()

    out: Any
    if mode == "parse":
        from app.registry.loader import use_detached_context
        from app.registry.parse_values import Context
        from importers.pipeline import parse_file

        content, file_name, kwargs, context = payload
        use_detached_context(Context(*context))
        out = parse_file(content, file_name=file_name, on_progress=progress, **kwargs)
    else:
        from importers.lists import _cells

        try:
            out = ("rows", _cells(*payload))
        except ValidationFailed as exc:
            out = ("issues", exc.issues)
    with result.open("wb") as fh:
        _dump(out, fh)
    sys.stdout.write(f"peak {_peak_mb():.1f}\n")
    sys.stdout.flush()


BATCH = 10_000  # records per pickle of a ParsedFile's records


def _dump(out: Any, fh: Any) -> None:
    """A ParsedFile goes as its head, then its records in batches, each pickled with a fresh memo: one
    pickle of 450,000 records kept a memo entry for each of their millions of objects (≈ 450 MB of the
    reading child's 1.3 GB on a 43 MB CSV)."""
    pickler = pickle.Pickler(fh, protocol=pickle.HIGHEST_PROTOCOL)
    if not isinstance(out, ParsedFile):
        pickler.dump(("value", out))
        return
    records, out.records = out.records, []
    pickler.dump(("parsed", out))
    for start in range(0, len(records), BATCH):
        pickler.clear_memo()
        pickler.dump(records[start:start + BATCH])
    pickler.clear_memo()
    pickler.dump(None)
    out.records = records


def _load(fh: Any) -> Any:
    from importers.model import compact

    kind, value = pickle.load(fh)  # noqa: S301 - written by our child
    if kind == "parsed":
        while (batch := pickle.load(fh)) is not None:  # noqa: S301 - written by our child
            value.records += compact(batch)  # each batch made compact as it arrives: the dicts never pile up
    return value


if __name__ == "__main__":
    _child(Path(sys.argv[1]), Path(sys.argv[2]))
