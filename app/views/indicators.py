"""The indicator dictionary (口径) in the browser: browse by department and subject, search by name or
口径 words, where each indicator is used; admins check and publish new indicators (or new versions)
and retire old ones — no code change, no restart."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.clock import display
from app.db import get_session
from app.issues import Issue, IssueError
from app.models import IndicatorDefinition
from app.registry.vocabulary import SUBJECTS
from app.services import indicators, reports
from app.services.codelists import labels
from app.services.scope import require_admin
from app.views.auth import login_required

bp = Blueprint("indicators", __name__, url_prefix="/indicators")

TEMPLATE = """code: P_NEW_CODE
name: 指标名称
definition: 口径说明（参考日……的……）
unit: 人
department: mca
compute: {aggregate: count, subject: persons, where: {alive: true, age: {gte: 60}, tags: [tekun]}}
"""


@bp.get("/")
@login_required
def index() -> str:
    session = get_session()
    registry = reports.registry_for(current_app, session)
    rows = indicators.catalogue(registry)
    department = request.args.get("department", "").strip()
    subject = request.args.get("subject", "").strip()
    words = request.args.get("q", "").strip()
    retired = request.args.get("retired") == "1"
    if department:
        rows = [r for r in rows if r["department"] == department]
    if subject:
        rows = [r for r in rows if r["subject"] == subject]
    if not retired:
        rows = [r for r in rows if not r["retired"]]
    if words:
        terms = words.lower().split()
        rows = [r for r in rows if all(t in f"{r['code']} {r['name']} {r['definition']}".lower() for t in terms)]
    return render_template("indicators/index.html", rows=rows, departments=labels(session, "department"),
                           subjects={k: s.label for k, s in SUBJECTS.items()}, department=department, subject=subject,
                           q=words, retired=retired)


@bp.get("/<code>")
@login_required
def show(code: str) -> str:
    session = get_session()
    registry = reports.registry_for(current_app, session)
    indicator = registry.indicators.get(code)
    if indicator is None:
        abort(404)
    stored = {r.version: r for r in session.execute(
        select(IndicatorDefinition).where(IndicatorDefinition.code == code)).scalars()}
    versions = [(n, registry.indicator_versions[code][n], stored.get(n)) for n in sorted(registry.indicator_versions.get(code, {}), reverse=True)]
    return render_template("indicators/show.html", ind=indicator, versions=versions, display=display,
                           used_by=registry.where_used().get(code, []), retired=code in registry.retired,
                           departments=labels(session, "department"), describe=indicators.describe(indicator),
                           subjects={k: s.label for k, s in SUBJECTS.items()})


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new() -> str | Response | tuple[str, int]:
    """Check an indicator (errors with path and hint; duplicates named) and publish it as a version."""
    require_admin(g.user)
    session = get_session()
    registry = reports.registry_for(current_app, session)
    if request.method == "GET":
        base = request.args.get("from", "")
        text = registry.indicators[base].text if base in registry.indicators else TEMPLATE
        return render_template("indicators/edit.html", source=text, issues=[], checked=None)
    text = request.form.get("source", "").replace("\r\n", "\n")
    note = request.form.get("note", "").strip()
    if not text.strip():
        return render_template("indicators/edit.html", source=text, checked=None,
                               issues=[Issue("empty-file", "指标定义为空", hint="按示例填写 code、name、definition、unit、department、compute")]), 422
    checked = indicators.check_text(text, registry, "编辑框")
    if checked.errors or request.form.get("action") != "publish":
        return render_template("indicators/edit.html", source=text, issues=checked.issues, checked=checked,
                               note=note), 422 if checked.errors else 200
    try:
        done = indicators.publish(session, registry, g.user, text, note, "编辑框")
        session.commit()
    except IssueError as exc:
        session.rollback()
        return render_template("indicators/edit.html", source=text, issues=exc.issues, checked=None, note=note), exc.status
    flash("已发布：" + "、".join(f"{i.code} {i.name}（第{i.version}版）" for i in done), "success")
    return redirect(url_for("indicators.show", code=done[0].code))


@bp.post("/<code>/retire")
@login_required
def retire(code: str) -> Response:
    require_admin(g.user)
    session = get_session()
    used = indicators.retire(session, reports.registry_for(current_app, session), g.user, code,
                             request.form.get("note", "").strip())
    session.commit()
    flash(f"已停用指标 {code}" + (f"；仍在使用它的报表版本照常生成：{'、'.join(used)}" if used else ""), "success")
    return redirect(url_for("indicators.show", code=code))
