"""Trustworthy numbers in the browser: a report cell's lineage (JSON for the preview's click), the
validation-rule results per township and village with a drill-down to the records, completeness and
freshness, and reconciliation of a hand-made report with the generated one."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from flask import Blueprint, current_app, g, jsonify, render_template, request, send_file, url_for
from werkzeug.wrappers import Response

from app import clock
from app.db import get_db, get_session
from app.issues import Issue, IssueError, NotFound, ValidationFailed
from app.models import Area
from app.reporting.frames import CACHE
from app.reporting.store_delta import data_version
from app.services import charts, lineage, reports, validation
from app.services.scope import require_read
from app.views.auth import login_required

bp = Blueprint("quality", __name__, url_prefix="/quality")

WEB_RECORD_LIMIT = 500


@bp.after_request
def _no_store(response: Response) -> Response:
    """Lineage and drill-downs list persons: keep them out of browser and proxy caches."""
    response.headers["Cache-Control"] = "no-store"
    return response


def _date_arg(name: str = "as_of") -> date | None:
    text = request.args.get(name, "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(Issue("bad-date", f"日期“{text}”无法识别", {"field": name},
                                     hint="请按 YYYY-MM-DD 填写，例如 2025-06-30")) from None


@bp.get("/explain/<report_id>")
@login_required
def explain(report_id: str) -> Response:
    """One cell of an area summary: value, records (masked; at most 500) and the period's changes."""
    column = request.args.get("column", "").strip()
    if not column.isdigit():
        raise ValidationFailed(Issue("bad-column", f"栏次“{column}”应为正整数", {"field": "column"}))
    version = request.args.get("version", "").strip()
    req = reports.RunRequest(report_id, int(version) if version.isdigit() else None,
                             request.args.get("area", "").strip() or None, _date_arg(),
                             request.args.get("period", "").strip() or None)
    session = get_session()
    result = lineage.explain(get_db(), session, reports.registry_for(current_app, session), g.user, req, int(column))
    data = result.as_dict()
    data["records_total"] = len(data["records"])
    data["records"] = data["records"][:WEB_RECORD_LIMIT]
    data["changes_total"] = len(data["changes"])
    data["changes"] = data["changes"][-WEB_RECORD_LIMIT:]  # the latest ones
    return jsonify(data)


# ---------------------------------------------------------------------------------- rules


@bp.get("/rules")
@login_required
def rules_page() -> str | tuple[str, int]:
    session = get_session()
    registry = reports.registry_for(current_app, session)
    issues: list[Issue] = []
    run = None
    on = clock.today()
    try:
        on = _date_arg() or on
        rules = validation.rules_for(current_app, registry)
        run = validation.run_rules(get_db(), session, registry, rules, g.user,
                                   request.args.get("area", "").strip() or None, on)
    except IssueError as exc:
        issues = exc.issues
    return render_template("quality/rules.html", run=run, issues=issues, on=on,
                           chart=charts.rules_chart(run) if run else None,
                           areas=reports.area_choices(session, g.user), indicators=registry.indicators,
                           area=request.args.get("area", "")), (200 if not issues else 422)


@bp.get("/rules/<rule_code>/<village>")
@login_required
def rule_detail(rule_code: str, village: str) -> str:
    """A rule for one village: each indicator's value and the records it counts (links to them)."""
    session = get_session()
    registry = reports.registry_for(current_app, session)
    rules = validation.visible_rules(validation.rules_for(current_app, registry), g.user)
    rule = next((r for r in rules if r.code == rule_code), None)
    if rule is None:
        raise NotFound(Issue("unknown-rule", f"规则“{rule_code}”不存在"))
    area = session.get(Area, village)
    if area is None:
        raise NotFound(Issue("unknown-area", f"区划 {village} 不存在"))
    require_read(g.user, area.code)
    on = _date_arg() or clock.today()
    run = validation.run_rules(get_db(), session, registry, [rule], g.user, area.code, on)
    version = data_version(get_db().engine)
    dates = [("参考日", on)]
    if rule.kind == "outlier":
        dates.append(("比较日", validation.comparison_date(on, rule.compare)))
    parts: list[dict[str, Any]] = []
    for label, when in dates:
        snap = CACHE.get(get_db().engine, when, version)
        for code in dict.fromkeys(rule.codes):
            indicator = registry.indicators[code]
            frame = lineage.counted(snap, indicator, lineage.area_prefix(area), None)
            records = [lineage._record_dict(indicator, r) for r in frame.iter_rows(named=True)]  # noqa: SLF001
            parts.append({"label": label, "on": when, "indicator": indicator, "records": records[:WEB_RECORD_LIMIT],
                          "total": len(records), "value": sum(r["value"] for r in records)})
    return render_template("quality/rule_detail.html", rule=rule, area=area, on=on, run=run, parts=parts,
                           description=rule.describe(registry.indicators))


# ---------------------------------------------------------------------------------- reconciliation


@bp.route("/reconcile/<report_id>", methods=["GET", "POST"])
@login_required
def reconcile_page(report_id: str) -> Response | str | tuple[str, int]:
    """Upload a hand-made report → differences with the generated one (page or xlsx)."""
    from app.services import reconcile

    session = get_session()
    registry = reports.registry_for(current_app, session)
    spec = registry.get(report_id)
    reports.require_run(g.user, spec)
    reconcile.require_reconcilable(spec)
    issues: list[Issue] = []
    result = None
    area = request.values.get("area", "").strip()
    as_of = request.values.get("as_of", "").strip() or clock.today().isoformat()
    if request.method == "POST":
        upload = request.files.get("file")
        try:
            if upload is None or not upload.filename:
                raise ValidationFailed(Issue("no-file", "请选择要核对的手工报表文件（.xlsx、.xls 或 .csv）", {"field": "file"}))
            data = upload.read(reconcile.MAX_BYTES + 1)
            try:
                on = date.fromisoformat(as_of)
            except ValueError:
                raise ValidationFailed(Issue("bad-date", f"日期“{as_of}”无法识别", {"field": "as_of"},
                                             hint="请按 YYYY-MM-DD 填写，例如 2025-06-30")) from None
            req = reports.RunRequest(report_id, None, area or None, on)
            generated = reports.build_report(get_db(), session, registry, g.user, req)
            ref_date = generated.meta["参考日期"]

            def link(code: str, column: int) -> str:
                return (url_for("reports.show", report_id=report_id, area=code, as_of=ref_date, preview=1)
                        + f"#explain-{code}-{column}")

            result = reconcile.reconcile(generated, data, upload.filename, link)
        except IssueError as exc:
            issues = exc.issues
        if result is not None and request.form.get("format") == "xlsx":
            response = send_file(io.BytesIO(reconcile.differences_xlsx(result)), as_attachment=True,
                                 download_name=f"{report_id}_差异_{result.as_of}.xlsx",
                                 mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
            return response
    return render_template("quality/reconcile.html", spec=spec, result=result, issues=issues, area=area, as_of=as_of,
                           areas=reports.area_choices(session, g.user),
                           status=reconcile.STATUS), (422 if issues else 200)


# ---------------------------------------------------------------------------------- completeness, charts


@bp.get("/completeness")
@login_required
def completeness_page() -> Response | str | tuple[str, int]:
    from app.services import completeness

    session = get_session()
    issues: list[Issue] = []
    result = None
    on = clock.today()
    months_text = request.args.get("months", "12").strip() or "12"
    try:
        on = _date_arg() or on
        if not months_text.isdigit():
            raise ValidationFailed(Issue("bad-months", f"月数“{months_text}”应为正整数", {"field": "months"}))
        result = completeness.completeness(get_db(), session, g.user, request.args.get("area", "").strip() or None, on,
                                           int(months_text))
    except IssueError as exc:
        issues = exc.issues
    if result is not None and request.args.get("format") == "xlsx":
        return send_file(io.BytesIO(completeness.completeness_xlsx(result)), as_attachment=True,
                         download_name=f"完整性与时效_{result.area_code}_{result.on.isoformat()}.xlsx",
                         mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    return render_template("quality/completeness.html", result=result, issues=issues, on=on,
                           months=months_text, area=request.args.get("area", ""),
                           areas=reports.area_choices(session, g.user),
                           chart=charts.completeness_chart(result) if result else None), (422 if issues else 200)


@bp.get("/charts/department")
@login_required
def department_charts() -> Response:
    """The landing page's charts: the department's tags over 24 months and its collection tasks."""
    session = get_session()
    return jsonify({"tags": charts.tag_trend(session, g.user), "tasks": charts.task_progress(session, g.user)})
