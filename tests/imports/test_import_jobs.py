"""Background import jobs (issue 15 item 7): queued → running → done for a preview and an apply, the
failure path with a Chinese message, a job left by a dead process marked failed, the scope of the job
pages and their JSON status, and the real background thread behind the upload form."""

from __future__ import annotations

import io
import os
import re
import socket
import time

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hand_county import VILLAGE_A, VILLAGE_B
from ledger import PASSWORD, build_county, dead_pid
from sqlalchemy import select
from test_end_to_end import LI, SUN, ZHOU, workbook

from app.db import get_db
from app.models import ImportBatch, ImportJob, ImportJobFile, Person
from app.services import import_jobs, imports


@pytest.fixture
def county(app: Flask):
    with get_db(app).session() as session:
        county = build_county(session)
        session.commit()
    return county


def _job(app: Flask, job_id: int) -> ImportJob:
    with get_db(app).session() as session:
        return session.get(ImportJob, job_id)


def _last_job(app: Flask) -> ImportJob:
    with get_db(app).session() as session:
        return session.execute(select(ImportJob).order_by(ImportJob.id.desc())).scalars().first()


def _names(app: Flask) -> set[str]:
    with get_db(app).session() as session:
        return set(session.execute(select(Person.id_number)).scalars())


def test_preview_then_apply_lifecycle(app: Flask, county) -> None:
    with get_db(app).session() as session:
        job = import_jobs.submit_preview(session, county.cadre_a, workbook(), "甲村花名册.xlsx", area_code=VILLAGE_A)
        job_id = job.id
    queued = _job(app, job_id)
    assert (queued.state, queued.kind, queued.area_code, queued.actor_id, queued.import_id) == (
        "queued", "preview", VILLAGE_A, county.cadre_a.id, None)
    with get_db(app).session() as session:
        assert session.get(ImportJobFile, job_id) is not None  # the upload waits with the job

    import_jobs.run_job(app, job_id)
    done = _job(app, job_id)
    assert done.state == "done" and done.started_at is not None and done.finished_at is not None
    assert done.message == "预览完成（未写入）：写入 3 行，未变 0 行，冲突 0 行，拒绝 0 行"
    with get_db(app).session() as session:
        batch = session.get(ImportBatch, done.import_id)
        assert (batch.status, batch.file_name, batch.counts["applied"]) == ("previewed", "甲村花名册.xlsx", 3)
        assert session.get(ImportJobFile, job_id) is None  # the bytes now live with the import
    assert not {SUN, LI, ZHOU} & _names(app)  # a preview writes nothing

    with get_db(app).session() as session:
        apply_job = import_jobs.submit_apply(session, county.cadre_a, done.import_id)
        apply_id = apply_job.id
    import_jobs.run_job(app, apply_id)
    applied = _job(app, apply_id)
    assert (applied.state, applied.kind, applied.import_id) == ("done", "apply", done.import_id)
    assert applied.message == "已导入：写入 3 行，未变 0 行，冲突 0 行，拒绝 0 行"
    assert applied.done == applied.total > 0
    assert {SUN, LI, ZHOU} <= _names(app)
    status = import_jobs.status(applied)
    assert (status["state"], status["percent"], status["finished"]) == ("done", 100, True)
    # a job runs once: running it again changes nothing
    import_jobs.run_job(app, apply_id)
    assert _job(app, apply_id).finished_at == applied.finished_at


def test_failures_carry_a_chinese_message(app: Flask, county, monkeypatch: pytest.MonkeyPatch) -> None:
    with get_db(app).session() as session:
        preview, _ = imports.run_import(session, county.cadre_a, workbook(), "甲村花名册.xlsx", area_code=VILLAGE_A)
        job = import_jobs.submit_apply(session, county.cadre_a, preview.id)
        job_id = job.id
        # a second apply of the same import while the first is queued is refused at once
        with pytest.raises(Exception, match="已在执行中"):
            import_jobs.submit_apply(session, county.cadre_a, preview.id)
        session.rollback()
        imports.discard_import(session, county.cadre_a, preview.id)  # the import is discarded before the job runs
    import_jobs.run_job(app, job_id)
    failed = _job(app, job_id)
    assert failed.state == "failed" and failed.finished_at is not None
    assert failed.message == "该导入的状态是“已放弃”，只有预览过或写入中断的导入可以执行"
    assert not {SUN, LI, ZHOU} & _names(app)

    # an unexpected error inside the job: failed, with a Chinese message, nothing written
    def boom(*_args, **_kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(imports, "run_import", boom)
    with get_db(app).session() as session:
        job_id = import_jobs.submit_preview(session, county.cadre_a, workbook(), "甲村花名册.xlsx", area_code=VILLAGE_A).id
    import_jobs.run_job(app, job_id)
    failed = _job(app, job_id)
    assert failed.state == "failed"
    assert failed.message == "导入时发生内部错误（RuntimeError），未写入任何数据；请稍后重试，或联系管理员"
    with get_db(app).session() as session:
        assert session.get(ImportJobFile, job_id) is None

    # refused before a job exists: another village, an empty file
    with get_db(app).session() as session, pytest.raises(Exception, match="超出您的管辖范围"):
        import_jobs.submit_preview(session, county.cadre_a, workbook(), "x.xlsx", area_code=VILLAGE_B)
    with get_db(app).session() as session, pytest.raises(Exception, match="文件是空的"):
        import_jobs.submit_preview(session, county.cadre_a, b"", "x.xlsx", area_code=VILLAGE_A)


def test_jobs_of_a_gone_process_are_marked_failed(app: Flask, county) -> None:
    host = socket.gethostname()[:60]
    runners = {
        "dead-preview": (f"{host}:{dead_pid()}", "running", "preview"),
        "dead-apply": (f"{host}:{dead_pid()}", "queued", "apply"),
        "this-process-unknown": (f"{host}:{os.getpid()}", "running", "preview"),  # a restarted server with the same pid
        "live-other-worker": (f"{host}:{os.getppid()}", "running", "preview"),
        "other-host": ("another-host:12345", "running", "preview"),
        "finished": (f"{host}:{dead_pid()}", "done", "preview"),
    }
    ids = {}
    with get_db(app).session() as session:
        for name, (runner, state, kind) in runners.items():
            job = ImportJob(kind=kind, actor_id=county.cadre_a.id, area_code=VILLAGE_A, file_name=f"{name}.xlsx", runner=runner,
                            state=state)
            session.add(job)
            session.flush()
            ids[name] = job.id
        session.commit()
        assert import_jobs.fail_stale_jobs(session) == 3
    states = {name: _job(app, i).state for name, i in ids.items()}
    assert states == {"dead-preview": "failed", "dead-apply": "failed", "this-process-unknown": "failed",
                      "live-other-worker": "running", "other-host": "running", "finished": "done"}
    assert _job(app, ids["dead-preview"]).message == "服务在处理这项导入时重启或中断，导入未完成；请重新上传文件"
    assert _job(app, ids["dead-apply"]).message == "服务在处理这项导入时重启或中断，导入未完成，没有写入任何数据；请重新执行导入"
    # looking at the list is enough to sweep: nothing of this host stays "running" without a process
    with get_db(app).session() as session:
        listed = {j.file_name: j.state for j in import_jobs.list_jobs(session, county.cadre_a)}
    assert listed["dead-preview.xlsx"] == "failed"


def login(client: FlaskClient, username: str) -> None:
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302


def upload(client: FlaskClient, content: bytes, name: str = "甲村花名册.xlsx"):
    return client.post("/imports/", data={"file": (io.BytesIO(content), name), "area": VILLAGE_A, "policy": "queue"},
                       content_type="multipart/form-data")


def test_status_endpoint_scope(app: Flask, client: FlaskClient, county) -> None:
    with get_db(app).session() as session:
        job_id = import_jobs.submit_preview(session, county.cadre_a, workbook(), "甲村花名册.xlsx", area_code=VILLAGE_A).id
    login(client, "cadre_a")
    status = client.get(f"/imports/jobs/{job_id}/status")
    assert status.status_code == 200
    assert status.json["state"] == "queued" and status.json["state_label"] == "排队中" and status.json["result_url"] is None
    page = client.get(f"/imports/jobs/{job_id}")
    assert page.status_code == 200 and "甲村花名册.xlsx" in page.text and "js/import-job.js" in page.text
    assert "<script>" not in page.text  # no inline script (CSP)
    client.post("/logout")
    login(client, "cadre_b")  # another village: not found, not even its existence
    assert client.get(f"/imports/jobs/{job_id}/status").status_code == 404
    assert client.get(f"/imports/jobs/{job_id}").status_code == 404
    assert "甲村花名册.xlsx" not in client.get("/imports/").text
    assert client.get("/imports/jobs/99999999/status").status_code == 404
    client.post("/logout")
    login(client, "town_1")  # the township over the village sees it
    assert client.get(f"/imports/jobs/{job_id}/status").status_code == 200


def test_upload_runs_in_the_background_thread(app: Flask, client: FlaskClient, county) -> None:
    app.config["YBT_IMPORT_JOBS"] = "thread"
    login(client, "cadre_a")
    response = upload(client, workbook())
    assert response.status_code == 302
    match = re.search(r"/imports/jobs/(\d+)\?follow=1$", response.headers["Location"])
    assert match, response.headers["Location"]
    job_id = int(match[1])
    assert import_jobs.wait_idle(120)
    status = client.get(f"/imports/jobs/{job_id}/status").json
    assert status["state"] == "done", status
    assert re.fullmatch(r"/imports/\d+", status["result_url"])
    preview = client.get(status["result_url"])
    assert "这是预览" in preview.text and "孙三" in preview.text
    listing = client.get("/imports/").text
    assert "我的导入" in listing and f"/imports/jobs/{job_id}" in listing and "已完成" in listing
    # apply in the background too
    import_id = int(status["result_url"].rsplit("/", 1)[1])
    response = client.post(f"/imports/{import_id}/apply", data={"policy": "queue"})
    apply_id = int(re.search(r"/imports/jobs/(\d+)\?follow=1$", response.headers["Location"])[1])
    deadline = time.monotonic() + 120
    while client.get(f"/imports/jobs/{apply_id}/status").json["state"] not in ("done", "failed") and time.monotonic() < deadline:
        time.sleep(0.2)
    status = client.get(f"/imports/jobs/{apply_id}/status").json
    assert status["state"] == "done" and status["message"].startswith("已导入：写入 3 行")
    assert {SUN, LI, ZHOU} <= _names(app)


def test_an_interrupted_apply_is_continued_from_the_web(app: Flask, client: FlaskClient, county,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """An apply job that fails after its first chunks: the job says what stayed, the import page says 写入中断
    with 继续执行 (and no 放弃), and continuing completes the import."""
    from app.services import persons as person_service
    from app.services.ledger_import import apply as apply_module

    monkeypatch.setattr(apply_module, "CHUNK_RECORDS", 2)
    monkeypatch.setattr(apply_module, "SQLITE_CHUNK_PAUSE_S", 0.0)
    login(client, "cadre_a")
    import_id = int(re.fullmatch(r"/imports/(\d+)", upload(client, workbook()).headers["Location"])[1])  # inline under TESTING
    real = person_service.check_person

    def fails_on_zhou(session, values, *args, **kwargs):  # 周五 is the last person of the file
        if values.get("id_number") == ZHOU:
            raise RuntimeError("disk full")
        return real(session, values, *args, **kwargs)

    monkeypatch.setattr(person_service, "check_person", fails_on_zhou)
    from app.services.ledger_import import writes
    fast = writes.FastPersonCheck.check
    monkeypatch.setattr(writes.FastPersonCheck, "check",  # every person through check_person
                        lambda self, values: None if self.is_person else fast(self, values))
    assert client.post(f"/imports/{import_id}/apply", data={"policy": "queue"}).headers["Location"] == f"/imports/{import_id}"
    apply_job = _last_job(app)
    assert apply_job.state == "failed"
    assert apply_job.message == ("导入时发生内部错误（RuntimeError），已写入的部分保留，可在导入详情页点“继续执行”完成导入；"
                                 "请稍后重试，或联系管理员")
    written = _names(app)
    assert SUN in written and ZHOU not in written
    page = client.get(f"/imports/{import_id}").text
    assert 'id="partial"' in page and "写入中断" in page and "继续执行" in page and ">放弃<" not in page

    monkeypatch.setattr(person_service, "check_person", real)
    assert client.post(f"/imports/{import_id}/apply", data={"policy": "queue"}).headers["Location"] == f"/imports/{import_id}"
    done = _last_job(app)
    assert done.state == "done", done.message
    assert {SUN, LI, ZHOU} <= _names(app)
    page = client.get(f"/imports/{import_id}").text
    assert "已导入" in page and "曾中断后继续执行" in page and 'id="partial"' not in page


def test_a_dead_apply_leaves_its_import_partial(app: Flask, county) -> None:
    """The process died between chunks: the sweep marks the job failed, saying what stayed, and the import
    写入中断 (continued with 继续执行); an import with nothing committed stays as it was."""
    from app.models import ChangeBatch

    host = socket.gethostname()[:60]
    with get_db(app).session() as session:
        cut = ImportBatch(file_name="中断.xlsx", sha256="a" * 64, area_code=VILLAGE_A, status="applying", actor_id=county.cadre_a.id)
        untouched = ImportBatch(file_name="未开始.xlsx", sha256="b" * 64, area_code=VILLAGE_A, status="previewed",
                                actor_id=county.cadre_a.id)
        session.add_all([cut, untouched])
        session.flush()
        session.add_all([ChangeBatch(source="import", import_id=cut.id), ChangeBatch(source="import", import_id=cut.id)])
        jobs = [ImportJob(kind="apply", actor_id=county.cadre_a.id, area_code=VILLAGE_A, file_name=b.file_name, import_id=b.id,
                          runner=f"{host}:{dead_pid()}", state="running", done=4000, total=9000) for b in (cut, untouched)]
        session.add_all(jobs)
        session.commit()
        ids = [j.id for j in jobs]
        assert import_jobs.fail_stale_jobs(session) == 2
        session.expire_all()
        assert _job(app, ids[0]).message == ("服务在写入这项导入时重启或中断，已写入的 2 块（约 4000 条记录）保留；"
                                             "请在导入详情页点“继续执行”完成导入")
        assert _job(app, ids[1]).message == "服务在处理这项导入时重启或中断，导入未完成，没有写入任何数据；请重新执行导入"
        cut = session.get(ImportBatch, cut.id)
        assert cut.status == "partial" and cut.summary["interrupted"]["done"] == 4000
        assert cut.change_batch_id == min(session.execute(select(ChangeBatch.id).where(ChangeBatch.import_id == cut.id)).scalars())
        assert session.get(ImportBatch, untouched.id).status == "previewed"


def test_a_silent_job_of_another_host_is_failed(app: Flask, county) -> None:
    """Several app servers share the database: a running job of another host is judged by its last sign of
    life (progress written every few seconds), not by a pid this host cannot see."""
    from datetime import timedelta

    from app.models.base import utcnow

    now = utcnow()
    with get_db(app).session() as session:
        jobs = {
            "silent": ImportJob(kind="preview", actor_id=county.cadre_a.id, area_code=VILLAGE_A, file_name="a.xlsx",
                                runner="other-host:41", state="running", started_at=now - timedelta(hours=1),
                                heartbeat_at=now - timedelta(minutes=20)),
            "alive": ImportJob(kind="preview", actor_id=county.cadre_a.id, area_code=VILLAGE_A, file_name="b.xlsx",
                               runner="other-host:42", state="running", started_at=now - timedelta(hours=1),
                               heartbeat_at=now - timedelta(minutes=1)),
            "queued": ImportJob(kind="preview", actor_id=county.cadre_a.id, area_code=VILLAGE_A, file_name="c.xlsx",
                                runner="other-host:43", state="queued", created_at=now - timedelta(hours=1)),
        }
        session.add_all(jobs.values())
        session.commit()
        ids = {k: j.id for k, j in jobs.items()}
        assert import_jobs.fail_stale_jobs(session) == 1
    assert {k: _job(app, i).state for k, i in ids.items()} == {"silent": "failed", "alive": "running", "queued": "queued"}
    assert _job(app, ids["silent"]).message == "服务在处理这项导入时重启或中断，导入未完成；请重新上传文件"


def test_a_running_job_writes_signs_of_life(app: Flask, county, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(import_jobs, "PERSIST_EVERY_S", 0.0)
    with get_db(app).session() as session:
        job_id = import_jobs.submit_preview(session, county.cadre_a, workbook(), "甲村花名册.xlsx", area_code=VILLAGE_A).id
    import_jobs.run_job(app, job_id)
    done = _job(app, job_id)
    assert done.state == "done" and done.heartbeat_at is not None and done.heartbeat_at >= done.started_at
