"""The POST half of the village form pages: parse the sections, call the service, then redirect or re-render.

On an ``IssueError`` the page is re-rendered with the typed values and the issue's status (with the
others' changes when the row version was stale); on success a flash and a redirect.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect, request
from werkzeug.wrappers import Response

from app.issues import Conflict, Issue, IssueError
from app.views.forms import Form
from app.views.village.common import _apply_issues, _others_changes, _render_form, _session, _status_of


def parse_forms(*forms: Form) -> list[dict[str, Any]] | None:
    """Each form's values, or None after marking the forms' issues (the page is then re-rendered with 422)."""
    parsed = [form.parse(request.form) for form in forms]
    if not any(issues for _, issues in parsed):
        return [values for values, _ in parsed]
    for form, (_, issues) in zip(forms, parsed, strict=True):
        form.add_issues(issues)
    return None


def parse_date(when: Form, missing: str) -> dict[str, Any] | None:
    """The values of a one-date form (field ``on``), or None after marking its issues; ``missing`` when left empty."""
    values, issues = when.parse(request.form)
    if not values.get("on") and not issues:
        issues.append(Issue("required", missing, {"field": "on"}))
    if issues:
        when.add_issues(issues)
        return None
    return values


def on_field(*fields: str) -> Callable[[IssueError], IssueError]:
    """Date issues of the service (at ``fields``) shown at the page's date field ``on``."""
    def fix(exc: IssueError) -> IssueError:
        exc.issues = [i.at(field="on") if i.location.get("field") in fields else i for i in exc.issues]
        return exc
    return fix


def save(page: dict[str, Any], call: Callable[[], Any], done: str | Callable[[Any], str],
         to: str | Callable[[Any], str], *,
         others: Callable[[], Any] | None = None, fix: Callable[[IssueError], IssueError] | None = None,
         after: Callable[[], None] | None = None) -> Response | tuple[str, int]:
    """Run ``call`` and commit; flash ``done`` and redirect to ``to`` (either may be a function of the call's
    result), or roll back and re-render the page.

    ``fix`` moves the service's issues onto the page's fields, ``after`` touches the forms once the issues
    are in place, ``others`` gives the others' changes shown on a stale row version (``Conflict``).
    """
    session = _session()
    try:
        result = call()
        session.commit()
    except IssueError as exc:
        session.rollback()
        _apply_issues(fix(exc) if fix else exc, page["sections"])
        if after:
            after()
        if others and isinstance(exc, Conflict):
            page["others"] = others()
        return _render_form(_status_of(exc), **page)
    flash(done(result) if callable(done) else done, "success")
    return redirect(to(result) if callable(to) else to)


def others_since(kind: str, row_id: int, model: type, seen: int, load: Callable[[], Any]) -> Callable[[], Any]:
    """The others' changes to the row ``load()`` since version ``seen``, for ``save(others=...)``."""
    return lambda: _others_changes(_session(), kind, row_id, model, seen, load().row_version)
