"""书只承诺已经有的内容：README、首页和“如何使用本书”里的部分与目录一致。

新的部分写好、登记到 ``_toc.yml`` 之后，这里的检查要求它也出现在“如何使用本书”的结构表里；
还没写的部分则不能出现在这些介绍里（读者会去找，然后找不到）。
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
BOOK = ROOT / "book"
INTRODUCTIONS = [ROOT / "README.md", BOOK / "index.md", BOOK / "how-to-use.md"]
# 书里没有页面的主题（content-map 之外）；介绍里提到它们就是空头承诺。若以后真的写了某个主题，
# 它的页面登记到目录后，这里的检查自动放行它，test_the_check_would_catch_a_promise 会提醒更新此表。
NOT_YET = ["强化学习", "图神经网络", "生成对抗网络", "推荐系统", "自然语言推断",
           "reinforcement learning", "graph neural", "GAN", "recommender"]  # fmt: skip


def toc() -> dict:
    return yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))


def part_captions() -> list[str]:
    return [part["caption"] for part in toc()["parts"] if part["caption"] not in {"前言", "附录"}]


def toc_titles() -> str:
    """目录里所有页面的一级标题和部分名，拼成一个字符串。"""
    titles = list(part_captions())

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                text = (BOOK / f"{entry['file']}.md").read_text(encoding="utf-8")
                match = re.search(r"^# (.+)$", text, flags=re.MULTILINE)
                titles.append(match[1] if match else "")
            walk(entry.get("sections"))

    for part in toc()["parts"]:
        walk(part.get("chapters"))
    return "\n".join(titles)


def structure_table_parts() -> list[str]:
    text = (BOOK / "how-to-use.md").read_text(encoding="utf-8")
    section = text.split("## 全书结构", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    return [row.split("|")[1].strip() for row in rows[1:]]  # 跳过表头


def test_structure_table_lists_exactly_the_parts_in_the_toc():
    assert structure_table_parts() == part_captions()


def test_introductions_promise_no_part_that_is_not_written():
    titles = toc_titles().lower()
    for path in INTRODUCTIONS:
        text = path.read_text(encoding="utf-8")
        promised = [t for t in NOT_YET if t.lower() in text.lower() and t.lower() not in titles]
        assert promised == [], f"{path.name} 提到了还没有页面的内容：{promised}"


def test_the_check_would_catch_a_promise():
    """检查本身能失败：今天的目录里确实没有这些主题（否则 NOT_YET 该更新了）。"""
    titles = toc_titles().lower()
    assert all(t.lower() not in titles for t in NOT_YET)
    assert structure_table_parts(), "没有找到“全书结构”表"
