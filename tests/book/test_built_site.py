"""对构建好的网站（book/_build/html）做检查；由 `make test` 在整书构建之后运行。"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from sphinx.search.zh import SearchChinese

from dlzh_book.glossary import read_glossary

from .test_structure import BOOK, book_pages, toc_files

HTML = BOOK / "_build" / "html"
CJK = re.compile(r"[\u4e00-\u9fff]")
pytestmark = [
    pytest.mark.book,
    pytest.mark.skipif(not (HTML / "index.html").exists(), reason="先运行 make book 构建网站"),
]


def html_pages() -> list[Path]:
    return sorted(p for p in HTML.rglob("*.html") if not {"_static", "_sources"} & set(p.parts))


def code_pages() -> list[str]:
    return [
        str(p.relative_to(BOOK).with_suffix(""))
        for p in book_pages()
        if "```{code-cell}" in p.read_text(encoding="utf-8")
    ]


def search_terms() -> set[str]:
    text = (HTML / "searchindex.js").read_text(encoding="utf-8")
    index = json.loads(text[text.index("(") + 1 : text.rindex(")")])
    return set(index["terms"]) | set(index["titleterms"])


def test_every_toc_entry_was_rendered():
    missing = [e for e in toc_files() if not (HTML / f"{e}.html").exists()]
    assert missing == []


def test_search_index_contains_glossary_compound_terms():
    terms = search_terms()
    # Sphinx 的中文搜索会丢弃单个汉字（如“熵”），这类术语只能通过术语表页面找到。
    glossary = [
        t.zh
        for t in read_glossary(BOOK / "_data" / "glossary.csv")
        if " " not in t.zh and len(t.zh) > 1 and CJK.search(t.zh)
    ]
    missing = [t for t in glossary if t.lower() not in terms]
    assert missing == [], f"这些术语无法整体搜索到：{missing}"
    assert {"线性回归", "梯度下降", "交叉熵损失"} <= terms


def test_search_index_contains_latin_glossary_terms():
    # 只由拉丁字母组成的术语（Transformer、U-Net）由 Sphinx 按英文切词并取词干
    # （transformer → transform，U-Net → net），搜索框里输入原词时也做同样的处理；
    # 这里用 Sphinx 自己的中文搜索语言类算出应当出现的词干。
    terms = search_terms()
    language = SearchChinese({})
    latin = [t.zh for t in read_glossary(BOOK / "_data" / "glossary.csv") if not CJK.search(t.zh)]
    assert "Transformer" in latin
    missing = {}
    for term in latin:
        stems = [language.stem(w) for w in language.latin1_letters.findall(term)]
        absent = [s for s in stems if language.word_filter(s) and s not in terms]
        if absent:
            missing[term] = absent
    assert missing == {}, f"这些术语的词干不在搜索索引里：{missing}"


def test_execution_report_lists_every_code_page_as_succeeded():
    text = (HTML / "execution-report.html").read_text(encoding="utf-8")
    # 每页一行的那张表（侧边栏里也有指向各页的链接，所以只在表内找）
    table = text[text.index("dlzh-page-runs") :]
    table = table[: table.index("</table>")]
    # 状态是文字（没有 emoji：无 emoji 字体时会显示成方框），每个执行页面一行
    assert "❌" not in text and "✅" not in text and "<p>失败" not in table
    for page in code_pages():
        assert f'href="{page}.html"' in table, f"执行报告中缺少 {page}"
    assert table.count("<p>成功</p>") == len(code_pages())
    # 每行都有峰值内存（来自页面最后的 dlzh.run_info()），取自缓存的页面也有
    assert "峰值内存 (MiB)" in text


@pytest.mark.parametrize("page", html_pages(), ids=lambda p: str(p.relative_to(HTML)))
def test_no_traceback_or_missing_glyph(page):
    text = page.read_text(encoding="utf-8")
    for bad in ("Traceback (most recent call last)", "Glyph", "findfont: Font family"):
        assert bad not in text, f"{page.name} 含有 {bad!r}"


def test_code_pages_show_run_info():
    for page in code_pages():
        assert "运行信息：档位" in (HTML / f"{page}.html").read_text(encoding="utf-8"), page


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("href", "src"):
            if tag in {"a", "img", "link", "script"} and attrs.get(key):
                self.links.append(attrs[key])


@pytest.mark.parametrize("page", html_pages(), ids=lambda p: str(p.relative_to(HTML)))
def test_internal_links_resolve(page):
    parser = _Links()
    parser.feed(page.read_text(encoding="utf-8"))
    broken = []
    for link in parser.links:
        parsed = urlparse(link)
        if (
            parsed.scheme
            or link.startswith(("#", "//", "mailto:", "javascript:"))
            or not parsed.path
        ):
            continue
        target = (page.parent / unquote(parsed.path)).resolve()
        if not target.exists():
            broken.append(link)
    assert broken == [], f"{page.relative_to(HTML)} 中的坏链接：{broken}"


def test_figures_are_real_images():
    images = [p for p in HTML.rglob("*.png") if "_images" in p.parts]
    assert images, "构建结果中没有任何图"
    for image in images:
        assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and image.stat().st_size > 1000
