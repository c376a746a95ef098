"""Benchmark: peak memory (and time) of importing a large CSV upload, each stage in its own process.

    .venv/bin/python bench/bench_import_memory.py                  # 10 MB and 50 MB CSV, SQLite
    .venv/bin/python bench/bench_import_memory.py --mb 10 --stages read preview

A village cadre's ledger as CSV (the columns and messy values of ``bench_import.py``; the household
cells only on the head's row, as a CSV exported from a merged sheet has them), of about ``--mb`` MB.
Stages, each in a fresh child process that reports its own peak resident memory (``VmHWM``, not
``ru_maxrss``, which Linux carries over fork + exec) and CPU seconds:

* ``read``: ``importers.pipeline.parse_file`` — what the web's isolated reading child does;
* ``preview``: ``app.services.imports.run_import(dry_run=True)`` with the file read in the isolated
  child (as the web does): the server-side process's peak, and the reading child's (``child_mb``);
* ``apply``: ``run_import(dry_run=False)`` the same way, into a fresh SQLite database;
* ``reapply``: the same file applied again into the database ``apply`` left (every row 未变: the
  memory of comparing with existing persons rather than inserting new ones).

During ``preview`` and ``apply``, once the import has started comparing and writing, another thread of
the same process saves one person of another village through ``services.persons.update_person`` (what
a village's save does) once a second until the import ends, and reports how many saves ran, their
median and longest wait, and the first error (``--saver process``: another process saves, as a second
gunicorn worker or a CLI would, waiting in SQLite's own busy handler). ``--one-transaction`` runs the
way before chunked applies (the whole file in one transaction) for the side-by-side figure.

Prints one JSON line per stage and a markdown table.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_import import COLUMNS, build_rows, cpu_s, fresh_db, maxrss_mb, villages  # noqa: E402

BYTES_PER_ROW = 130  # about, for the generated columns (8.6 MB for 69,905 rows)


def write_csv(path: Path, mb: float, db_url: str) -> int:
    """A CSV of about ``mb`` MB; returns its data rows."""
    _town, village_list = villages(db_url)
    n = int(mb * 1024 * 1024 / BYTES_PER_ROW)
    rows, _merges = build_rows(n, village_list)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(["" if row[c] is None else row[c] for c in COLUMNS])
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return len(rows)


def stage(name: str, db_url: str, path: Path, one_transaction: bool = False, saver: str = "thread") -> dict:
    from sqlalchemy import select

    if one_transaction:  # the way before chunks: the whole file in one transaction
        from app.services.ledger_import import apply as apply_module

        apply_module.CHUNK_RECORDS = apply_module.CHUNK_SECONDS = 10**12

    from app.db import Database
    from app.models import User
    from app.services import imports
    from app.services.codelists import code_lists

    db = Database(db_url)
    child_peaks: list[float] = []
    with db.session() as session:
        actor = session.execute(select(User).where(User.username == "bench_town")).scalar_one()
        content = path.read_bytes()
        t0, c0 = time.perf_counter(), cpu_s()
        if name == "read":
            from importers.pipeline import parse_file

            parsed = parse_file(content, file_name=path.name, code_lists=code_lists(session))
            out = {"rows": parsed.rows_read, "records": len(parsed.records), "file_issues": [str(i) for i in parsed.issues][:3]}
        else:
            import importers.isolated as isolated

            save: dict = {}
            progress = _concurrent_saves(db, db_url, actor, save, saver)
            batch, _result = imports.run_import(session, actor, content, path.name, area_code=actor.area_code, policy="queue",
                                                dry_run=name == "preview", isolated=True, apply_progress=progress)
            save["stop"].set()
            if save.get("thread") is not None:
                save["thread"].join()
            if "stop_process" in save:
                save["stop_process"]()
            child_peaks.append(isolated.LAST_CHILD_PEAK_MB)
            out = {"counts": {k: batch.counts.get(k) for k in ("rows_read", "applied", "unchanged", "conflict", "rejected")}}
            waits = sorted(save["seconds"])
            out["saves"] = len(waits)
            out["save_median_s"] = round(waits[len(waits) // 2], 2) if waits else None
            out["save_max_s"] = round(waits[-1], 2) if waits else None
            out["save_error"] = save["errors"][0] if save["errors"] else None
        t1, c1 = time.perf_counter(), cpu_s()
    db.engine.dispose()
    return {"stage": name, "mb": round(path.stat().st_size / 2**20, 1), "wall_s": round(t1 - t0, 1), "cpu_s": round(c1 - c0, 1),
            "peak_mb": round(maxrss_mb()), "child_mb": round(child_peaks[0]) if child_peaks else None, **out}


def _concurrent_saves(db, db_url: str, actor, save: dict, saver: str = "thread"):
    """A person registered before the import (not in the file), and an apply-progress callback that,
    once 2,000 records are done, starts a thread saving that person's phone number once a second until
    the import ends (``save["stop"]``); each save is timed (what a village's save waits meanwhile)."""
    import threading
    from datetime import date

    from sqlalchemy import select

    from app.models import Person
    from app.services import persons
    from app.validators.idcard import make_id_number

    id_number = make_id_number("339901", date(1950, 1, 1), 991)
    with db.session() as s:
        person_id = s.execute(select(Person.id).where(Person.id_number == id_number)).scalar()  # reapply: there already
        if person_id is None:
            village = villages(db_url)[1][0][0]
            p = persons.create_person(s, actor, {"id_number": id_number, "name": "并发保存", "area_code": village},
                                      effective=date(2020, 1, 1))
            s.commit()
            person_id = p.id
    save.update(seconds=[], errors=[], stop=threading.Event())

    def run() -> None:
        _save_every_second(db, actor, person_id, save, lambda: save["stop"].wait(1.0))

    def progress(done: int, total: int) -> None:
        if "thread" not in save and done >= 2000:
            save["thread"] = threading.Thread(target=run)
            save["thread"].start()

    if saver == "process":  # another process saves (a second gunicorn worker, a CLI): SQLite's own busy wait
        import subprocess as sp
        import tempfile as tf

        folder = Path(tf.mkdtemp(prefix="bench-saver-"))
        child = sp.Popen([sys.executable, __file__, "--phase", "saver", "--db-url", db_url, "--file", str(folder),
                          "--person", str(person_id)])

        def progress(done: int, total: int) -> None:  # noqa: F811 - the process variant
            if "thread" not in save and done >= 2000:
                save["thread"] = None
                (folder / "go").touch()

        def stop() -> None:
            (folder / "stop").touch()
            child.wait(60)
            result = json.loads((folder / "result.json").read_text())
            save["seconds"], save["errors"] = result["seconds"], result["errors"]

        save["stop_process"] = stop
    return progress


def saver_process(db_url: str, folder: Path, person_id: int) -> None:
    """The other process of ``--saver process``: from ``go`` to ``stop``, one save a second, timed."""
    from sqlalchemy import select

    from app.db import Database
    from app.models import User

    db = Database(db_url)
    with db.session() as s:
        actor = s.execute(select(User).where(User.username == "bench_town")).scalar_one()
    save: dict = {"seconds": [], "errors": []}
    while not (folder / "go").exists() and not (folder / "stop").exists():
        time.sleep(0.05)

    def pause_then_stopped() -> bool:
        time.sleep(1.0)
        return (folder / "stop").exists()

    _save_every_second(db, actor, person_id, save, pause_then_stopped)
    (folder / "result.json").write_text(json.dumps(save))


def _save_every_second(db, actor, person_id: int, save: dict, pause_then_stopped) -> None:
    """Save the person's phone, timed, until ``pause_then_stopped()`` (which waits a second) says stop."""
    from app.services import persons

    n = 0
    while True:
        n += 1
        t0 = time.perf_counter()
        try:
            with db.session() as s2:
                persons.update_person(s2, actor, person_id, {"phone": f"139{n:08d}"})
                s2.commit()
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            save["errors"].append(f"{type(exc).__name__}: {str(exc)[:120]}")
        save["seconds"].append(time.perf_counter() - t0)
        if pause_then_stopped():
            return


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=float, nargs="*", default=[10, 50])
    parser.add_argument("--stages", nargs="*", default=["read", "preview", "apply"],
                        help="read, preview, apply (into a fresh database), reapply (the same file again after apply)")
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "bench-import-memory")
    parser.add_argument("--one-transaction", action="store_true",
                        help="apply (and preview) the whole file in one transaction, as before chunks (the naive way)")
    parser.add_argument("--saver", choices=["thread", "process"], default="thread",
                        help="who saves meanwhile: another thread of the importing process, or another process")
    parser.add_argument("--phase", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--person", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--db-url", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        if args.phase == "saver":
            saver_process(args.db_url, args.file, args.person)
            return
        print(json.dumps(stage(args.phase, args.db_url, args.file, args.one_transaction, args.saver), ensure_ascii=False))
        return
    args.dir.mkdir(parents=True, exist_ok=True)
    results = []
    for mb in args.mb:
        db_url = f"sqlite:///{args.dir / 'bench.sqlite3'}"
        fresh_db(db_url)
        path = args.dir / f"ledger-{mb:g}mb.csv"
        if not path.exists():
            write_csv(path, mb, db_url)
        applied = False
        for name in args.stages:
            extra = [*(["--one-transaction"] if args.one_transaction else []), "--saver", args.saver]
            if name == "apply":
                fresh_db(db_url)
            if name == "reapply" and not applied:  # the file first goes in once, unmeasured
                subprocess.run([sys.executable, __file__, "--phase", "apply", "--db-url", db_url, "--file", str(path), *extra],
                               capture_output=True, text=True, check=True)
            applied = applied or name in ("apply", "reapply")
            out = subprocess.run([sys.executable, __file__, "--phase", name, "--db-url", db_url, "--file", str(path), *extra],
                                 capture_output=True, text=True, check=False)
            if out.returncode != 0:
                result = {"stage": name, "mb": mb, "failed": out.stderr[-1500:]}
            else:
                result = json.loads(out.stdout.strip().splitlines()[-1])
            print(json.dumps(result, ensure_ascii=False), flush=True)
            results.append(result)
    print("\n| file | stage | wall | CPU | peak RSS (this process) | reading child's peak | saves meanwhile: n, median, max |\n"
          "|---|---|---:|---:|---:|---:|---|")
    for r in results:
        if "failed" in r:
            print(f"| {r['mb']} MB | {r['stage']} | failed | | | | |")
            continue
        child = f"{r['child_mb']:,} MB" if r.get("child_mb") else ""
        saved = "" if not r.get("saves") else (f"{r['saves']}, {r['save_median_s']} s, {r['save_max_s']} s"
                                                + (f" ({r['save_error']})" if r.get("save_error") else ""))
        print(f"| {r['mb']} MB | {r['stage']} | {r['wall_s']} s | {r['cpu_s']} s | {r['peak_mb']:,} MB | {child} | {saved} |")


if __name__ == "__main__":
    main()
