"""``ybt import FILE …`` (legacy ledgers), ``ybt import list``, ``ybt flowback FILE --kind …`` and
``ybt flowback alerts``.

``ybt import FILE`` applies unless ``--dry-run``; counts and file-level issues are printed in Chinese;
the exit code is 1 when the file is rejected as a whole.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from flask.cli import AppGroup
from sqlalchemy import select
from sqlmodel import Session

from app import clock
from app.cli.common import fail_on_issues
from app.db import get_db
from app.issues import Issue, ValidationFailed
from app.models import User
from app.models.imports import IMPORT_KINDS, IMPORT_STATUSES, POLICIES
from app.services import imports
from app.services.ledger_import import flowback

ROW_LABELS = {"applied": "写入", "unchanged": "未变", "conflict": "冲突待处理", "rejected": "拒绝"}
RECORD_LABELS = {"new": "新增", "changed": "更新", "unchanged": "未变", "conflict": "冲突", "rejected": "拒绝"}
ENTITY_LABELS = {"person": "人员", "household": "户", "tag": "标签", "organisation": "单位"}


class DefaultFileGroup(AppGroup):
    """A group whose first argument is a file unless it names a subcommand (``ybt import FILE`` and ``ybt import list``)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["file", *args]
        return super().parse_args(ctx, args)


def _actor(session: Session, username: str | None) -> User:
    if username:
        user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
        if user is None or not user.active:
            raise ValidationFailed(Issue("unknown-user", f"账号“{username}”不存在或已停用", {"field": "--user"}))
        return user
    admin = session.execute(select(User).where(User.role == "admin", User.active.is_(True)).order_by(User.id)).scalars().first()
    if admin is None:
        raise ValidationFailed(Issue("user-required", "请用 --user 指定执行导入的账号", {"field": "--user"}))
    click.echo(f"未指定 --user，以管理员“{admin.username}”的身份执行", err=True)
    return admin


def _native(content: bytes) -> bool:
    """Whether the file is read by the native workbook reader (xlsx, xls, ods and other zip or OLE2 files):
    then it is read in the isolated child the web uses, so a crafted file that crashes the reader ends
    in a Chinese message and exit code 1, not in an abort of ``ybt``. CSV text is read in process."""
    from importers.read import sniff

    return sniff(content) in ("zip", "ole2")


def _progress(label: str) -> Any:
    state: dict[str, Any] = {"bar": None, "done": 0}

    def step(done: int, total: int) -> None:
        if state["bar"] is None:
            state["bar"] = click.progressbar(length=max(total, 1), label=label, file=sys.stderr)
            state["bar"].__enter__()
        state["bar"].update(done - state["done"])
        state["done"] = done
        if done >= total:
            state["bar"].__exit__(None, None, None)
            state["bar"] = None

    return step


def _print_counts(counts: dict[str, Any], preview: bool = False) -> None:
    labels = {**ROW_LABELS, "applied": "将写入"} if preview else ROW_LABELS
    click.echo(f"  共 {counts.get('rows_read', counts.get('rows', 0))} 行：" +
               "，".join(f"{label} {counts.get(k, 0)}" for k, label in labels.items()))
    if counts.get("partly_rejected"):
        click.echo(f"  其中 {counts['partly_rejected']} 行部分数据被拒绝（该行其余数据已{'可' if preview else ''}写入）")
    for entity, per in counts.get("records", {}).items():
        click.echo(f"  {ENTITY_LABELS.get(entity, entity)}：" + "，".join(f"{RECORD_LABELS[k]} {v}" for k, v in per.items() if v))


@click.group("import", cls=DefaultFileGroup)
def import_group() -> None:
    """Import legacy ledgers: ``ybt import FILE`` (see ``ybt import file --help``), ``ybt import list``, ``ybt import show ID``."""


@import_group.command("file")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--mapping", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None, help="列映射文件（覆盖同义词识别）")
@click.option("--area", "area_code", default=None,
              help="导入到的村（社区）区划代码；默认为账号的区划（乡镇及以上时按文件中的“所在村”列）")
@click.option("--dry-run", is_flag=True, help="只预览，不写入")
@click.option("--policy", type=click.Choice(list(POLICIES)), default="queue", show_default=True,
              help="文件与系统数据不一致时：queue 进入冲突队列，file 以文件为准，db 以系统为准")
@click.option("--errors-out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="被拒绝的行另存为此 Excel 文件")
@click.option("--user", "username", default=None, help="执行导入的账号（决定可导入的范围）")
@click.option("--effective", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="生效日期（补录旧台账时填台账所反映的日期，如 2024-12-31；默认今天）")
def import_file(path: Path, mapping: Path | None, area_code: str | None, dry_run: bool, policy: str,
                errors_out: Path | None, username: str | None, effective: Any = None) -> None:
    """Import FILE (.xlsx / .xls / .csv): persons, households and tags of one village (or several, by column)."""
    content = path.read_bytes()
    with fail_on_issues(), get_db().session() as session:
        actor = _actor(session, username)
        area = area_code or actor.area_code  # above village level, each row names its village (所在村)
        loaded = None
        if mapping is not None:
            from importers.mapping import load_mapping

            loaded = load_mapping(mapping)
        parsed = imports.parse(session, content, path.name, mapping=loaded, on_progress=_progress("读取"),
                               isolated=_native(content))
        batch, result = imports.run_import(session, actor, content, path.name, area_code=area, policy=policy, dry_run=dry_run,
                                           parsed=parsed, apply_progress=_progress("比对" if dry_run else "写入"),
                                           effective=effective.date() if effective is not None else None)
        click.echo(f"{'预览（未写入）' if dry_run else '导入'} {path.name} → {area}：第 {batch.id} 次导入，"
                   f"{IMPORT_STATUSES[batch.status]}")
        _print_counts(batch.counts, preview=dry_run)
        for note in batch.summary.get("notes", []):
            click.echo(f"  注意：{note}")
        for issue in parsed.issues:
            click.echo(f"  [{issue.code}] {issue}", err=True)
        rejected = [i for o in result.outcomes if o.status == "rejected" for i in o.issues]
        for issue in rejected[:20]:
            click.echo(f"  拒绝 [{issue.code}] {issue}", err=True)
        if len(rejected) > 20:
            click.echo(f"  …另有 {len(rejected) - 20} 个问题", err=True)
        if errors_out is not None and batch.counts.get("rejected"):
            errors_out.parent.mkdir(parents=True, exist_ok=True)
            errors_out.write_bytes(imports.rejected_workbook(parsed, result))
            click.echo(f"  被拒绝的行已写入 {errors_out}")
        if batch.counts.get("conflict") and not dry_run and policy == "queue":
            click.echo(f"  {batch.counts['conflict_fields']} 个字段不一致，已进入冲突队列：在网页“导入 → 冲突处理”中逐项确认")
    if batch.status == "rejected":
        raise click.ClickException("文件被拒绝，未写入任何数据")


@import_group.command("list")
@click.option("--user", "username", default=None, help="以该账号的范围列出")
@click.option("--limit", default=30, show_default=True)
def import_list(username: str | None, limit: int) -> None:
    """List imports (ledgers and flow-back lists), newest first, with their counts."""
    with fail_on_issues(), get_db().session() as session:
        actor = _actor(session, username)
        for b in imports.list_imports(session, actor, limit=limit):
            counts = b.counts
            if b.kind == "ledger":
                what = "，".join(f"{label} {counts.get(k, 0)}" for k, label in ROW_LABELS.items())
            else:
                what = f"匹配 {counts.get('matched', 0)}，未匹配 {counts.get('unmatched', 0)}，不一致 {counts.get('mismatched', 0)}，" \
                       f"提醒 {counts.get('alerts', 0)}"
            click.echo(f"#{b.id:<5} {clock.display(b.created_at)} {IMPORT_KINDS[b.kind]:<8} {IMPORT_STATUSES[b.status]:<10} "
                       f"{b.area_code or '':<12} {b.file_name}  {what}")


@import_group.command("apply")
@click.argument("import_id", type=click.IntRange(1, 2**31 - 1))
@click.option("--policy", type=click.Choice(list(POLICIES)), default=None, help="冲突处理方式（默认沿用预览时的选择）")
@click.option("--user", "username", default=None, help="执行导入的账号")
def import_apply(import_id: int, policy: str | None, username: str | None) -> None:
    """Apply the previewed import IMPORT_ID, or complete one whose writing was interrupted (写入中断)."""
    with fail_on_issues(), get_db().session() as session:
        actor = _actor(session, username)
        batch, _result = imports.apply_import(session, actor, import_id, policy=policy, on_progress=_progress("读取"),
                                              apply_progress=_progress("写入"))
        click.echo(f"导入 #{batch.id} {batch.file_name}：{IMPORT_STATUSES[batch.status]}")
        _print_counts(batch.counts)
        if batch.summary.get("resumed"):
            click.echo("  这次导入曾中断后继续执行：先前已写入的行在此计为“未变”")


@import_group.command("show")
@click.argument("import_id", type=int)
@click.option("--user", "username", default=None, help="以该账号的范围查看")
@click.option("--limit", default=50, show_default=True, help="最多列出的修改记录条数")
def import_show(import_id: int, username: str | None, limit: int) -> None:
    """Show one import: its counts and the change-log entries it wrote."""
    with fail_on_issues(), get_db().session() as session:
        actor = _actor(session, username)
        batch = imports.get_import(session, actor, import_id)
        click.echo(f"#{batch.id} {IMPORT_KINDS[batch.kind]} {batch.file_name}（sha256 {batch.sha256[:12]}…）"
                   f"{IMPORT_STATUSES[batch.status]}，导入到 {batch.area_code}，{POLICIES[batch.policy]}")
        _print_counts(batch.counts, preview=batch.status == "previewed")
        changes, total = imports.import_changes(session, actor, import_id, limit=limit)
        click.echo(f"修改记录 {total} 条" + (f"（列出前 {len(changes)} 条）" if total > len(changes) else "") + "：")
        for entry in changes:
            fields = "；".join(f"{k}: {old} → {new}" for k, (old, new) in entry.changes.items())
            click.echo(f"  {entry.entity}#{entry.entity_id} {entry.action} {entry.effective_date or ''} {fields}")
        if batch.change_batch_id is not None:
            from app.services import tags as tag_service

            pending = tag_service.pending_tags(session, actor, import_id=batch.id, limit=limit)
            if pending:
                click.echo(f"待补充 {len(pending)} 项（标签已导入，缺少必填属性）：")
            for tag, tag_type, subject in pending:
                labels = {a["name"]: a.get("label", a["name"]) for a in tag_type.attributes}
                who = f"{subject.name}（{subject.id_number}）" if tag_type.subject == "person" else f"户 {subject.number}"
                missing = "、".join(labels.get(n, n) for n in tag.pending_attrs or [])
                click.echo(f"  {tag_type.name} {who}：{missing}")


@click.group("flowback", cls=DefaultFileGroup)
def flowback_group() -> None:
    """Flow-back lists from higher levels: ``ybt flowback FILE --kind …``, ``ybt flowback alerts``."""


@flowback_group.command("file")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--kind", type=click.Choice(list(flowback.KINDS)), required=True,
              help="deaths 死亡名单 / moves 户籍迁出 / disability 残疾证 / pension 养老金领取")
@click.option("--user", "username", default=None, help="执行导入的账号（只核对其管辖范围内的人员）")
def flowback_file(path: Path, kind: str, username: str | None) -> None:
    """Reconcile a list with the base data and raise alerts (nothing changes until a cadre confirms)."""
    with fail_on_issues(), get_db().transaction() as session:
        actor = _actor(session, username)
        content = path.read_bytes()
        batch = flowback.reconcile(session, actor, kind, content, path.name, isolated=_native(content))
        c = batch.counts
        click.echo(f"{flowback.KINDS[kind]} {path.name}：第 {batch.id} 次导入，共 {c['rows']} 行：匹配 {c['matched']}，"
                   f"未匹配 {c['unmatched']}，信息不一致 {c['mismatched']}，无法识别 {c['rejected']}；"
                   f"新提醒 {c['alerts']} 条")
        for issue in batch.summary.get("file_issues", []):
            click.echo(f"  [{issue['code']}] {issue['where']}：{issue['message']}", err=True)
        for row in batch.summary["samples"].get("rejected", [])[:20]:
            click.echo(f"  第{row['row']}行：" + "；".join(row["issues"]), err=True)
    if batch.status == "rejected":
        raise click.ClickException("名单被拒绝，未核对")


@flowback_group.command("alerts")
@click.option("--user", "username", default=None)
@click.option("--status", type=click.Choice(["open", "confirmed", "dismissed"]), default="open", show_default=True)
def flowback_alerts(username: str | None, status: str) -> None:
    """List flow-back alerts in the user's area."""
    with fail_on_issues(), get_db().session() as session:
        actor = _actor(session, username)
        for a in flowback.alerts(session, actor, status=status):
            click.echo(f"#{a.id:<5} {flowback.ALERT_KINDS[a.kind]:<14} {a.area_code} {a.name} {a.message}")
