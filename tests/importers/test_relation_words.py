"""Issue 15: the colloquial relation words of village ledgers mapped to GB/T 4761 codes (no database)."""

from __future__ import annotations

from datetime import date

from legacy_ledgers import TODAY, code_lists, pid

from importers.pipeline import parse_file

CL = code_lists()
WORDS = [("户主", "02"), ("老伴", "10"), ("老伴儿", "10"), ("爱人", "10"), ("老公", "11"), ("老婆", "12"), ("媳妇儿", "12"),
         ("女婿", "28"), ("外孙", "43"), ("外孙女", "44"), ("孙媳妇", "45"), ("曾孙", "47"), ("重孙女", "48"), ("丈母娘", "56"),
         ("小儿子", "29"), ("孙女婿", "46")]


def test_colloquial_relation_words() -> None:
    lines = ["户号,姓名,身份证号,与户主关系"]
    ids = []
    for i, (word, _code) in enumerate(WORDS):
        n = pid(date(1950 + i, 1, 1), 100 + i)
        ids.append(n)
        lines.append(f"H-1,人{i},{n},{word}")
    parsed = parse_file("\n".join(lines).encode(), file_name="花名册.csv", code_lists=CL, today=TODAY)
    persons = {r.key: r for r in parsed.records if r.entity == "person"}
    assert [(persons[n].values.get("relation"), persons[n].issues) for n in ids] == [(code, []) for _w, code in WORDS]
