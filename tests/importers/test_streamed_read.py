"""The reader's bounded-memory paths (issue 15 item 7): a CSV decoded as it is read, across the 1 MB
chunks of the encoding check; source rows kept as tuples; the isolated child's result pickled in record
batches and put back together exactly."""

from __future__ import annotations

import io
import pickle
from datetime import date

from test_pipeline import parse

from app.validators.idcard import make_id_number
from importers import isolated, read
from importers.model import ParsedFile, Record, SourceRow


def _big_csv(encoding: str) -> tuple[bytes, list[str]]:
    """A CSV over 1 MB whose multi-byte names fall across the decoder's chunk boundaries."""
    ids, lines = [], ["姓名,身份证号,住址"]
    n = size = 0
    while size < read.CHUNK + 100_000:
        n += 1
        id_number = make_id_number("339901", date(1950 + n % 50, 1 + n % 12, 1 + n % 28), n % 999)
        ids.append(id_number)
        lines.append(f"张{'伟' * (1 + n % 3)},{id_number},东湖村{n}号" + "·" * (n % 5))
        size += len(lines[-1].encode(encoding)) + 2
    return ("\r\n".join(lines) + "\r\n").encode(encoding), ids


def test_big_utf8_and_gbk_csv_read_whole() -> None:
    for encoding in ("utf-8", "gb18030", "utf-16"):
        data, ids = _big_csv(encoding)
        assert len(data) > read.CHUNK
        assert read.csv_encoding(data) == encoding
        parsed = parse(data, name="大台账.csv")
        persons = [r for r in parsed.records if r.entity == "person"]
        assert parsed.rows_read == len(ids), encoding
        assert len({r.key for r in persons}) == len(set(ids))
        last = persons[-1]
        assert last.source.raw["住址"].startswith(f"东湖村{len(ids)}号"), encoding


def test_invalid_bytes_after_the_first_chunk_still_refuse_the_file() -> None:
    data, _ids = _big_csv("utf-8")
    broken = data + "\r\n王五,110101195001010011,".encode() + b"\xff\xfe\xfa\r\n"
    parsed = parse(broken, name="坏.csv")
    assert [i.code for i in parsed.issues] == ["unknown-encoding"]


def test_source_row_keeps_cells_as_a_tuple_and_compares_as_before() -> None:
    a = SourceRow("花名册", 3, {"姓名": "张三", "身份证号": None}, {"name": "A"})
    b = SourceRow("花名册", 4, {"姓名": "李四", "身份证号": "x"}, {"name": "A"})
    assert a.raw == {"姓名": "张三", "身份证号": None} and a._labels is b._labels  # one header tuple per sheet
    again = pickle.loads(pickle.dumps(a))
    assert again == a and again._labels is a._labels and again != b


def test_parsed_file_round_trips_through_record_batches(monkeypatch) -> None:
    monkeypatch.setattr(isolated, "BATCH", 7)
    columns = {"name": "A"}
    records = [Record("person", f"{i:018d}", {"name": f"人{i}"}, SourceRow("表", i + 2, {"姓名": f"人{i}"}, columns))
               for i in range(23)]
    parsed = ParsedFile(file_name="x.csv", sha256="abc", records=records, rows_read=23, sheets=["表"])
    buffer = io.BytesIO()
    isolated._dump(parsed, buffer)
    assert parsed.records is records  # the caller's object is left as it was
    buffer.seek(0)
    back = isolated._load(buffer)
    assert (back.file_name, back.rows_read, back.sheets) == ("x.csv", 23, ["表"])
    assert [(r.key, r.values, r.source.row, r.source.raw) for r in back.records] == \
        [(r.key, r.values, r.source.row, r.source.raw) for r in records]
    # any other value (a flow-back list's rows) goes as it is
    buffer = io.BytesIO()
    isolated._dump(("rows", [[1, 2]]), buffer)
    buffer.seek(0)
    assert isolated._load(buffer) == ("rows", [[1, 2]])


def test_short_repeated_cells_are_one_object_and_long_ones_are_kept() -> None:
    line = "男,汉族,东湖村," + "张" * 20

    def row() -> list:
        return [*line.encode().decode().split(","), 3]  # fresh str objects, as the csv module makes them

    first, second = row(), row()
    assert first[0] is not second[0] and first == second
    a, b = read.shared_cells(iter([first, second]))
    assert a == b == [*line.split(","), 3]
    assert a[0] is b[0] and a[1] is b[1] and a[2] is b[2]  # one str per distinct short value
    assert a[3] is not b[3]  # long text is not looked up
