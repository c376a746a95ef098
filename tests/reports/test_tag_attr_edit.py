"""A tag's attributes changed in one service call: 甲村's H1 低保 goes from 农村 (kind 2, 800 元) to 城市
(kind 1, 650 元) from 2025-03-01. Report numbers worked out by hand from hand_data.py's docstring:

  甲村 on 2025-02-28: H1 农村 800 + H3 城市 500 → 低保户 2, 人数 4 (p1 p2 p3 p7), 城市 1, 农村 1, 金额 1300
  甲村 on 2025-03-01: H1 城市 650 + H3 城市 500 → 低保户 2, 人数 4, 城市 2, 农村 0, 金额 1150
  甲村 on 2025-06-30: H1 城市 650 only (H3 ended 2025-06-20) → 1, 3, 1, 0, 650
"""

from __future__ import annotations

from datetime import date

import pytest
from catalogue import run, summary
from hand_data import HandCounty
from sqlalchemy import func, select
from sqlmodel import Session

from app import clock
from app.issues import Conflict, PermissionDenied, ValidationFailed
from app.models import ChangeBatch, ChangeLog, Tag
from app.reporting.frames import CACHE
from app.services import history
from app.services.tags import edit_tag_attrs, grant_tag, pending_tags

CHANGE = date(2025, 3, 1)


def _dibao(session: Session, household_id: int) -> Tag:
    return session.execute(select(Tag).where(Tag.tag_code == "dibao", Tag.household_id == household_id)
                           .order_by(Tag.valid_from)).scalars().first()


def _counts(session: Session) -> tuple[int, int]:
    return (session.execute(select(func.count()).select_from(Tag)).scalar_one(),
            session.execute(select(func.count()).select_from(ChangeLog)).scalar_one())


def test_report_reads_the_old_kind_before_the_day_and_the_new_one_from_it(app, session: Session, hand: HandCounty) -> None:
    # warm the report store first, so the edit reaches it through the incremental path
    assert summary(run(app, session, "mca_needy_by_village", on=date(2025, 2, 28)))["甲村"][:5] == [2, 4, 1, 1, 1300]
    old = _dibao(session, hand.households["H1"])
    new = edit_tag_attrs(session, hand.cadre_1, old.id, {"kind": "1", "monthly_amount": 650}, CHANGE,
                         expected_version=old.row_version)
    session.commit()
    #                                                                      低保户 人数 城市 农村 月金额
    assert summary(run(app, session, "mca_needy_by_village", on=date(2025, 2, 28)))["甲村"][:5] == [2, 4, 1, 1, 1300]
    assert summary(run(app, session, "mca_needy_by_village", on=CHANGE))["甲村"][:5] == [2, 4, 2, 0, 1150]
    assert summary(run(app, session, "mca_needy_by_village", on=date(2025, 6, 30)))["甲村"][:5] == [1, 3, 1, 0, 650]
    CACHE.clear()  # and the same read whole
    assert summary(run(app, session, "mca_needy_by_village", on=CHANGE))["甲村"][:5] == [2, 4, 2, 0, 1150]

    # the old fact keeps its values over its interval; the new one continues it to the same (open) end
    session.refresh(old)
    assert (old.valid_from, old.valid_to, old.attrs, old.row_version) == (date(2024, 2, 1), CHANGE,
                                                                          {"kind": "2", "monthly_amount": 800}, 2)
    assert (new.valid_from, new.valid_to, new.attrs) == (CHANGE, None, {"kind": "1", "monthly_amount": 650.0})
    on_eve = {t.id: t.attrs for t in session.execute(history.tags_as_of_select(date(2025, 2, 28))).scalars()}
    assert on_eve[old.id]["kind"] == "2" and new.id not in on_eve
    # one batch, by the cadre, with both entries
    entries = session.execute(select(ChangeLog).where(ChangeLog.entity == "tag",
                                                      ChangeLog.entity_id.in_([str(old.id), str(new.id)]))
                              .order_by(ChangeLog.id)).scalars().all()
    assert [e.action for e in entries] == ["create", "end", "create"]
    assert entries[1].batch_id == entries[2].batch_id
    assert session.get(ChangeBatch, entries[2].batch_id).actor_id == hand.cadre_1.id
    assert entries[1].changes == {"valid_to": [None, "2025-03-01"], "replaced_by": [None, new.id]}
    assert entries[2].changes["attrs"] == [{"kind": "2", "monthly_amount": 800}, {"kind": "1", "monthly_amount": 650.0}]
    assert entries[2].effective_date == CHANGE


def test_a_stale_edit_is_refused_naming_who_and_nothing_is_written(session: Session, hand: HandCounty) -> None:
    old = _dibao(session, hand.households["H1"])
    edit_tag_attrs(session, hand.cadre_1, old.id, {"kind": "1", "monthly_amount": 650}, CHANGE, expected_version=1)
    session.commit()
    before = _counts(session)
    with pytest.raises(Conflict) as exc:  # the second editor loaded version 1 too
        edit_tag_attrs(session, hand.mca, old.id, {"kind": "2", "monthly_amount": 900}, date(2025, 4, 1),
                       expected_version=1)
    session.rollback()
    message = exc.value.issues[0].message
    assert message.startswith("保存被拒绝：您打开后，甲村干部于") and "修改了属性（自2025-03-01起生效）" in message
    assert _counts(session) == before


@pytest.mark.parametrize(("attrs", "when", "message"), [
    ({"kind": "9", "monthly_amount": 800}, CHANGE, "低保类别的值“9”不在代码表中"),
    ({"kind": "1", "monthly_amount": "八百"}, CHANGE, "月保障金额须为数字，现为“八百”"),
    ({"monthly_amount": 800}, CHANGE, "低保须填写低保类别"),
    ({"kind": "1", "monthly_amount": 800, "colour": "red"}, CHANGE, "低保没有属性“colour”"),
    ({"kind": "1", "monthly_amount": 800}, date(2024, 1, 31), "生效日期不能早于标签的开始日期2024-02-01"),
    ({"kind": "1", "monthly_amount": 800}, date(2999, 1, 1), "生效日期不能晚于今天"),
    ({"kind": "2", "monthly_amount": 800}, CHANGE, "属性没有变化，未保存"),
])
def test_bad_input_is_refused_per_field_and_nothing_is_written(session: Session, hand: HandCounty, attrs, when,
                                                               message) -> None:
    tag = _dibao(session, hand.households["H1"])
    before = _counts(session)
    with pytest.raises(ValidationFailed) as exc:
        edit_tag_attrs(session, hand.cadre_1, tag.id, attrs, when, expected_version=1)
    session.rollback()
    assert message in [i.message for i in exc.value.issues]
    assert _counts(session) == before


def test_an_ended_tag_is_edited_only_before_its_end(session: Session, hand: HandCounty) -> None:
    h3 = _dibao(session, hand.households["H3"])  # 城市 500 from 2024-01-01, ended 2025-06-20
    with pytest.raises(ValidationFailed, match="该标签已于2025-06-20结束"):
        edit_tag_attrs(session, hand.cadre_1, h3.id, {"kind": "2", "monthly_amount": 500}, date(2025, 6, 20))
    session.rollback()
    new = edit_tag_attrs(session, hand.cadre_1, h3.id, {"kind": "1", "monthly_amount": 550}, date(2025, 1, 1))
    assert (new.valid_from, new.valid_to) == (date(2025, 1, 1), date(2025, 6, 20))


def test_write_scope_is_checked(session: Session, hand: HandCounty) -> None:
    h6 = _dibao(session, hand.households["H6"])  # 丙村: not the 甲村 cadre's
    with pytest.raises(PermissionDenied):
        edit_tag_attrs(session, hand.cadre_1, h6.id, {"kind": "1", "monthly_amount": 600}, CHANGE)
    with pytest.raises(PermissionDenied):  # 卫健 does not keep 民政's tags
        edit_tag_attrs(session, hand.nhc, h6.id, {"kind": "1", "monthly_amount": 600}, CHANGE)
    session.rollback()
    edit_tag_attrs(session, hand.mca, h6.id, {"kind": "1", "monthly_amount": 600}, CHANGE)  # 民政 does


def test_filling_a_pending_attribute_from_the_start_corrects_the_tag_in_place(session: Session, hand: HandCounty) -> None:
    h2 = hand.households["H2"]
    tag = grant_tag(session, hand.admin, "dibao", h2, date(2025, 1, 1), attrs={"monthly_amount": 300}, pending=["kind"])
    session.commit()
    assert [t.id for t, _, _ in pending_tags(session, hand.cadre_1)] == [tag.id]
    same = edit_tag_attrs(session, hand.cadre_1, tag.id, {"kind": "2", "monthly_amount": 300}, date(2025, 1, 1),
                          expected_version=1)
    session.commit()
    assert same.id == tag.id and same.pending_attrs is None and same.attrs == {"kind": "2", "monthly_amount": 300.0}
    assert same.row_version == 2 and same.valid_from == date(2025, 1, 1)
    assert pending_tags(session, hand.cadre_1) == []
    last = session.execute(select(ChangeLog).where(ChangeLog.entity == "tag", ChangeLog.entity_id == str(tag.id))
                           .order_by(ChangeLog.id.desc())).scalars().first()
    assert (last.action, last.changes) == ("update", {"attrs": [{"monthly_amount": 300}, {"kind": "2", "monthly_amount": 300.0}],
                                                      "pending_attrs": [["kind"], None]})


def test_a_pending_attribute_left_empty_stays_pending(session: Session, hand: HandCounty) -> None:
    h2 = hand.households["H2"]
    tag = grant_tag(session, hand.admin, "dibao", h2, date(2025, 1, 1), attrs={"monthly_amount": 300}, pending=["kind"])
    session.commit()
    new = edit_tag_attrs(session, hand.cadre_1, tag.id, {"monthly_amount": 350}, date(2025, 2, 1))
    session.commit()
    assert new.pending_attrs == ["kind"] and new.attrs == {"monthly_amount": 350.0}
    assert [t.id for t, _, _ in pending_tags(session, hand.cadre_1)] == [new.id]


def test_a_tag_granted_ahead_is_corrected_from_its_start(session: Session, hand: HandCounty) -> None:
    ahead = clock.today().replace(year=clock.today().year + 1, month=1, day=1)
    tag = grant_tag(session, hand.admin, "dibao", hand.households["H2"], ahead, attrs={"kind": "2", "monthly_amount": 300})
    session.commit()
    with pytest.raises(ValidationFailed, match="生效日期不能晚于今天"):
        edit_tag_attrs(session, hand.cadre_1, tag.id, {"kind": "1", "monthly_amount": 300}, ahead.replace(month=2))
    session.rollback()
    same = edit_tag_attrs(session, hand.cadre_1, tag.id, {"kind": "1", "monthly_amount": 300}, ahead)
    assert (same.id, same.valid_from, same.attrs["kind"]) == (tag.id, ahead, "1")


def test_evidence_is_kept_unless_given_and_cleared_when_emptied(session: Session, hand: HandCounty) -> None:
    tag = _dibao(session, hand.households["H1"])
    tag.evidence = "云民〔2024〕12号"
    session.commit()
    kept = edit_tag_attrs(session, hand.cadre_1, tag.id, {"kind": "1", "monthly_amount": 800}, CHANGE)
    assert kept.evidence == "云民〔2024〕12号"
    changed = edit_tag_attrs(session, hand.cadre_1, kept.id, {"kind": "1", "monthly_amount": 800}, date(2025, 4, 1),
                             evidence="  云民〔2025〕3号 ")
    assert changed.evidence == "云民〔2025〕3号" and changed.attrs == kept.attrs  # evidence alone is a change
    cleared = edit_tag_attrs(session, hand.cadre_1, changed.id, {"kind": "1", "monthly_amount": 800}, date(2025, 5, 1),
                             evidence="")
    assert cleared.evidence is None
