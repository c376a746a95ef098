"""Benchmark: the reader's safety scans on pathological shapes, beside the old way (issue 15).

    .venv/bin/python bench/bench_read_safety.py [--old-timeout 120]

Shapes (built in code, tests/importers/crafted.py):
  1. an ordinary ledger of 20 rows with a formula column (年龄, no cached value) and N pre-bordered
     empty rows (the old regex re-scanned past every empty cell for each formula: quadratic);
  2. long shared strings (2,000 strings of 2,000 characters, a formula per row);
  3. a far cell (A1 + XFD1048576) and a declared dimension A1:XFD1000: refused before calamine, in
     microseconds, where calamine alone would abort the process (512 GiB) or take 650 MB.
For each: the new scan (``importers.read.open_workbook`` without reading the rows) and the old regex
(``_FORMULA_CELL`` over the decompressed sheet, as before issue 15), each in a child process with its
own peak memory; the old way is cut off after ``--old-timeout`` seconds.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import re
import resource
import sys
import time
import zipfile
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "importers"))

# the scan before issue 15, verbatim
_FORMULA_CELL = re.compile(rb"<c\s[^>]*?r=\"([A-Z]{1,3})(\d+)\"[^>]*>(.*?)</c>", re.S)
_CACHED_VALUE = re.compile(rb"<v>[^<]+</v>|<is>", re.S)


def old_scan(data: bytes) -> int:
    zf = zipfile.ZipFile(BytesIO(data))
    xml = zf.read("xl/worksheets/sheet1.xml")
    n = 0
    for m in _FORMULA_CELL.finditer(xml):
        inner = m.group(3)
        if (b"<f>" in inner or b"<f " in inner) and not _CACHED_VALUE.search(inner):
            n += 1
    return n


def new_scan(data: bytes) -> int:
    from importers.read import open_workbook

    book = open_workbook(data, "bench.xlsx")
    if book.issues:
        return -1
    return sum(len(s.formula_no_value) for s in book.sheets)


def _child(fn_name: str, shape: str, arg: int, out: mp.Queue) -> None:
    data = make(shape, arg)
    start = time.perf_counter()
    n = globals()[fn_name](data)
    out.put((time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, n, len(data)))


def make(shape: str, arg: int) -> bytes:
    import crafted

    rows = [["姓名", "身份证号", "出生日期"]] + [[f"人{i}", "", "1970-01-01"] for i in range(20)]
    if shape == "bordered":
        return crafted.formula_column_with_bordered_tail(rows, empty_rows=arg)
    if shape == "shared":
        return crafted.long_shared_strings_workbook(2000, arg)
    if shape == "far":
        return crafted.far_cell_workbook(rows)
    if shape == "dimension":
        return crafted.declared_dimension_workbook(rows)
    raise ValueError(shape)


def run(fn_name: str, shape: str, arg: int, timeout: float) -> str:
    q: mp.Queue = mp.Queue()
    p = mp.get_context("fork").Process(target=_child, args=(fn_name, shape, arg, q))
    p.start()
    p.join(timeout)
    if p.is_alive():
        p.kill()
        p.join()
        return f"> {timeout:.0f} s (cut off)"
    if p.exitcode != 0:
        return f"crashed (exit {p.exitcode})"
    elapsed, mb, n, size = q.get()
    result = "refused" if n == -1 else f"{n} formula cells"
    return f"{elapsed:.3f} s, {mb:.0f} MB peak, {result} ({size / 1024:.0f} KB file)"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--old-timeout", type=float, default=120)
    args = ap.parse_args()
    cases = [("bordered", 100), ("bordered", 800), ("bordered", 5000), ("bordered", 100_000), ("shared", 2000),
             ("far", 0), ("dimension", 0)]
    print("| shape | new scan | old regex |\n|---|---|---|")
    for shape, arg in cases:
        new = run("new_scan", shape, arg, 600)
        old = run("old_scan", shape, arg, args.old_timeout) if shape in ("bordered", "shared") else "n/a (calamine aborts or allocates the grid)"
        print(f"| {shape} {arg or ''} | {new} | {old} |", flush=True)


if __name__ == "__main__":
    main()
