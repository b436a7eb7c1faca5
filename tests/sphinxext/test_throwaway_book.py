"""在临时的小书上运行真正的构建命令：失败的单元必须让构建失败（两次都失败），
被监视的代码改变后页面必须重新执行。每次构建约 10 秒。"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

HEADER = textwrap.dedent(
    """\
    ---
    jupytext:
      text_representation:
        extension: .md
        format_name: myst
    kernelspec:
      display_name: Python 3
      language: python
      name: python3
    ---
    """
)


def make_book(root: Path, page_body: str, watch: Path) -> Path:
    book = root / "book"
    (book / "_data").mkdir(parents=True)
    (book / "_data" / "glossary.csv").write_text("zh,en,description\n梯度,gradient,测试\n", "utf-8")
    (book / "_config.yml").write_text(
        textwrap.dedent(
            f"""\
            title: 临时书
            language: zh_CN
            only_build_toc_files: true
            execute:
              execute_notebooks: cache
              timeout: 120
            sphinx:
              extra_extensions: [dlzh.sphinxext]
              config:
                nb_execution_raise_on_error: true
                dlzh_watch_paths: ["{watch}"]
            """
        ),
        "utf-8",
    )
    (book / "_toc.yml").write_text(
        "format: jb-book\nroot: index\nchapters:\n  - file: page\n", "utf-8"
    )
    (book / "index.md").write_text("# 首页\n\n正文。\n", "utf-8")
    (book / "page.md").write_text(HEADER + "\n# 测试页\n\n" + page_body, "utf-8")
    return book


def run_build(book: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dlzh.sphinxext.build", str(book)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=book.parent,
    )


def test_failing_cell_fails_the_build_twice_and_names_the_page(tmp_path):
    watch = tmp_path / "mod"
    watch.mkdir()
    body = "```{code-cell} ipython3\nraise RuntimeError('故意失败 deliberate failure')\n```\n"
    book = make_book(tmp_path, body, watch)
    for attempt in (1, 2):  # 第二次构建时 Sphinx 的环境已保存，不能因此“成功”
        result = run_build(book)
        output = result.stdout + result.stderr
        assert result.returncode != 0, f"第 {attempt} 次构建竟然成功了：\n{output[-3000:]}"
        assert "page.md" in output or "failed page: page" in output, output[-3000:]
        assert "deliberate failure" in output, output[-3000:]


def test_changed_package_re_executes_pages(tmp_path):
    watch = tmp_path / "mod"
    watch.mkdir()
    (watch / "value.py").write_text("VALUE = 'first'\n", "utf-8")
    body = (
        "```{code-cell} ipython3\n"
        f"import sys\nsys.path.insert(0, {str(watch)!r})\nimport value\nprint('VALUE=' + value.VALUE)\n"
        "```\n"
    )
    book = make_book(tmp_path, body, watch)
    html = book / "_build" / "html" / "page.html"
    assert run_build(book).returncode == 0
    assert "VALUE=first" in html.read_text("utf-8")
    # 页面源码不变、只改被监视的代码：jupyter-cache 自己察觉不到，必须由扩展让缓存失效。
    (watch / "value.py").write_text("VALUE = 'second'\n", "utf-8")
    result = run_build(book)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    text = html.read_text("utf-8")
    assert "VALUE=second" in text and "VALUE=first" not in text
    # 再构建一次、什么都不改：应直接用缓存，输出保持 second。
    assert run_build(book).returncode == 0
    assert "VALUE=second" in html.read_text("utf-8")


def test_missing_glyph_warning_in_a_cell_fails_the_build(tmp_path):
    watch = tmp_path / "mod"
    watch.mkdir()
    # 与 Matplotlib 缺字时发出的警告一字不差；它写到 stderr，构建应当因此失败。
    body = (
        "```{code-cell} ipython3\nimport warnings\n"
        "warnings.warn('Glyph 20013 (\\\\N{CJK UNIFIED IDEOGRAPH-4E2D}) missing from font(s) DejaVu Sans.')\n"
        "```\n"
    )
    result = run_build(make_book(tmp_path, body, watch))
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert "Glyph 20013" in output
