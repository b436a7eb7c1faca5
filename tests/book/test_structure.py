"""书的结构：目录与文件一一对应、代码页都有 jupytext 头、配置只有一份。"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BOOK = ROOT / "book"
SKIP_DIRS = {"_build", "_templates", "_static", "_data", ".ipynb_checkpoints"}


def toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections"))
            walk(entry.get("chapters"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    return files


def book_pages() -> list[Path]:
    return sorted(
        p
        for p in BOOK.rglob("*")
        if p.suffix in {".md", ".ipynb"} and not SKIP_DIRS & set(p.relative_to(BOOK).parts)
    )


def test_config_and_toc_exist_once_and_book_links_to_them():
    for name in ("_config.yml", "_toc.yml"):
        link = BOOK / name
        assert link.is_symlink(), f"book/{name} 应是指向 ../{name} 的符号链接"
        assert link.resolve() == (ROOT / name).resolve()
    copies = [
        p
        for p in ROOT.rglob("_config.yml")
        if "_build" not in p.parts and ".venv" not in p.parts and "node_modules" not in p.parts
    ]
    assert sorted(copies) == sorted([ROOT / "_config.yml", BOOK / "_config.yml"])


def test_every_toc_entry_has_a_file_and_every_page_is_in_the_toc():
    entries = toc_files()
    assert len(entries) == len(set(entries)), "目录中有重复条目"
    missing = [
        e for e in entries if not any((BOOK / f"{e}{s}").exists() for s in (".md", ".ipynb"))
    ]
    assert missing == [], f"目录里登记了但不存在的页面：{missing}"
    listed = {str((BOOK / e).with_suffix("")) for e in entries}
    orphans = [
        str(p.relative_to(BOOK)) for p in book_pages() if str(p.with_suffix("")) not in listed
    ]
    assert orphans == [], f"这些页面不在 _toc.yml 中，不会被构建：{orphans}"


def code_pages() -> list[Path]:
    """有代码单元的页面：只对它们参数化，而不是让其余页面的用例什么都不查就“通过”。"""
    return [p for p in book_pages() if "```{code-cell}" in p.read_text(encoding="utf-8")]


def test_most_pages_execute_code():
    assert len(code_pages()) >= 30  # 防止上面的筛选因为写法变化而悄悄变成空列表


@pytest.mark.parametrize("page", code_pages(), ids=lambda p: str(p.relative_to(BOOK)))
def test_pages_with_code_cells_have_jupytext_header(page):
    text = page.read_text(encoding="utf-8")
    match = re.match(r"^---\n(.*?)\n---\n", text, re.S)
    assert match, f"{page.name} 有代码单元但缺少 front matter，代码不会被执行"
    meta = yaml.safe_load(match.group(1))
    assert meta["jupytext"]["text_representation"]["format_name"] == "myst"
    assert meta["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("page", code_pages(), ids=lambda p: str(p.relative_to(BOOK)))
def test_executed_pages_end_with_summary_exercises_and_run_info(page):
    text = page.read_text(encoding="utf-8")
    assert "## 小结" in text and "## 练习" in text, f"{page.name} 缺少 小结 或 练习"
    last_cell = text.rsplit("```{code-cell}", 1)[1]
    assert "dlzh.run_info()" in last_cell, f"{page.name} 的最后一个单元应调用 dlzh.run_info()"


def test_config_has_the_required_settings():
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert config["language"] == "zh_CN"
    assert config["only_build_toc_files"] is True
    assert config["execute"]["execute_notebooks"] == "cache"
    # 出错的单元不立即中止构建：dlzh_book 在构建结束时列出所有失败的页面并让构建失败。
    assert config["sphinx"]["config"]["nb_execution_raise_on_error"] is False
    assert "dlzh_book" in config["sphinx"]["local_extensions"]
    assert config["repository"]["url"].startswith("https://github.com/")
