"""One transaction convention: services flush, the caller commits (ARCHITECTURE.md). The flow-back service,
moved under the services, follows it: the caller can roll all of its work back, and two calls in one
request are one transaction. A source check lists the services that still commit themselves."""

from __future__ import annotations

import re
from pathlib import Path

from hand_county import County
from sqlalchemy import func, select
from sqlmodel import Session
from test_flowback import DEATHS_CSV, people  # noqa: F401  (the fixture)

from app.models import FlowbackAlert, ImportBatch, ImportFile, Person
from app.services.ledger_import import flowback

SERVICES = Path(__file__).resolve().parents[2] / "app" / "services"
# services/imports.py keeps its own commits: a refused file is still recorded, a dry run is rolled back
# before its record is kept; services/import_jobs.py (background imports, issue 15 item 7, another branch of
# this round) owns the transactions of a job, committed per chunk so other villages keep saving
# ledger_import/apply.py commits (or rolls back) each chunk of a chunked import only when its caller asks
# (``apply_parsed(chunks=…)``, from services/imports.py): a large file must not hold SQLite's write lock
STILL_COMMITTING = {"imports.py", "import_jobs.py", "ledger_import/apply.py"}


def _count(session: Session, model: type) -> int:
    return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_the_caller_can_roll_a_reconciliation_back(session: Session, county: County, people) -> None:  # noqa: F811
    batch = flowback.reconcile(session, county.township_1, "deaths", DEATHS_CSV.encode("utf-8"), "死亡名单.csv")
    alert = next(a for a in flowback.alerts(session, county.township_1, import_id=batch.id) if a.name == "赵一")
    flowback.confirm(session, county.cadre_a, alert.id)
    assert session.get(Person, people["zhao"].id).living_status == "2"
    session.rollback()  # the request failed later: nothing of either call is kept
    assert (_count(session, ImportBatch), _count(session, FlowbackAlert), _count(session, ImportFile)) == (0, 0, 0)
    assert session.get(Person, people["zhao"].id).living_status == "1"

    batch = flowback.reconcile(session, county.township_1, "deaths", DEATHS_CSV.encode("utf-8"), "死亡名单.csv")
    session.commit()
    assert (_count(session, ImportBatch), _count(session, FlowbackAlert)) == (1, 3)


def test_only_the_listed_services_commit() -> None:
    committing = {str(p.relative_to(SERVICES)) for p in SERVICES.rglob("*.py")
                  if re.search(r"\.commit\(\)", p.read_text(encoding="utf-8"))}
    assert "imports.py" in committing and committing <= STILL_COMMITTING, sorted(committing - STILL_COMMITTING)
