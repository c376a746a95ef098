"""Collection tasks through the services, on the hand-made county (tests/reports/hand_data.py).

Expected records, values and report numbers are written out by hand from the hand_data docstring.
"""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from hand_data import REF, TOWN_1, TOWN_2, V1, V2, V3
from sqlalchemy import select
from sqlmodel import Session
from task_helpers import TaskPeople

from app.db import get_db
from app.issues import Conflict, IssueError, NotFound, PermissionDenied, ValidationFailed
from app.models import ChangeBatch, ChangeLog, Person, PersonHistory, Tag
from app.services import persons, reports, tags, task_report, tasks

DEADLINE = date(2099, 12, 31)


def registry(app: Flask, session: Session):
    return reports.registry_for(app, session)


def issue(app: Flask, session: Session, actor, report_id: str, areas: list[str], **kw) -> tasks.CollectionTask:
    req = tasks.IssueRequest(report_id, areas, kw.pop("reference_date", REF), kw.pop("deadline", DEADLINE), **kw)
    task = tasks.issue_task(session, registry(app, session), actor, req)
    session.commit()
    return task


def codes(exc: IssueError) -> list[tuple[str, str | None]]:
    return [(i.code, i.location.get("field")) for i in exc.issues]


def sections(app: Flask, session: Session, task, village: str) -> dict[str, list[tuple]]:
    """entity → [(title, [(field, text, since, missing)], tags)] for a village's task page."""
    out = {}
    for s in tasks.coverage(get_db(app), session, registry(app, session), task, village):
        out[s.entity] = [(r.title, [(c.name, c.text, c.since, c.missing) for c in r.cells], r.tags) for r in s.records]
    return out


def submit_and_approve(app: Flask, session: Session, task, village: str, cadre, township) -> None:
    tasks.submit(get_db(app), session, registry(app, session), cadre, task, village)
    tasks.approve(session, township, task, village)
    session.commit()


def report_rows(app: Flask, session: Session, actor, task) -> tuple[dict[str, list], list[str]]:
    assembled = tasks.generate(get_db(app), session, registry(app, session), actor, task)
    sheet = assembled.report.sheets[0]
    keys = [c.key for c in sheet.columns if c.key not in ("name", "code")]
    return {row.values["name"]: [row.values[k] for k in keys] for row in sheet.rows}, sheet.notes


# ------------------------------------------------------------------------------- issuing


def test_department_issues_to_a_township_and_a_village(app, session, people: TaskPeople) -> None:
    task = issue(app, session, people.hand.mca, "mca_needy_by_village", [TOWN_1, V3], note="6月底困难群众底数核对")
    villages = tasks.visible_villages(session, people.hand.mca, task)
    assert [(v.village_code, v.status) for v in villages] == [(V1, "not_started"), (V2, "not_started"), (V3, "not_started")]
    assert (task.report_id, task.report_version, task.title, task.area_code) == (
        "mca_needy_by_village", 1, "困难群众分村汇总表", "339901000000")
    events = tasks.events(session, task)
    assert [(e.action, e.village_code, e.comment, who) for e, who in events] == [("issued", None, "3个村（社区）", "县民政局")]


def test_township_issues_for_its_own_villages(app, session, people: TaskPeople) -> None:
    task = issue(app, session, people.town_1, "mca_dibao_roster", [TOWN_1])
    assert [v.village_code for v in tasks.visible_villages(session, people.town_1, task)] == [V1, V2]
    assert task.area_code == TOWN_1  # the report's area: the township, not the county


def test_issue_validation_in_chinese(app, session, people: TaskPeople) -> None:
    reg = registry(app, session)
    with pytest.raises(ValidationFailed) as exc:
        tasks.issue_task(session, reg, people.hand.mca, tasks.IssueRequest(
            "mca_needy_by_village", [], REF, date(2020, 1, 1), note="x" * 501))
    assert codes(exc.value) == [("deadline-past", "deadline"), ("too-long", "note"), ("no-areas", "areas")]
    assert exc.value.issues[0].message == "截止日期 2020-01-01 已过"

    with pytest.raises(ValidationFailed) as exc:  # a township's staff cannot pick another township's village
        tasks.issue_task(session, reg, people.town_1, tasks.IssueRequest("mca_needy_by_village", [V1, V3, "339901999999"],
                                                                           REF, DEADLINE))
    assert codes(exc.value) == [("area-out-of-scope", "areas"), ("unknown-area", "areas")]
    assert exc.value.issues[0].message == "“丙村”（339901200201）超出您的管辖范围"

    with pytest.raises(ValidationFailed) as exc:  # a change list compares two dates: nothing to confirm
        tasks.issue_task(session, reg, people.hand.mca, tasks.IssueRequest("mca_dibao_changes", [V1], REF, DEADLINE))
    assert codes(exc.value) == [("task-kind", "report")]

    with pytest.raises(ValidationFailed) as exc:  # 民救1表 is valid until 2027-12-31
        tasks.issue_task(session, reg, people.hand.mca, tasks.IssueRequest("mca_needy_by_village", [V1], REF,
                                                                             date(2028, 3, 1)), on=date(2028, 1, 2))
    assert codes(exc.value) == [("form-expired", "report")]

    with pytest.raises(PermissionDenied) as exc:  # another department's projection
        tasks.issue_task(session, reg, people.nhc, tasks.IssueRequest("mca_needy_by_village", [V1], REF, DEADLINE))
    assert codes(exc.value) == [("other-department", None)]

    with pytest.raises(PermissionDenied):  # village cadres do not issue tasks
        tasks.issue_task(session, reg, people.hand.cadre_1, tasks.IssueRequest("mca_needy_by_village", [V1], REF, DEADLINE))
    with pytest.raises(NotFound):
        tasks.issue_task(session, reg, people.hand.mca, tasks.IssueRequest("mca_nope", [V1], REF, DEADLINE))
    session.rollback()
    assert tasks.list_tasks(session, people.hand.mca) == []


# ------------------------------------------------------------------------------- pre-fill


def test_summary_prefill_covers_the_records_its_indicators_count(app, session, people: TaskPeople) -> None:
    task = issue(app, session, people.hand.mca, "mca_needy_by_village", [V1])
    start = date(2024, 1, 1)
    got = sections(app, session, task, V1)
    # persons counted by 低保人数 (H1's members), 特困 (p7), 留守儿童 (p3); fields from the filters:
    # alive → 人员状态, age → 出生日期. p4-p6 (H2) are counted by nothing.
    assert got["person"] == [
        ("甲一", [("name", "甲一", start, False), ("living_status", "在世", start, False), ("birth_date", "1950-03-01", start, False)], []),
        ("甲二", [("name", "甲二", start, False), ("living_status", "在世", start, False), ("birth_date", "1952-07-15", start, False)], []),
        ("甲三", [("name", "甲三", start, False), ("living_status", "在世", start, False), ("birth_date", "2015-09-01", start, False)],
         ["留守儿童 自2024-01-01"]),
        ("甲七", [("name", "甲七", start, False), ("living_status", "在世", start, False), ("birth_date", "1930-01-01", start, False)],
         ["特困（供养方式：分散供养） 自2024-01-01"]),
    ]
    # households: H1 holds 低保 on 2025-06-30; H3's 低保 ended 2025-06-20, so H3 is not asked about
    assert got["household"] == [
        ("JC001", [("number", "JC001", start, False), ("status", "正常", start, False)],
         ["低保（低保类别：农村低保；月保障金额：800） 自2024-02-01"]),
    ]


def test_roster_prefill_shows_age_of_values_and_what_is_missing(app, session, people: TaskPeople) -> None:
    admin, p = people.hand.admin, people.hand.persons
    persons.update_person(session, admin, p["p2"], {"relation": None}, effective=date(2025, 3, 1))
    persons.update_person(session, admin, p["p1"], {"name": "甲壹"}, effective=date(2025, 5, 1))
    session.commit()
    task = issue(app, session, people.hand.mca, "mca_dibao_roster", [V1, V3])
    start = date(2024, 1, 1)
    got = sections(app, session, task, V1)
    names = [(r[0], [c[0] for c in r[1]]) for r in got["person"]]
    # the roster's columns: 姓名 与户主关系 性别 年龄(→出生日期) 身份证号, and 人员状态 from ``alive``
    fields = ["name", "relation", "sex", "birth_date", "id_number", "living_status"]
    assert names == [("甲壹", fields), ("甲三", fields), ("甲二", fields)]  # an empty relation sorts last
    p1, p2 = got["person"][0][1], got["person"][2][1]
    assert p1[0] == ("name", "甲壹", date(2025, 5, 1), False)  # changed on 2025-05-01
    assert p1[1] == ("relation", "户主", start, False)
    assert p2[1] == ("relation", "", date(2025, 3, 1), True)  # emptied on 2025-03-01: missing
    assert [c[3] for c in p2] == [False, True, False, False, False, False]
    assert got["household"] == [("JC001", [("number", "JC001", start, False)],
                                 ["低保（低保类别：农村低保；月保障金额：800） 自2024-02-01"])]
    # 丙村: H6 (p13; p14 died 2025-03-01) and H7 (p15)
    assert [r[0] for r in sections(app, session, task, V3)["person"]] == ["丙一", "丙三"]
    assert [r[0] for r in sections(app, session, task, V3)["household"]] == ["BC001", "BC002"]


# ------------------------------------------------------------------------------- corrections


def test_correction_goes_into_base_data_with_history_source_task(app, session, people: TaskPeople) -> None:
    task = issue(app, session, people.hand.mca, "mca_dibao_roster", [V1])
    p1 = people.hand.persons["p1"]
    version = session.get(Person, p1).row_version
    change = tasks.save_record(session, registry(app, session), get_db(app), people.hand.cadre_1, task, V1, "person", p1,
                               {"name": "甲壹", "relation": "02", "phone": "13000000000"}, version)
    session.commit()
    assert change.fields == {"name": ("甲一", "甲壹")}  # phone is not part of this task: ignored
    person = session.get(Person, p1)
    assert (person.name, person.phone, person.row_version) == ("甲壹", "19900000001", version + 1)
    log, batch = session.execute(select(ChangeLog, ChangeBatch).join(ChangeBatch, ChangeLog.batch_id == ChangeBatch.id)
                                 .where(ChangeLog.entity == "person", ChangeLog.entity_id == str(p1))
                                 .order_by(ChangeLog.id.desc())).first()
    assert (batch.source, batch.actor_id, batch.note) == ("task", people.hand.cadre_1.id, f"采集任务 #{task.id}")
    assert (log.changes, log.effective_date) == ({"name": ["甲一", "甲壹"]}, REF)  # effective from the reference date
    old = session.execute(select(PersonHistory).where(PersonHistory.id == p1)).scalars().one()
    assert (old.name, old.valid_from, old.valid_to) == ("甲一", date(2024, 1, 1), REF)
    row = tasks.get_village(session, people.hand.cadre_1, task, V1)
    assert row.status == "in_progress"
    assert [(e.action, e.from_status, e.to_status, e.comment) for e, _ in tasks.events(session, task, V1)][1:] == [
        ("saved", "not_started", "in_progress", "甲一：姓名：甲一 → 甲壹")]


def test_invalid_or_stale_corrections_write_nothing(app, session, people: TaskPeople) -> None:
    task = issue(app, session, people.hand.mca, "mca_dibao_roster", [V1])
    reg, db, cadre, p1 = registry(app, session), get_db(app), people.hand.cadre_1, people.hand.persons["p1"]
    version = session.get(Person, p1).row_version
    logs_before = session.execute(select(ChangeLog.id)).all()
    with pytest.raises(ValidationFailed) as exc:  # the birth date must agree with the ID number
        tasks.save_record(session, reg, db, cadre, task, V1, "person", p1, {"birth_date": "1951-03-01"}, version)
    assert {(i.location.get("field"), i.severity) for i in exc.value.issues} == {("id_number", "error")}
    session.rollback()
    with pytest.raises(ValidationFailed) as exc:
        tasks.save_record(session, reg, db, cadre, task, V1, "person", p1, {"birth_date": "1951-02-30"}, version)
    assert codes(exc.value) == [("bad-date", "birth_date")]
    session.rollback()
    with pytest.raises(Conflict) as exc:  # someone saved in between
        tasks.save_record(session, reg, db, cadre, task, V1, "person", p1, {"name": "甲壹"}, version - 1)
    assert codes(exc.value)[0][0] == "edit-conflict"
    session.rollback()
    assert session.execute(select(ChangeLog.id)).all() == logs_before
    assert session.get(Person, p1).name == "甲一"
    assert tasks.get_village(session, cadre, task, V1).status == "not_started"


# ------------------------------------------------------------------------------- who may do what


def test_statuses_and_who_may_move_them(app, session, people: TaskPeople) -> None:
    task = issue(app, session, people.hand.mca, "mca_needy_by_village", [V1, V3])
    db, reg = get_db(app), registry(app, session)
    with pytest.raises(PermissionDenied):  # a cadre of another village cannot see it
        tasks.get_task(session, people.cadre_2, task.id)
    with pytest.raises(PermissionDenied):
        tasks.get_village(session, people.cadre_3, task, V1)
    with pytest.raises(PermissionDenied):  # nor confirm it
        tasks.submit(db, session, reg, people.cadre_3, task, V1)
    with pytest.raises(PermissionDenied):  # another department does not see the task
        tasks.get_task(session, people.nhc, task.id)
    with pytest.raises(Conflict):  # nothing submitted yet
        tasks.approve(session, people.town_1, task, V1)
    tasks.submit(db, session, reg, people.hand.cadre_1, task, V1, "已核对")
    with pytest.raises(PermissionDenied):  # a township cannot approve another township's village
        tasks.approve(session, people.town_2, task, V1)
    with pytest.raises(PermissionDenied):  # the issuing department does not do the township's review
        tasks.approve(session, people.hand.mca, task, V1)
    with pytest.raises(Conflict):  # submitted: locked for the village
        tasks.save_record(session, reg, db, people.hand.cadre_1, task, V1, "person", people.hand.persons["p1"], {"name": "x"}, None)
    with pytest.raises(ValidationFailed) as exc:
        tasks.return_village(session, people.town_1, task, V1, "  ")
    assert codes(exc.value) == [("comment-required", "comment")]
    assert [v.village_code for v in tasks.visible_villages(session, people.town_1, task)] == [V1]
    assert [v.village_code for v in tasks.visible_villages(session, people.cadre_3, task)] == [V3]
    session.rollback()


def test_returned_resubmitted_approved_returned_by_issuer(app, session, people: TaskPeople) -> None:
    task = issue(app, session, people.hand.mca, "mca_needy_by_village", [V1])
    db, reg, cadre, town = get_db(app), registry(app, session), people.hand.cadre_1, people.town_1
    tasks.submit(db, session, reg, cadre, task, V1, "无变化")
    tasks.return_village(session, town, task, V1, "甲七的特困供养方式请再核实")
    assert tasks.get_village(session, cadre, task, V1).part is None
    tasks.submit(db, session, reg, cadre, task, V1, "已核实")
    tasks.approve(session, town, task, V1, "通过")
    assert tasks.get_village(session, cadre, task, V1).status == "confirmed"
    tasks.return_village(session, people.hand.mca, task, V1, "金额与台账不符")  # the issuer, after confirmation
    session.commit()
    assert [(e.action, e.from_status, e.to_status, who, e.comment) for e, who in tasks.events(session, task, V1)] == [
        ("issued", None, None, "县民政局", "1个村（社区）"),
        ("submitted", "not_started", "submitted", "甲村干部", "无变化"),
        ("returned", "submitted", "returned", "青石镇干部", "甲七的特困供养方式请再核实"),
        ("submitted", "returned", "submitted", "甲村干部", "已核实"),
        ("approved", "submitted", "confirmed", "青石镇干部", "通过"),
        ("returned", "confirmed", "returned", "县民政局", "金额与台账不符"),
    ]
    assert [s.task.id for s in tasks.open_tasks_for(session, cadre)] == [task.id]  # back on the village's list
    assert tasks.open_tasks_for(session, town) == []


# ------------------------------------------------------------------------------- the report


NEEDY_KEYS = "低保户 人数 城市 农村 月金额 边缘 特困 集中 分散 留守 孤儿"


def test_summary_report_from_confirmed_villages_only(app, session, people: TaskPeople) -> None:
    task = issue(app, session, people.hand.mca, "mca_needy_by_village", [TOWN_1, TOWN_2])
    submit_and_approve(app, session, task, V1, people.hand.cadre_1, people.town_1)
    submit_and_approve(app, session, task, V3, people.cadre_3, people.town_2)
    tasks.submit(get_db(app), session, registry(app, session), people.cadre_2, task, V2)  # 乙村: awaiting review
    session.commit()
    rows, notes = report_rows(app, session, people.hand.mca, task)
    none = [None] * 11
    assert rows == {
        #               低保户 人数 城市 农村 月金额  边缘 特困 集中 分散 留守 孤儿
        "合计":          [3,    5,   0,   3,   1700, 0,   2,   1,   1,   1,   0],  # 甲村 + 丙村
        "青石镇小计":     [1,    3,   0,   1,   800,  0,   1,   0,   1,   1,   0],  # 甲村 only
        "甲村":          [1,    3,   0,   1,   800,  0,   1,   0,   1,   1,   0],  # H1 (p1 p2 p3), p7 特困, p3 留守
        "乙村（未确认）": none,
        "石门乡小计":     [2,    2,   0,   2,   900,  0,   1,   1,   0,   0,   0],
        "丙村":          [2,    2,   0,   2,   900,  0,   1,   1,   0,   0,   0],  # H6 + H7; p13 p15; p13 特困集中
    }
    assert notes[-2:] == ["采集任务 #1：按各村提交并经审核确认的数据生成，已确认 2/3 个村（社区）。",
                          "未确认、未计入小计与合计：乙村（待审核）。"]


def test_a_change_after_confirmation_does_not_alter_the_report(app, session, people: TaskPeople) -> None:
    task = issue(app, session, people.hand.mca, "mca_needy_by_village", [V3])
    submit_and_approve(app, session, task, V3, people.cadre_3, people.town_2)
    # after the confirmation 丙一's 特困 is ended with effect before the reference date
    tekun = session.execute(select(Tag).where(Tag.person_id == people.hand.persons["p13"], Tag.tag_code == "tekun")).scalar_one()
    tags.end_tag(session, people.hand.admin, tekun.id, date(2025, 6, 1))
    session.commit()
    live = reports.build_report(get_db(app), session, registry(app, session), None,
                                reports.RunRequest("mca_needy_by_village", area_code=V3, on=REF))
    assert [r.values["c7"] for r in live.sheets[0].rows] == [0, 0]  # the live data: no 特困 in 丙村 any more
    rows, notes = report_rows(app, session, people.hand.mca, task)
    assert rows == {"合计": [2, 2, 0, 2, 900, 0, 1, 1, 0, 0, 0], "丙村": [2, 2, 0, 2, 900, 0, 1, 1, 0, 0, 0]}
    assert notes[-1] == "以下村（社区）提交后基础数据又有变动，本表仍按确认时的数据：丙村。"


def test_roster_report_lists_confirmed_villages_renumbered(app, session, people: TaskPeople) -> None:
    task = issue(app, session, people.hand.mca, "mca_dibao_roster", [V1, V3])
    submit_and_approve(app, session, task, V1, people.hand.cadre_1, people.town_1)
    submit_and_approve(app, session, task, V3, people.cadre_3, people.town_2)
    assembled = tasks.generate(get_db(app), session, registry(app, session), people.hand.mca, task)
    sheet = assembled.report.sheets[0]
    label = {c.label: c.key for c in sheet.columns}
    got = [(r.values[label["序号"]], r.values[label["户号"]], r.values[label["姓名"]], r.values[label["月保障金额"]])
           for r in sheet.rows]
    assert got == [(1, "JC001", "甲一", 800.0), (1, "JC001", "甲二", 800.0), (1, "JC001", "甲三", 800.0),
                   (2, "BC001", "丙一", 600.0), (3, "BC002", "丙三", 300.0)]
    assert assembled.report.title == "云溪县2025年6月低保对象花名册"
    tasks.return_village(session, people.hand.mca, task, V3, "丙三的低保金额待核")
    session.commit()
    assembled = tasks.generate(get_db(app), session, registry(app, session), people.hand.mca, task)
    assert [r.values[label["姓名"]] for r in assembled.report.sheets[0].rows] == ["甲一", "甲二", "甲三"]
    assert assembled.report.sheets[0].notes[-3:] == ["共 3 人", "采集任务 #1：按各村提交并经审核确认的数据生成，已确认 1/2 个村（社区）。",
                                                     "未确认、未计入本表：丙村（已退回）。"]
    with pytest.raises(PermissionDenied):  # only the issuer side generates
        tasks.generate(get_db(app), session, registry(app, session), people.town_1, task)


def test_a_township_issuer_approves_as_the_final_level(app, session, people: TaskPeople) -> None:
    task = issue(app, session, people.town_1, "mca_needy_by_village", [V1])
    submit_and_approve(app, session, task, V1, people.hand.cadre_1, people.town_1)
    rows, _notes = report_rows(app, session, people.town_1, task)
    assert rows == {"合计": [1, 3, 0, 1, 800, 0, 1, 0, 1, 1, 0], "甲村": [1, 3, 0, 1, 800, 0, 1, 0, 1, 1, 0]}
    with pytest.raises(PermissionDenied):  # a county department sees only its own department's tasks
        tasks.get_task(session, people.hand.mca, task.id)


def test_two_reviewers_at_once_only_one_succeeds(app, session, people: TaskPeople) -> None:
    task = issue(app, session, people.hand.mca, "mca_needy_by_village", [V1])
    tasks.submit(get_db(app), session, registry(app, session), people.hand.cadre_1, task, V1)
    session.commit()
    with get_db(app).session() as other:
        stale_task = tasks.get_task(other, people.town_1, task.id)
        stale_row = tasks.get_village(other, people.town_1, stale_task, V1)  # the second reviewer's page
        assert stale_row.status == "submitted"
        other.commit()
        tasks.approve(session, people.town_1, task, V1)
        session.commit()
        with pytest.raises(Conflict) as exc:  # the guarded UPDATE finds the status changed underneath
            tasks.return_village(other, people.town_1, stale_task, V1, "退回")
        assert codes(exc.value) == [("task-status-changed", None)]
        other.rollback()
    session.expire_all()
    assert tasks.get_village(session, people.town_1, task, V1).status == "confirmed"


def test_every_shipped_projection_of_a_task_kind_prefills_and_matches_the_engine(app, session, people: TaskPeople) -> None:
    """Generic: for each summary the stored part of a village equals that village's row of the engine's
    own county report; each roster part equals the engine's roster for the village; pre-fill runs."""
    reg = registry(app, session)
    specs = tasks.task_specs(reg, people.hand.admin)
    assert len(specs) == 16  # 20 shipped, less 3 change lists and 1 indicator table
    for spec in specs:
        task = issue(app, session, people.hand.admin, spec.id, [V1, V2, V3])
        parts = task_report.compute_parts(get_db(app), session, reg, task, [V1, V2, V3])
        if spec.kind == "area_summary" and spec.rows.level == "village":
            county = reports.build_report(get_db(app), session, reg, None, reports.RunRequest(spec.id, on=REF))
            rows = {r.values["code"]: r.values for r in county.sheets[0].rows if r.kind == "data"}
            for village in (V1, V2, V3):
                assert parts[village]["values"] == {k: rows[village][k] for k in parts[village]["values"]}, spec.id
        elif spec.kind == "roster":
            alone = reports.build_report(get_db(app), session, reg, None, reports.RunRequest(spec.id, area_code=V2, on=REF))
            assert [r["values"] for r in parts[V2]["rows"]] == [task_report.stored_form(r.values) for r in alone.sheets[0].rows]
        for village in (V1, V2, V3):
            for section in tasks.coverage(get_db(app), session, reg, task, village):
                assert section.entity in ("person", "household", "house", "organisation", "observation"), spec.id
                assert all(len(r.cells) == len(section.fields) for r in section.records), spec.id


def test_summary_prefill_lists_the_periodic_values_its_indicators_read(app, session, people: TaskPeople) -> None:
    task = issue(app, session, people.hand.stats, "stats_township_basic", [V2])
    got = {s.entity: s for s in tasks.coverage(get_db(app), session, registry(app, session), task, V2)}
    assert list(got) == ["person", "household", "organisation", "observation"]
    lines = [(r.title, [(c.name, c.text, c.missing) for c in r.cells]) for r in got["observation"].records]
    # 乙村: cropland 2025 = 800 亩, grain 2024 = 250 吨; no collective income recorded for 2024: missing
    assert lines == [
        ("耕地面积（亩）", [("period", "2025", False), ("value", "800", False)]),
        ("粮食产量（吨）", [("period", "2024", False), ("value", "250", False)]),
        ("村集体经济收入（元）", [("period", "2024-01-01至2024-12-31", False), ("value", "", True)]),
    ]
