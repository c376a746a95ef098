"""Matching free text in legacy ledgers to code-list codes: codes, labels, labels without a common
suffix (汉 -> 汉族, 视力 -> 视力残疾) and an alias table of ledger usage (妻, 长子, 党员, 初中 …)."""

from __future__ import annotations

import difflib

#: Free text seen in ledgers -> code, per code list (labels and codes themselves always work).
ALIASES: dict[str, dict[str, str]] = {
    "sex": {"男性": "1", "女性": "2", "m": "1", "f": "2", "male": "1", "female": "2", "未知": "0"},
    "relation": {
        "本人": "02", "户主本人": "02", "之妻": "12", "妻子": "12", "老婆": "12", "丈夫": "11", "之夫": "11", "配偶": "10",
        "儿子": "20", "之子": "20", "长男": "22", "次男": "23", "三男": "24", "女儿": "30", "之女": "30", "三女儿": "34",
        "孙": "41", "外孙": "43", "孙儿": "41", "儿媳妇": "38", "媳妇": "38", "媳": "38", "孙媳": "45", "孙媳妇": "45",
        "父": "51", "母": "52", "父子": "51", "爸爸": "51", "妈妈": "52", "继父": "57", "继母": "58", "养父": "57", "养母": "58",
        "哥哥": "71", "哥": "71", "嫂子": "72", "弟弟": "73", "姐": "75", "妹": "77",
        "爷爷": "61", "奶奶": "62", "外公": "63", "外婆": "64", "祖父母": "60", "外祖父母": "60",
        "养子": "27", "继子": "27", "养女": "37", "继女": "37", "曾孙": "47", "曾孙女": "48",
        "叔叔": "83", "婶婶": "84", "舅舅": "85", "姑姑": "90", "姨": "88", "伯伯": "81",
        "其他亲属": "97", "非亲属": "99", "其它": "80", "保姆": "99", "孙子女": "40",
        # colloquial words (issue 15): spouses, in-laws, grandchildren
        "老伴": "10", "老伴儿": "10", "爱人": "10", "对象": "10", "老公": "11", "老头": "11", "老头子": "11",
        "老婆子": "12", "老太婆": "12", "媳妇儿": "12", "内人": "12",
        "姑爷": "28", "女婿儿": "28", "儿媳儿": "38", "大儿子": "22", "二儿子": "23", "三儿子": "24", "小儿子": "29",
        "大女儿": "32", "二女儿": "33", "小女儿": "39", "长孙": "41", "孙儿子": "41", "外孙儿": "43", "外孙子女": "40",
        "孙女婿": "46", "外孙女婿": "46", "外孙媳": "45", "外孙媳妇": "45", "重孙": "47", "重孙子": "47", "重孙女": "48",
        "曾孙子": "47", "外曾孙": "47", "外曾孙女": "48", "曾外孙": "47", "曾外孙女": "48",
        "丈人": "55", "老丈人": "55", "丈母娘": "56", "侄儿": "93", "侄女儿": "94", "外甥儿": "95",
    },
    "marital_status": {"离异": "40", "已婚有配偶": "20", "有配偶": "20", "未说明": "90"},
    "education": {
        "文盲": "90", "半文盲": "90", "学龄前": "90", "未上学": "90", "小学": "80", "初中": "70", "初级中学": "70",
        "高中": "60", "中专": "41", "中技": "47", "技校": "47", "职高": "44", "大专": "30", "专科": "30", "本科": "20",
        "大学": "20", "研究生": "10", "硕士": "14", "博士": "11",
    },
    "political_status": {"党员": "01", "中共党员": "01", "预备党员": "02", "中共预备党员": "02", "团员": "03",
                         "共青团员": "03", "群众": "13", "无": "13", "民主党派": "12", "无党派": "12"},
    "living_status": {"正常": "1", "健在": "1", "在": "1", "已故": "2", "去世": "2", "死亡": "2", "迁出": "3", "已迁出": "3"},
    "residence_type": {"户籍人口": "1", "常住": "1", "人户分离": "2", "外出": "2", "外来人口": "3", "流动人口": "4"},
    "disability_grade": {"1级": "1", "2级": "2", "3级": "3", "4级": "4", "一": "1", "二": "2", "三": "3", "四": "4",
                         "Ⅰ级": "1", "Ⅱ级": "2", "Ⅲ级": "3", "Ⅳ级": "4", "i级": "1", "ii级": "2", "iii级": "3", "iv级": "4"},
    "dibao_kind": {"城市": "1", "城镇": "1", "城镇低保": "1", "城市最低生活保障": "1", "农村": "2", "农村最低生活保障": "2"},
    "support_mode": {"集中": "1", "分散": "2"},
    "yes_no": {"y": "1", "n": "0", "yes": "1", "no": "0", "有": "1", "无": "0", "true": "1", "false": "0", "√": "1"},
    "household_type": {"家庭": "1", "集体": "2"},
    "org_kind": {"公司": "1", "有限公司": "1", "个体": "2", "合作社": "9", "村委会": "10", "居委会": "10"},
}

_SUFFIXES = ("族", "残疾", "教育", "户", "低保")


class CodeMatcher:
    """Looks values up in the code lists it was built with (one index per list, built on first use)."""

    def __init__(self, code_lists: dict[str, dict[str, str]]):
        self.code_lists = code_lists
        self._index: dict[str, dict[str, str]] = {}

    def lookup(self, list_name: str, text: str) -> str | None:
        """The code for a cleaned cell text, or None."""
        index = self._index.get(list_name) or self._build(list_name)
        key = text.replace(" ", "").lower()
        code = index.get(key)
        if code is None and key.isascii() and key.isdigit():  # 2 -> "02"
            width = max((len(c) for c in self.code_lists.get(list_name, {})), default=0)
            code = index.get(key.zfill(width))
        if code is None:
            for suffix in _SUFFIXES:
                if key.endswith(suffix) and key[: -len(suffix)] in index:
                    return index[key[: -len(suffix)]]
        return code

    def hint(self, list_name: str, text: str) -> str | None:
        """The choices (short lists) or the nearest labels (long lists) for a value that did not match."""
        labels = self.code_lists.get(list_name, {})
        if len(labels) <= 15:
            return "可填：" + "、".join(labels.values())
        close = difflib.get_close_matches(text, list(labels.values()), n=3, cutoff=0.5)
        return ("是否想写：" + "、".join(close)) if close else None

    def _build(self, list_name: str) -> dict[str, str]:
        index: dict[str, str] = {}
        labels = self.code_lists.get(list_name, {})
        for code, label in labels.items():
            lab = "".join(label.split()).lower()
            index[lab] = code
            for suffix in _SUFFIXES:  # 汉 -> 汉族, 视力 -> 视力残疾
                if lab.endswith(suffix) and len(lab) > len(suffix):
                    index.setdefault(lab[: -len(suffix)], code)
        # ledger usage wins over a label: "与户主关系：本人" is the head (02), not GB/T 4761's 01
        for alias, code in ALIASES.get(list_name, {}).items():
            if code in labels:
                index[alias.lower()] = code
        for code in labels:  # codes win over everything: a normalised value stays what it is
            index[code.lower()] = code
        self._index[list_name] = index
        return index
