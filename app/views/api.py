"""The data-sharing API (多方共用): department systems pull shared data with a token instead of asking
villages again. Errors use the one JSON shape of ``app.views.errors``.

Authentication: ``Authorization: Bearer <token>`` (``ybt api-token create --department D``), acting as
that department county-wide with its need-to-know; or a logged-in browser session. Every call is
audited. The OpenAPI 3 document is generated from the YAML blocks of these docstrings by apispec.
"""

from __future__ import annotations

import io
import json
from dataclasses import asdict
from typing import Any

from apispec import APISpec
from apispec.yaml_utils import load_operations_from_docstring
from flask import Blueprint, Response, current_app, g, jsonify, render_template, request, url_for
from sqlalchemy import select

from app.db import get_db, get_session
from app.issues import Issue, NotFound, ValidationFailed
from app.models import ChangeLog, Household, Person, Tag, TagType
from app.services import api_tokens, audit, dashboard, reports
from app.services.codelists import code_lists
from app.services.scope import (
    ID_DERIVED,
    effective_unmasked,
    hidden_tags,
    household_need_to_know,
    mask_values,
    may_see_tag_attributes,
    needs_to_know,
    person_need_to_know,
    unmasked_fields,
)
from app.views.auth import LoginRequired, client_address
from app.views.errors import error_response

bp = Blueprint("api", __name__, url_prefix="/api")

#: Paths anyone may read: the API's own description.
PUBLIC = frozenset({"api.openapi", "api.docs"})
FEED_LIMIT = 500


@bp.before_request
def authenticate() -> Response | None:
    """A bearer token acts as its department; without one, the browser session's user (if any)."""
    g.api_token = None
    g.api_records = 0
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        session = get_session()
        row = api_tokens.token_row(session, token.strip()) if scheme.lower() == "bearer" else None
        if row is None:
            raise LoginRequired(Issue("bad-token", "接口令牌无效或已吊销", hint="请向系统管理员申请新的令牌"))
        g.api_token = row
        g.user = api_tokens.acting_user(session, row)
        with get_db().transaction() as own:
            wait = api_tokens.count_call(own, row.id, int(current_app.config["YBT_API_CALLS_PER_MINUTE"]))
        if wait is not None:
            body, status = error_response(429, [Issue(
                "rate-limited", f"接口调用过于频繁：每个令牌每分钟最多 {current_app.config['YBT_API_CALLS_PER_MINUTE']} 次",
                hint=f"请 {wait} 秒后再试")])
            response = current_app.make_response((body, status))
            response.headers["Retry-After"] = str(wait)
            return response
        return None
    if request.endpoint not in PUBLIC and g.get("user") is None:
        raise LoginRequired(Issue("not-logged-in", "请先登录",
                                  hint="接口调用请在请求头中提供 Authorization: Bearer <令牌>"))


@bp.after_request
def audit_call(response: Response) -> Response:
    """Every call, answered or refused, leaves an audit row (the description pages excepted)."""
    if request.endpoint in PUBLIC:
        return response
    user = g.get("user")
    token = g.get("api_token")
    audit.record(user if token is None else None, "api", f"{request.method} {request.full_path.rstrip('?')}"[:300],
                 records=int(g.get("api_records", 0)), address=client_address(), purpose=g.get("api_purpose"),
                 username=(user.username if user is not None else "anonymous"),
                 detail={"status": response.status_code, **({"department": token.department} if token else {})})
    return response


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        raise ValidationFailed(Issue("bad-parameter", f"参数 {name}=“{raw[:20]}” 应为 {low}—{high} 之间的整数", {"field": name}))
    return int(raw)


# ------------------------------------------------------------------------------------------ endpoints


@bp.get("/me")
def me() -> Response:
    """Who is calling.
    ---
    get:
      summary: 当前调用者（账号或令牌所代表的部门）
      responses:
        200: {description: 调用者信息, content: {application/json: {schema: {type: object}}}}
        401: {$ref: '#/components/responses/Unauthorized'}
    """
    if g.get("api_token") is not None:
        return jsonify({"username": g.user.username, "role": "department", "department": g.user.department})
    return jsonify(dashboard.whoami(get_session(), g.user).to_dict())


@bp.get("/areas/<code>/summary")
def area_summary(code: str) -> Response:
    """Counts of one area.
    ---
    get:
      summary: 区划概况（户数、人数等）
      parameters:
        - {name: code, in: path, required: true, schema: {type: string}, description: 12或15位区划代码}
      responses:
        200: {description: 概况, content: {application/json: {schema: {type: object}}}}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Error'}
        404: {$ref: '#/components/responses/Error'}
    """
    area, counts = dashboard.area_summary(get_session(), g.user, code[:20])
    return jsonify({"area": asdict(area), "counts": counts.to_dict()})


@bp.get("/reports")
def report_catalogue() -> Response:
    """The reports this caller may run.
    ---
    get:
      summary: 报表目录（本部门可生成的报表）
      responses:
        200:
          description: 报表列表
          content:
            application/json:
              schema:
                type: object
                properties:
                  reports: {type: array, items: {$ref: '#/components/schemas/ReportSummary'}}
        401: {$ref: '#/components/responses/Unauthorized'}
    """
    specs = reports.visible_reports(reports.registry_for(current_app, get_session()), g.user)
    g.api_records = len(specs)
    return jsonify({"reports": [{**reports.as_dict(s), "url": url_for("api.run_report", report_id=s.id)} for s in specs]})


@bp.get("/reports/<report_id>")
def run_report(report_id: str) -> Response:
    """Run one report as JSON.
    ---
    get:
      summary: 生成报表（JSON）
      parameters:
        - {name: report_id, in: path, required: true, schema: {type: string}}
        - {name: area, in: query, schema: {type: string}, description: 区划代码（默认本部门范围）}
        - {name: as_of, in: query, schema: {type: string, format: date}, description: 参考日期 YYYY-MM-DD}
        - {name: period, in: query, schema: {type: string}, description: 报告期，如 2025-06 或 2025-Q2}
        - {name: version, in: query, schema: {type: integer, minimum: 1}}
        - {name: purpose, in: query, schema: {type: string, maxLength: 300},
           description: 用途；报表按授权完整显示个人信息（unmasked）时必填，记入访问审计}
      responses:
        200: {description: 报表内容（表头、行、元数据）, content: {application/json: {schema: {type: object}}}}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Error'}
        404: {$ref: '#/components/responses/Error'}
        422: {$ref: '#/components/responses/Error'}
    """
    from app.reporting.flat import to_json
    from app.views.reports import _request_from_args

    session = get_session()
    registry = reports.registry_for(current_app, session)
    req = _request_from_args(report_id[:100])
    try:
        if effective_unmasked(session, registry.get(req.report_id, req.version)):
            g.api_purpose = audit.require_purpose(request.args.get("purpose"), "报表")
        report = reports.build_report(get_db(), session, registry, g.user, req)
    except KeyError:
        raise NotFound(Issue("not-found", f"报表“{report_id[:100]}”不存在")) from None
    g.api_records = sum(len(s.rows) for s in report.sheets)
    buffer = io.BytesIO()
    buffer.write(json.dumps(to_json(report), ensure_ascii=False).encode())
    return current_app.response_class(buffer.getvalue(), mimetype="application/json")


@bp.get("/changes")
def change_feed() -> Response:
    """Changes since a data version, cursor-paginated.
    ---
    get:
      summary: 变更流（自某数据版本以来、本部门可见记录的变更）
      description: >
        按变更顺序返回；next_cursor 非空时用它继续取下一页。部门只看到其业务范围内的人员、户及可见标签，
        个人信息字段按授权脱敏。
      parameters:
        - {name: since, in: query, schema: {type: integer, minimum: 0}, description: 数据版本（不含）}
        - {name: cursor, in: query, schema: {type: integer, minimum: 0}, description: 上一页的 next_cursor}
        - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 500}}
      responses:
        200:
          description: 一页变更
          content:
            application/json:
              schema:
                type: object
                properties:
                  changes: {type: array, items: {$ref: '#/components/schemas/Change'}}
                  next_cursor: {type: integer, nullable: true}
                  data_version: {type: integer}
        401: {$ref: '#/components/responses/Unauthorized'}
        422: {$ref: '#/components/responses/Error'}
    """
    session = get_session()
    since = _int_arg("since", 0, 0, 2**31 - 1)
    cursor = _int_arg("cursor", 0, 0, 2**31 - 1)
    limit = _int_arg("limit", 100, 1, FEED_LIMIT)
    user = g.user
    out: list[dict[str, Any]] = []
    last = cursor
    while len(out) < limit:
        page = list(session.execute(
            select(ChangeLog).where(ChangeLog.id > last, ChangeLog.batch_id > since).order_by(ChangeLog.id).limit(limit * 2)
        ).scalars())
        if not page:
            last = None  # type: ignore[assignment]
            break
        visible = _visible_entries(session, user, page)
        for entry in page:
            last = int(entry.id)  # type: ignore[arg-type]
            if entry.id in visible:
                out.append(visible[entry.id])
                if len(out) >= limit:
                    break
    newest = session.execute(select(ChangeLog.batch_id).order_by(ChangeLog.batch_id.desc()).limit(1)).scalar()
    g.api_records = len(out)
    more = last is not None and session.execute(
        select(ChangeLog.id).where(ChangeLog.id > last, ChangeLog.batch_id > since).limit(1)).first() is not None
    return jsonify({"changes": out, "next_cursor": last if more else None, "data_version": int(newest or 0)})


def _visible_entries(session: Any, user: Any, page: list[ChangeLog]) -> dict[int, dict[str, Any]]:
    """The entries of ``page`` the caller may see, as JSON, personal fields masked as for its pages."""
    from app.services.scope import scope_of

    scope = scope_of(user)
    ids: dict[str, set[int]] = {"person": set(), "household": set(), "tag": set()}
    for e in page:
        if e.entity in ids and e.entity_id.isascii() and e.entity_id.isdigit():
            ids[e.entity].add(int(e.entity_id))
    tags = {t.id: t for t in session.execute(select(Tag).where(Tag.id.in_(ids["tag"]))).scalars()} if ids["tag"] else {}
    ids["person"] |= {t.person_id for t in tags.values() if t.person_id}
    ids["household"] |= {t.household_id for t in tags.values() if t.household_id}
    persons = set(session.execute(select(Person.id).where(
        Person.id.in_(ids["person"]), scope.clause(Person.area_code),
        person_need_to_know(session, user, Person.id, Person.household_id))).scalars()) if ids["person"] else set()
    households = set(session.execute(select(Household.id).where(
        Household.id.in_(ids["household"]), scope.clause(Household.area_code),
        household_need_to_know(session, user, Household.id))).scalars()) if ids["household"] else set()
    allowed = unmasked_fields(session, user)
    hidden = hidden_tags(session, user)
    departments = dict(session.execute(select(TagType.code, TagType.department)).all()) if tags else {}
    out: dict[int, dict[str, Any]] = {}
    for e in page:
        if not (e.entity_id.isascii() and e.entity_id.isdigit()):
            continue
        key = int(e.entity_id)
        if e.entity == "person":
            ok = key in persons
        elif e.entity == "household":
            ok = key in households
        elif e.entity == "tag" and key in tags:
            t = tags[key]
            ok = t.tag_code not in hidden and (t.person_id in persons or t.household_id in households)
        else:
            ok = not needs_to_know(user) and user.role == "admin"
        if not ok:
            continue
        olds = mask_values(session, user, {k: v[0] for k, v in e.changes.items() if isinstance(v, list) and len(v) == 2}, fields=allowed)
        news = mask_values(session, user, {k: v[1] for k, v in e.changes.items() if isinstance(v, list) and len(v) == 2}, fields=allowed)
        if e.entity == "tag" and "attrs" in olds:
            department = departments.get(tags[key].tag_code)
            olds["attrs"], news["attrs"] = (_feed_attrs(session, user, department, olds["attrs"], allowed),
                                            _feed_attrs(session, user, department, news["attrs"], allowed))
        out[int(e.id)] = {"id": e.id, "data_version": e.batch_id, "entity": e.entity, "entity_id": e.entity_id,
                          "action": e.action, "effective_date": e.effective_date.isoformat() if e.effective_date else None,
                          "changes": {k: [olds[k], news[k]] for k in olds}}
    return out


def _feed_attrs(session: Any, user: Any, department: str | None, attrs: Any, allowed: frozenset[str]) -> Any:
    """A tag's attributes in the feed: withheld for another department's tag without the ``tag_attributes``
    grant; ID-derived ones (残疾证号) masked unless the ID number is granted."""
    from app.reporting.safe import mask_id_number

    if not isinstance(attrs, dict):
        return attrs
    if not may_see_tag_attributes(session, user, department):
        return None
    if "id_number" in allowed:
        return attrs
    return {k: (mask_id_number(v) if k in ID_DERIVED and v else v) for k, v in attrs.items()}


@bp.get("/codelists")
def codelist_index() -> Response:
    """All code lists.
    ---
    get:
      summary: 代码表（全部）
      responses:
        200: {description: '{代码表名: {代码: 名称}}', content: {application/json: {schema: {type: object}}}}
        401: {$ref: '#/components/responses/Unauthorized'}
    """
    lists = code_lists(get_session())
    g.api_records = len(lists)
    return jsonify({"code_lists": lists})


@bp.get("/codelists/<name>")
def codelist(name: str) -> Response:
    """One code list.
    ---
    get:
      summary: 代码表（一个）
      parameters:
        - {name: name, in: path, required: true, schema: {type: string}}
      responses:
        200: {description: '{代码: 名称}', content: {application/json: {schema: {type: object}}}}
        401: {$ref: '#/components/responses/Unauthorized'}
        404: {$ref: '#/components/responses/Error'}
    """
    lists = code_lists(get_session())
    if name not in lists:
        raise NotFound(Issue("not-found", f"代码表“{name[:50]}”不存在", hint="可选：" + "、".join(sorted(lists))))
    g.api_records = len(lists[name])
    return jsonify({"name": name, "codes": lists[name]})


# ------------------------------------------------------------------------------------------ description


def build_spec() -> dict[str, Any]:
    """The OpenAPI 3 document of every /api/ route, from the view docstrings (apispec)."""
    spec = APISpec(title="一表通数据共享接口", version="1", openapi_version="3.0.3",
                   info={"description": "部门系统以令牌拉取共享数据；所有调用均记入审计。错误统一为 {error: {status, issues}}。"
                                        f"每个令牌每分钟最多调用 {current_app.config['YBT_API_CALLS_PER_MINUTE']} 次（0 为不限），"
                                        "超过时返回 429 及 Retry-After（秒）。"})
    spec.components.security_scheme("token", {"type": "http", "scheme": "bearer", "description": "ybt api-token create --department D"})
    spec.components.schema("Issue", {"type": "object", "required": ["code", "message"], "properties": {
        "code": {"type": "string"}, "message": {"type": "string"}, "location": {"type": "object"},
        "hint": {"type": "string", "nullable": True}, "severity": {"type": "string"}}})
    spec.components.schema("Error", {"type": "object", "properties": {"error": {"type": "object", "properties": {
        "status": {"type": "integer"}, "issues": {"type": "array", "items": {"$ref": "#/components/schemas/Issue"}}}}}})
    spec.components.schema("ReportSummary", {"type": "object", "properties": {
        "id": {"type": "string"}, "version": {"type": "integer"}, "title": {"type": "string"},
        "department": {"type": "string"}, "kind": {"type": "string"}, "frequency": {"type": "string", "nullable": True},
        "url": {"type": "string"}}})
    spec.components.schema("Change", {"type": "object", "properties": {
        "id": {"type": "integer"}, "data_version": {"type": "integer"}, "entity": {"type": "string"},
        "entity_id": {"type": "string"}, "action": {"type": "string"}, "effective_date": {"type": "string", "nullable": True},
        "changes": {"type": "object", "additionalProperties": {"type": "array"}}}})
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    spec.components.response("Error", {"description": "错误（统一格式）", **error})
    spec.components.response("Unauthorized", {"description": "缺少或无效的令牌", **error})
    spec.components.response("RateLimited", {"description": "调用过于频繁", "headers": {
        "Retry-After": {"description": "几秒后可再调用", "schema": {"type": "integer", "minimum": 1}}}, **error})
    for rule in sorted(current_app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.endpoint.startswith("api.") or rule.endpoint in PUBLIC:
            continue
        view = current_app.view_functions[rule.endpoint]
        operations = load_operations_from_docstring(view.__doc__ or "")
        for op in operations.values():
            op.setdefault("security", [{"token": []}])
            op.setdefault("responses", {}).setdefault(429, {"$ref": "#/components/responses/RateLimited"})
            op.setdefault("tags", ["数据共享"])
        path = rule.rule
        for arg in rule.arguments:
            path = path.replace(f"<{arg}>", f"{{{arg}}}").replace(f"<int:{arg}>", f"{{{arg}}}")
        spec.path(path=path, operations=operations)
    return spec.to_dict()


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(build_spec())


@bp.get("/docs")
def docs() -> str:
    """A plain rendering of the OpenAPI document (no external scripts or CDN)."""
    return render_template("api/docs.html", spec=build_spec())
