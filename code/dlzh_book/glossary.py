"""术语表：一个 CSV 源文件同时生成术语表页面、jieba 用户词典和站内搜索的同义词。

``book/_data/glossary.csv`` 的列是 ``zh,en,description,aliases``（中文 | English | 简短说明 |
别名）。``aliases`` 可以省略（只有前三列的行照样能读），多个别名用 ``|`` 分隔，例如
汇聚层的别名 ``池化层|池化``。每个概念只占一行：同义词写进别名，而不是另起一行。

别名有三个用途：

1. 术语表页面把别名和术语列在同一个词条下，``{term}`` 也可以用别名链接到这个词条；
2. 别名进入 jieba 用户词典，正文中的“全局平均池化”会被整体切出来；
3. 站内搜索把一个概念的所有写法视为同一个词（:class:`SynonymSearchChinese`）：页面里出现
   任何一种写法，都会以全部写法编入搜索索引，所以读者搜“池化”也能找到只写了“汇聚”的页面。
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

ALIAS_SEPARATOR = "|"
_CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Term:
    zh: str
    en: str
    description: str
    aliases: tuple[str, ...] = field(default=())

    @property
    def forms(self) -> tuple[str, ...]:
        """搜索时等价的写法：中文术语和全部别名（英文名另有用处，不算在内）。"""
        return (self.zh, *self.aliases)


def read_glossary(path: str | Path) -> list[Term]:
    """读取术语 CSV；缺列、空行和重复术语都当作错误，免得术语表和搜索词典悄悄不一致。"""
    path = Path(path)
    terms: list[Term] = []
    seen: set[str] = set()
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        columns = list(reader.fieldnames or [])
        missing = {"zh", "en", "description"} - set(columns)
        if missing:
            raise ValueError(f"{path} 缺少列 {sorted(missing)} / missing columns")
        for line, row in enumerate(reader, start=2):
            if None in row:  # 多出来的列：说明里有未加引号的逗号，说明文字会被截断
                raise ValueError(
                    f"{path}:{line} 列数多于 {len(columns)} 列；含逗号的说明请用英文双引号括起来 / "
                    "too many columns: quote fields that contain commas"
                )
            zh, en = (row["zh"] or "").strip(), (row["en"] or "").strip()
            if not zh or not en:
                raise ValueError(f"{path}:{line} 的中文或英文术语为空 / empty term")
            raw = (row.get("aliases") or "").strip()
            aliases = tuple(a.strip() for a in raw.split(ALIAS_SEPARATOR) if a.strip())
            for form in (zh, *aliases):
                # 同一个写法属于两个词条，搜索和 {term} 链接就不知道该指向哪一个。
                if form in seen:
                    raise ValueError(
                        f"{path}:{line} 术语或别名 {form!r} 重复：同义词请合并到一行的 aliases 列 / "
                        "duplicate term or alias: merge synonyms into one row's aliases column"
                    )
                seen.add(form)
            if any(ALIAS_SEPARATOR in f or "," in f for f in (zh, en)):
                raise ValueError(f"{path}:{line} 术语中不能有 | 或逗号 / '|' or ',' in a term")
            terms.append(Term(zh, en, (row["description"] or "").strip(), aliases))
    # 别名也是术语表页面上的词条名，不能与另一个词条的英文名相同（Sphinx 会报重复词条）。
    english = {t.en.lower(): t.zh for t in terms}
    for term in terms:
        for alias in term.aliases:
            owner = english.get(alias.lower(), term.zh)
            if owner != term.zh:
                raise ValueError(
                    f"{path}: {term.zh} 的别名 {alias!r} 是 {owner} 的英文名 / "
                    "alias equals another term's English name"
                )
    return terms


def glossary_myst(terms: list[Term]) -> str:
    """生成 MyST 的 ``{glossary}`` 指令：中文和英文都是可被 ``{term}`` 引用的词条。"""
    lines = [":::{glossary}", ":sorted:", ""]
    for term in terms:
        # 别名也列为词条名：页面上看得到，{term}`池化` 这样的链接也能解析到同一个词条。
        # 与英文名相同的别名（如 epoch）不再重复列出，否则 Sphinx 会报重复词条。
        aliases = [a for a in term.aliases if a.lower() != term.en.lower()]
        description = term.description or term.en
        if aliases:
            description += f"（又称：{'、'.join(aliases)}）"
        # 英文名与中文名相同（Transformer、U-Net）时只列一次，否则 Sphinx 报重复词条。
        names = [term.zh] + ([term.en] if term.en != term.zh else [])
        lines += [*names, *aliases, f"  {description}", ""]
    lines.append(":::")
    return "\n".join(lines)


def jieba_dict_lines(terms: list[Term]) -> list[str]:
    """jieba 用户词典的行：``词 词频 词性``。

    给一个很大的词频，保证复合术语（如“交叉熵损失”）在分词时作为整体保留；
    ``cut_for_search`` 仍会额外切出其中的短词，所以搜“损失”也能找到。
    """
    lines = []
    for term in terms:
        for form in term.forms:
            # jieba 词典以空格分列，含空格的术语不能加入；不含汉字的别名（如 epoch）jieba
            # 本来就整体切出，也不必加入。
            if " " not in form and _CJK.search(form):
                lines.append(f"{form} 200000 n")
    return lines


def write_jieba_dict(terms: list[Term], target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    content = "\n".join(jieba_dict_lines(terms)) + "\n"
    if not target.exists() or target.read_text(encoding="utf-8") != content:
        target.write_text(content, encoding="utf-8")
    return target.resolve()


def search_digest(terms: list[Term]) -> str:
    """影响搜索索引的那部分术语表（每个词条的全部写法）的摘要。

    搜索索引只在页面被写出时更新；增加一个术语或别名后，没有改动的页面不会重新写出，
    它们在索引里就缺少新的写法。扩展把这个摘要登记为 ``env`` 级的配置值，摘要一变，
    Sphinx 就重新读取并写出所有页面（执行结果来自缓存，不会重新运行代码）。
    只改说明文字不影响摘要，也就不会触发。
    """
    import hashlib

    forms = "\n".join("|".join(term.forms) for term in terms)
    return hashlib.sha256(forms.encode("utf-8")).hexdigest()[:16]


def synonym_groups(terms: list[Term]) -> dict[str, tuple[str, ...]]:
    """写法 -> 这个概念的全部写法（包括它自己），只含有别名的术语。

    搜索索引按小写存英文词，所以键和值都用小写（汉字不受影响）。
    """
    groups: dict[str, tuple[str, ...]] = {}
    for term in terms:
        if not term.aliases:
            continue
        forms = tuple(dict.fromkeys(f.lower() for f in term.forms))
        for form in forms:
            groups[form] = forms
    return groups


def expand_synonyms(words: list[str], groups: dict[str, tuple[str, ...]]) -> list[str]:
    """在分词结果后面追加每个词的同义写法；没有同义词的词原样保留。"""
    extra = [other for w in words for other in groups.get(w.lower(), ()) if other != w.lower()]
    return words + extra


class _TermSet(set):
    """带 ``extend`` 的集合：Sphinx 的 ``SearchChinese.split`` 用列表的 ``extend`` 追加英文词。"""

    def extend(self, items: Iterable[str]) -> None:
        self.update(items)


def synonym_search_language(groups: dict[str, tuple[str, ...]]):
    """返回一个 Sphinx 中文搜索语言类：分词后再追加同义写法（见 :func:`expand_synonyms`）。

    为什么在建索引时展开，而不是在搜索框里展开：Sphinx 的搜索在浏览器里运行，只查索引里的词，
    改它的 JavaScript 要跟着主题和 Sphinx 的版本走；而索引是 Python 生成的，这里只需替换
    ``split``。读者输入的整个查询（如“全局平均池化”）必须是索引里的一个词，展开后正好是。
    """
    from sphinx.search.zh import SearchChinese

    class SynonymSearchChinese(SearchChinese):
        synonyms = groups

        def init(self, options: dict[str, str]) -> None:
            super().init(options)
            # Sphinx 7 的 SearchChinese 把见过的英文词存进一个类级别的列表、每次取词干都在列表里线性查找，
            # 整本书的索引因此是平方复杂度（本书约 3.5 分钟，占写 HTML 阶段的三分之二）；
            # 换成本实例的集合，查找结果相同（Sphinx 8 也改成了集合）。
            self.latin_terms = _TermSet()

        def split(self, input: str) -> list[str]:
            return expand_synonyms(super().split(input), self.synonyms)

    return SynonymSearchChinese


def install_synonym_search(language: str | None, terms: list[Term]) -> bool:
    """让 Sphinx 为中文（``zh``、``zh_CN`` 等）建索引时使用带同义词的分词；返回是否安装。

    Sphinx 按 ``sphinx.search.languages[语言代码]`` 选择分词类；这里只为本书配置的那个语言代码
    登记新类，其他语言不受影响。
    """
    from sphinx import search

    if not language or not language.lower().startswith("zh"):
        return False
    search.languages[language] = synonym_search_language(synonym_groups(terms))
    return True
