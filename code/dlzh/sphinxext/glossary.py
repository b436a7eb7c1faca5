"""术语表：一个 CSV 源文件同时生成术语表页面和 jieba 用户词典。

``book/_data/glossary.csv`` 有三列 ``zh,en,description``（中文 | English | 简短说明）。
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Term:
    zh: str
    en: str
    description: str


def read_glossary(path: str | Path) -> list[Term]:
    """读取术语 CSV；缺列、空行和重复术语都当作错误，免得术语表和搜索词典悄悄不一致。"""
    path = Path(path)
    terms: list[Term] = []
    seen: set[str] = set()
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"zh", "en", "description"} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"{path} 缺少列 {sorted(missing)} / missing columns")
        for line, row in enumerate(reader, start=2):
            if None in row:  # 多出来的列：说明里有未加引号的逗号，说明文字会被截断
                raise ValueError(
                    f"{path}:{line} 列数多于 3 列；含逗号的说明请用英文双引号括起来 / "
                    "too many columns: quote fields that contain commas"
                )
            zh, en = (row["zh"] or "").strip(), (row["en"] or "").strip()
            if not zh or not en:
                raise ValueError(f"{path}:{line} 的中文或英文术语为空 / empty term")
            if zh in seen:
                raise ValueError(f"{path}:{line} 术语 {zh!r} 重复 / duplicate term")
            seen.add(zh)
            terms.append(Term(zh, en, (row["description"] or "").strip()))
    return terms


def glossary_myst(terms: list[Term]) -> str:
    """生成 MyST 的 ``{glossary}`` 指令：中文和英文都是可被 ``{term}`` 引用的词条。"""
    lines = [":::{glossary}", ":sorted:", ""]
    for term in terms:
        lines += [term.zh, term.en, f"  {term.description or term.en}", ""]
    lines.append(":::")
    return "\n".join(lines)


def jieba_dict_lines(terms: list[Term]) -> list[str]:
    """jieba 用户词典的行：``词 词频 词性``。

    给一个很大的词频，保证复合术语（如“交叉熵损失”）在分词时作为整体保留；
    ``cut_for_search`` 仍会额外切出其中的短词，所以搜“损失”也能找到。
    """
    lines = []
    for term in terms:
        # jieba 词典以空格分列，含空格的术语（如英文部分）不能也不必加入。
        if " " not in term.zh:
            lines.append(f"{term.zh} 200000 n")
    return lines


def write_jieba_dict(terms: list[Term], target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    content = "\n".join(jieba_dict_lines(terms)) + "\n"
    if not target.exists() or target.read_text(encoding="utf-8") != content:
        target.write_text(content, encoding="utf-8")
    return target.resolve()
