"""The visual report designer: build a projection without writing YAML — kind and row level, a
multi-row header of groups and leaf columns picked from the searchable dictionary, derived and
comparison columns, the statutory block, a live preview on real data, a new indicator created
without leaving the page, publish as a new version with a note.

The designer reads and writes the same YAML as the text view and ``forms_registry/reports``: the
browser holds the draft as the YAML mapping, the server turns it into text (``to_yaml``), checks it
with the registry parser and previews it. Admins publish; department users may draft and preview
for their own department. ``POST /designer/open`` (form field ``source``) opens any YAML draft in
the designer (e.g. one proposed from a department's Excel form).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import yaml
from flask import Blueprint, current_app, g, jsonify, render_template, request, url_for
from werkzeug.wrappers import Response

from app.clock import today
from app.db import get_db, get_session
from app.issues import Issue, IssueError, PermissionDenied
from app.registry.loader import read_yaml, runtime_context
from app.registry.vocabulary import (
    AREA_LEVELS,
    COMPARISONS,
    DERIVED_OPS,
    FLOW_EVENTS,
    FLOW_PERIODS,
    FREQUENCIES,
    REPORT_KINDS,
)
from app.services import indicators, reports
from app.services.codelists import labels
from app.services.scope import require_admin
from app.views.auth import login_required
from app.views.report_html import sheet_html

bp = Blueprint("designer", __name__, url_prefix="/designer")

DESIGNER_KINDS = ("area_summary", "indicator_rows")  # rosters pick fields, not indicators: text view
PREVIEW_ROWS = 60
MAX_DRAFT_BYTES = 200_000


def _require_designer() -> None:
    if g.user.role not in ("admin", "department"):
        raise PermissionDenied(Issue("designer-only", "只有系统管理员和部门用户可以使用报表设计器"))


def empty_draft() -> dict[str, Any]:
    department = g.user.department if g.user.role == "department" else "mca"
    return {"id": "", "version": 1, "title": "{area}……（{period}）", "department": department, "frequency": "monthly",
            "kind": "area_summary", "rows": {"level": "village", "subtotals": True, "total": "top"},
            "column_numbers": True, "statutory": {}, "unit_line": "", "columns": [], "notes": []}


def _clean(value: Any) -> Any:
    """Drop empty strings, lists and mappings (the designer's unfilled fields) before writing YAML."""
    if isinstance(value, dict):
        out = {k: _clean(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in ("", None, [], {})}
    if isinstance(value, list):
        return [c for c in (_clean(v) for v in value) if c not in ("", None, [], {})]
    return value


class _Dumper(yaml.SafeDumper):
    pass


def _mapping(dumper: yaml.SafeDumper, data: dict) -> yaml.Node:
    # leaf columns and small mappings on one line ({label: 户数, indicator: HH_DIBAO}), the rest in blocks
    flow = ("label" in data and "children" not in data) or set(data) <= {"level", "subtotals", "total", "show_code"}
    return dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=flow)


_Dumper.add_representer(dict, _mapping)


TOP_ORDER = ("id", "version", "title", "description", "department", "frequency", "kind", "statutory", "unit_line",
             "paper", "rows", "subject", "where", "group_by_household", "sort", "column_numbers", "age_date",
             "columns", "notes", "footer", "unmasked")
COLUMN_ORDER = ("label", "indicator", "field", "compare", "derived", "decimals", "blank", "children")
ROWS_ORDER = ("level", "subtotals", "total", "show_code")
STATUTORY_ORDER = ("表号", "制定机关", "批准机关", "批准文号", "有效期至")


def _ordered(data: dict[str, Any], order: tuple[str, ...]) -> dict[str, Any]:
    """Keys in the order the projection files use (unknown keys after them, as given)."""
    return {**{k: data[k] for k in order if k in data}, **{k: v for k, v in data.items() if k not in order}}


def _column(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    node = _ordered(node, COLUMN_ORDER)
    if isinstance(node.get("children"), list):
        node["children"] = [_column(c) for c in node["children"]]
    return node


def to_yaml(draft: dict[str, Any]) -> str:
    """The designer's draft as the projection file text, keys in the files' order (never a Python object)."""
    data = _ordered(_clean(draft), TOP_ORDER)
    if isinstance(data.get("rows"), dict):
        data["rows"] = _ordered(data["rows"], ROWS_ORDER)
    if isinstance(data.get("statutory"), dict):
        data["statutory"] = _ordered(data["statutory"], STATUTORY_ORDER)
    if isinstance(data.get("columns"), list):
        data["columns"] = [_column(c) for c in data["columns"]]
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=200)


def _issue_dicts(issues: list[Issue]) -> list[dict[str, Any]]:
    return [{**i.to_dict(), "path": i.location.get("path", "")} for i in issues]


def _page(draft: dict[str, Any], issues: list[Issue], status: int = 200) -> tuple[str, int]:
    session = get_session()
    areas = reports.area_choices(session, g.user)
    tag_types = runtime_context().tag_types
    data = {
        "draft": draft,
        "yaml": to_yaml(draft),
        "canPublish": g.user.role == "admin",
        "ownDepartment": g.user.department if g.user.role == "department" else None,
        "departments": labels(session, "department"),
        "frequencies": FREQUENCIES,
        "kinds": {k: REPORT_KINDS[k] for k in DESIGNER_KINDS},
        "levels": {k: {"county": "县", "township": "乡镇（街道）", "village": "村（社区）", "grid": "网格"}[k] for k in AREA_LEVELS},
        "derivedOps": DERIVED_OPS,
        "comparisons": COMPARISONS,
        "flowEvents": {k: {"label": e.label, "subjects": list(e.subjects), "needsTag": e.needs_tag} for k, e in FLOW_EVENTS.items()},
        "flowPeriods": FLOW_PERIODS,
        "tagTypes": [{"code": c, "name": t["name"], "subject": t["subject"]} for c, t in tag_types.items()],
        "areas": [{"code": a.code, "name": a.name, "level": a.level} for a in areas],
        "today": today().isoformat(),
        "urls": {"preview": url_for("designer.preview"), "indicators": url_for("designer.dictionary"),
                 "indicator": url_for("designer.indicator"), "publish": url_for("designer.publish")},
    }
    return render_template("designer/index.html", data=data, issues=issues), status


@bp.get("/")
@login_required
def index() -> tuple[str, int]:
    _require_designer()
    base = request.args.get("from", "").strip()
    if base:
        registry = reports.registry_for(current_app, get_session())
        spec = registry.get(base)
        reports.require_run(g.user, spec)
        draft, _ = read_yaml(spec.text, spec.source)
        if isinstance(draft, dict):
            draft["version"] = max(registry.reports[base]) + 1
            return _page(draft, [])
    return _page(empty_draft(), [])


@bp.post("/open")
@login_required
def open_draft() -> tuple[str, int]:
    """Open a YAML draft (form field ``source``) in the designer, e.g. one proposed from a department's form."""
    _require_designer()
    text = request.form.get("source", "")[:MAX_DRAFT_BYTES].replace("\r\n", "\n")
    draft, issues = read_yaml(text, "草稿")
    if not isinstance(draft, dict):
        issues = issues or [Issue("wrong-type", "草稿应为报表定义（YAML 映射）", hint="以“id: …”开头的报表定义文本")]
        return _page(empty_draft(), issues, 422)
    return _page(draft, issues)


@bp.get("/api/indicators")
@login_required
def dictionary() -> Response:
    """The searchable dictionary: current indicators whose code, name or 口径 contain every word."""
    _require_designer()
    rows = [r for r in indicators.catalogue(reports.registry_for(current_app, get_session())) if not r["retired"]]
    words = request.args.get("q", "").lower().split()
    department = request.args.get("department", "")
    rows = [r for r in rows if (not department or r["department"] == department)
            and all(w in f"{r['code']} {r['name']} {r['definition']}".lower() for w in words)]
    keys = ("code", "name", "definition", "unit", "department", "subject")
    return jsonify({"indicators": [{k: r[k] for k in keys} for r in rows[:60]], "total": len(rows)})


def _json() -> dict[str, Any]:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def _draft_from(body: dict[str, Any]) -> tuple[dict[str, Any] | None, str, list[Issue]]:
    """The draft of a request: the designer's mapping, or the text view's YAML when ``text`` is sent."""
    if isinstance(body.get("text"), str):
        text = body["text"][:MAX_DRAFT_BYTES]
        draft, issues = read_yaml(text, "文本")
        if not isinstance(draft, dict):
            return None, text, issues or [Issue("wrong-type", "文本应为报表定义（YAML 映射）", hint="以“id: …”开头")]
        return draft, to_yaml(draft), issues
    draft = body.get("draft")
    if not isinstance(draft, dict):
        return None, "", [Issue("wrong-type", "没有收到报表草稿", hint="请刷新页面后重试")]
    return draft, to_yaml(draft), []


@bp.post("/api/preview")
@login_required
def preview() -> Response:
    """Check the draft (issues with property path and hint) and, when it has no error, preview it on
    live data for the chosen area and date or period."""
    _require_designer()
    body = _json()
    draft, text, issues = _draft_from(body)
    result: dict[str, Any] = {"yaml": text, "draft": draft, "html": "", "issues": []}
    if draft is None:
        result["issues"] = _issue_dicts(issues)
        return jsonify(result)
    session = get_session()
    registry = reports.registry_for(current_app, session)
    spec, problems = reports.validate_projection(text, registry, "设计器")
    issues += problems
    if g.user.role == "department" and spec is not None and spec.department != g.user.department:
        issues.append(Issue("other-department", "部门用户只能为本部门起草报表", {"path": "department"},
                            hint=f"部门请选择 {g.user.department}"))
    sheet = None
    if spec is not None and not [i for i in issues if i.severity == "error"]:
        from app.services.catalogue import admission  # 报表准入: 有效期至, suspected duplicate reports

        sheet = admission(spec, registry)
        issues += sheet.issues
        # the same admission sheet the report-management page shows before anything goes live
        result["html"] = render_template("catalogue/_admission.html", admission=sheet)
    errors = [i for i in issues if i.severity == "error"]
    if spec is not None and not errors:
        try:
            on = dt.date.fromisoformat(body["as_of"]) if body.get("as_of") else None
        except (TypeError, ValueError):
            on = None
            issues.append(Issue("bad-date", f"截至日期“{body.get('as_of')}”应写成 2025-06-30", {"field": "截至日期"}))
        req = reports.RunRequest(spec.id, area_code=body.get("area") or None, on=on, period=(body.get("period") or "").strip() or None)
        try:
            report = reports.build_from_spec(get_db(), session, registry, g.user, spec, req)
            sheets = [sheet_html(s, PREVIEW_ROWS) for s in report.sheets[:3]]
            result["html"] += render_template("designer/_preview.html", preview={
                "report": report, "sheets": sheets, "more_sheets": max(0, len(report.sheets) - 3), "masked": False})
        except IssueError as exc:
            issues += exc.issues
    result["issues"] = _issue_dicts(issues)
    result["canPublish"] = g.user.role == "admin" and not [i for i in issues if i.severity == "error"]
    return jsonify(result)


@bp.post("/api/indicator")
@login_required
def indicator() -> tuple[Response, int]:
    """Check (``action: check``) or publish (``action: publish``, admins) one new indicator from the designer."""
    _require_designer()
    body = _json()
    raw = body.get("indicator")
    if not isinstance(raw, dict):
        return jsonify({"issues": _issue_dicts([Issue("wrong-type", "没有收到指标定义", hint="请填写新指标的各项")])}), 422
    text = yaml.safe_dump(_clean(raw), allow_unicode=True, sort_keys=False)
    session = get_session()
    registry = reports.registry_for(current_app, session)
    try:
        if body.get("action") == "publish":
            require_admin(g.user)
            done = indicators.publish(session, registry, g.user, text, str(body.get("note") or "在报表设计器中新建"), "新指标")
            session.commit()
            ind = done[0]
            return jsonify({"issues": [], "yaml": text, "indicator": {
                "code": ind.code, "name": ind.name, "definition": ind.definition, "unit": ind.unit,
                "department": ind.department, "subject": ind.compute.subject, "version": ind.version}}), 200
        checked = indicators.check_text(text, registry, "新指标")
        return jsonify({"issues": _issue_dicts(checked.issues), "yaml": text}), 422 if checked.errors else 200
    except IssueError as exc:
        session.rollback()
        return jsonify({"issues": _issue_dicts(exc.issues), "yaml": text}), exc.status


@bp.post("/api/publish")
@login_required
def publish() -> tuple[Response, int]:
    """Publish the draft as a new version with a note; nothing is published while an error stands."""
    require_admin(g.user)
    body = _json()
    draft, text, issues = _draft_from(body)
    if draft is None:
        return jsonify({"issues": _issue_dicts(issues)}), 422
    session = get_session()
    registry = reports.registry_for(current_app, session)
    try:
        spec = reports.publish(session, registry, g.user, text, note=str(body.get("note") or "").strip()[:200])
        session.commit()
    except IssueError as exc:
        session.rollback()
        return jsonify({"issues": _issue_dicts(exc.issues)}), exc.status
    return jsonify({"issues": [], "ref": spec.ref,
                    "url": url_for("reports.show", report_id=spec.id, version=spec.version)}), 200
