"""``importers.model.Values``: a record's values once read, compact and read-only, behaving as the dict it
replaces for everything the apply layer does with it (issue 15 item 7: memory of a 50 MB upload)."""

from __future__ import annotations

import pickle

import pytest

from importers.model import Record, SourceRow, Values, compact


def test_values_read_like_the_dict() -> None:
    plain = {"id_number": "339901198501010011", "name": "孙三", "household_number": None}
    v = Values(plain)
    assert v == plain and plain == v and dict(v) == plain and {**v, "x": 1} == {**plain, "x": 1}
    assert (v["name"], v.get("name"), v.get("phone"), v.get("phone", "-")) == ("孙三", "孙三", None, "-")
    assert "household_number" in v and "phone" not in v and len(v) == 3 and list(v) == list(plain)
    assert list(v.items()) == list(plain.items())
    with pytest.raises(KeyError):
        v["phone"]
    with pytest.raises(TypeError):
        v["name"] = "改"  # type: ignore[index]
    assert pickle.loads(pickle.dumps(v)) == plain
    assert repr(v) == repr(plain)


def test_records_of_one_shape_share_one_index() -> None:
    rows = [Record("person", str(i), {"id_number": str(i), "name": f"人{i}"}, SourceRow("s", i, {})) for i in range(3)]
    compact(rows)
    assert all(isinstance(r.values, Values) for r in rows)
    assert rows[0].values._index is rows[2].values._index  # the field names are held once
    assert [r.values["name"] for r in rows] == ["人0", "人1", "人2"]
    assert compact(rows) is rows  # already compact: left as is
