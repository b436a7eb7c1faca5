"""在临时的小书上运行真正的构建命令（python -m dlzh_book.build 或直接 jb build）。

每个测试构建一两次只有一两页的书，每次约 10 秒：
失败的单元和警告都要让构建失败（连续两次都失败），缓存键变了页面必须重新执行，
直接 jb build 得到的内核环境与构建命令相同，执行报告区分本次执行与取自缓存。
"""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

CODE_DIR = Path(__file__).resolve().parents[2] / "code"
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


def cell(source: str) -> str:
    return f"```{{code-cell}} ipython3\n{source.strip()}\n```\n"


def make_book(root: Path, pages: dict[str, str], watch: Path | None = None) -> Path:
    """``pages``：页面名 -> 正文（不含 jupytext 头）；正文为 None 的页面是纯文字页。"""
    watch = watch or root / "mod"
    watch.mkdir(exist_ok=True)
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
              stderr_output: warn
            repository:
              url: https://github.com/owner/repo
            sphinx:
              local_extensions:
                dlzh_book: "{CODE_DIR}"
              config:
                nb_execution_raise_on_error: false
                dlzh_watch_paths: ["{watch}"]
                dlzh_lock_files: []
                dlzh_mathjax_dir: "{book / "_no_mathjax"}"
                mathjax_path: "https://example.org/mathjax.js"
                html_baseurl: https://owner.github.io/repo/
            """
        ),
        "utf-8",
    )
    chapters = "".join(f"  - file: {name}\n" for name in pages)
    (book / "_toc.yml").write_text(f"format: jb-book\nroot: index\nchapters:\n{chapters}", "utf-8")
    (book / "index.md").write_text("# 首页\n\n正文。\n", "utf-8")
    for name, body in pages.items():
        text = f"# {name} 页\n\n{body}" if body.startswith("```{dlzh") else None
        if text is None:
            text = HEADER + f"\n# {name} 页\n\n" + body
        (book / f"{name}.md").write_text(text, "utf-8")
    return book


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DLZH_", "TQDM_"))}
    env.pop("MPLBACKEND", None)
    return dict(env, DLZH_PROFILE="quick", DLZH_DEVICE="cpu")


def run_build(book: Path, **extra_env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dlzh_book.build", str(book)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=book.parent,
        env=dict(clean_env(), PYTHONPATH=str(CODE_DIR), **extra_env),
    )


def run_plain_jb(book: Path) -> subprocess.CompletedProcess:
    """读者的方式：直接 jb build（严格模式），不经过构建命令，也不设 PYTHONPATH。"""
    jb = Path(sys.executable).with_name("jb")
    return subprocess.run(
        [str(jb), "build", str(book), "-W", "-n", "--keep-going"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=book.parent,
        env=clean_env(),
    )


def output_of(result: subprocess.CompletedProcess) -> str:
    return result.stdout + result.stderr


def test_every_failing_page_is_listed_and_fails_again_next_time(tmp_path):
    watch = tmp_path / "mod"
    watch.mkdir()
    (watch / "m.py").write_text("V = 1\n", "utf-8")
    book = make_book(
        tmp_path,
        {
            "bad1": cell("raise RuntimeError('第一页故意失败 first deliberate failure')"),
            "good": cell("import time\nprint('好的页面 fine', time.time_ns())"),
            "bad2": cell("raise ValueError('第二页故意失败 second deliberate failure')"),
        },
        watch,
    )
    good = book / "_build" / "html" / "good.html"

    def stamp() -> str:
        return re.search(r"好的页面 fine (\d+)", good.read_text("utf-8"))[1]

    stamps = []
    for attempt in (1, 2):  # 第二次构建时 Sphinx 的环境已保存，不能因此“成功”
        if attempt == 2:
            (watch / "m.py").write_text("V = 2\n", "utf-8")  # 包变了：所有页面重新执行
        result = run_build(book)
        output = output_of(result)
        assert result.returncode != 0, f"第 {attempt} 次构建竟然成功了：\n{output[-3000:]}"
        # 一次构建列出全部失败的页面及其错误，而不是停在第一个
        listing = output[output.index("执行失败的页面共 2 个") :]
        assert "bad1.md" in listing and "first deliberate failure" in listing, listing
        assert "bad2.md" in listing and "second deliberate failure" in listing, listing
        assert "good.md" not in listing
        stamps.append(stamp())  # 成功的页面照常写出
    assert stamps[0] != stamps[1]
    # 包改变后的那次构建虽然失败了，成功的页面已经以新键留在缓存里：不再重新执行
    assert run_build(book).returncode != 0
    assert stamp() == stamps[1]


def test_a_page_with_a_warning_fails_two_strict_builds_in_a_row(tmp_path):
    book = make_book(tmp_path, {"page": "正文引用一个不存在的术语 {term}`不存在的术语`。\n"})
    for attempt in (1, 2):
        result = run_build(book)
        output = output_of(result)
        assert result.returncode != 0, f"第 {attempt} 次构建竟然成功了：\n{output[-3000:]}"
        assert "不存在的术语" in output and "page" in output, output[-3000:]
    # 修好之后构建通过，再构建一次仍然通过（不会一直重新读取）
    (book / "page.md").write_text("# page 页\n\n正文不再引用不存在的术语。\n", "utf-8")
    assert run_build(book).returncode == 0
    second = run_build(book)
    assert second.returncode == 0, output_of(second)[-3000:]
    assert "重新读取上次有警告的页面" not in output_of(second)


def test_changed_package_re_executes_pages_but_a_swap_file_does_not(tmp_path):
    watch = tmp_path / "mod"
    watch.mkdir()
    (watch / "value.py").write_text("VALUE = 'first'\n", "utf-8")
    body = cell(
        f"import sys\nsys.path.insert(0, {str(watch)!r})\nimport time, value\n"
        "print('VALUE=' + value.VALUE, time.time_ns())"
    )
    book = make_book(tmp_path, {"page": body}, watch)
    html = book / "_build" / "html" / "page.html"
    assert run_build(book).returncode == 0
    first = html.read_text("utf-8")
    assert "VALUE=first" in first
    # 编辑器的交换文件不是包的一部分：不应让页面重新执行（时间戳不变）
    (watch / ".value.py.swp").write_bytes(b"\0swap")
    (watch / "value.py~").write_text("VALUE = 'backup'\n", "utf-8")
    assert run_build(book).returncode == 0
    stamp = re.search(r"VALUE=first (\d+)", first)[1]
    assert stamp in html.read_text("utf-8")
    # 页面源码不变、只改包的代码：jupyter-cache 自己察觉不到，必须由扩展让缓存失效。
    (watch / "value.py").write_text("VALUE = 'second'\n", "utf-8")
    result = run_build(book)
    assert result.returncode == 0, output_of(result)[-3000:]
    text = html.read_text("utf-8")
    assert "VALUE=second" in text and "VALUE=first" not in text


def test_missing_glyph_warning_in_a_cell_fails_the_build(tmp_path):
    # 与 Matplotlib 缺字时发出的警告一字不差；它写到 stderr，构建应当因此失败。
    body = cell(
        "import warnings\n"
        "warnings.warn('Glyph 20013 (\\\\N{CJK UNIFIED IDEOGRAPH-4E2D}) missing from font(s) DejaVu Sans.')"
    )
    result = run_build(make_book(tmp_path, {"page": body}))
    assert result.returncode != 0, output_of(result)[-3000:]
    assert "Glyph 20013" in output_of(result)


def test_plain_jb_build_sets_up_the_kernel_like_the_build_command(tmp_path):
    # 没有扩展设置的环境时，这一页会在 stderr 画出 tqdm 进度条（严格构建因此失败），
    # dlzh 的训练循环也会画逐批进度条。
    body = cell(
        "import os, sys\nfrom tqdm import tqdm\n"
        "for _ in tqdm(range(3), file=sys.stderr):\n    pass\n"
        "print('DLZH_BUILD=' + os.environ.get('DLZH_BUILD', ''))\n"
        "import matplotlib\nprint('backend', matplotlib.get_backend())"
    )
    book = make_book(tmp_path, {"page": body})
    result = run_plain_jb(book)
    output = output_of(result)
    assert result.returncode == 0, output[-3000:]
    assert "stderr was found" not in output, output[-3000:]
    html = (book / "_build" / "html" / "page.html").read_text("utf-8")
    assert "DLZH_BUILD=1" in html  # dlzh 的训练循环据此只打印摘要、不画进度条
    assert "backend_inline" in html and "it/s" not in html and "%|" not in html


def test_execution_report_and_site_files(tmp_path):
    body = cell("import dlzh\nx = bytearray(64 * 2**20)  # 让峰值内存至少 64 MiB\ndlzh.run_info();")
    book = make_book(tmp_path, {"page": body, "report": "```{dlzh-exec-report}\n```\n"})
    report = book / "_build" / "html" / "report.html"

    def page_row() -> list[str]:
        text = report.read_text("utf-8")
        row = re.search(r"<tr[^>]*>(?:(?!</tr>).)*page 页(?:(?!</tr>).)*</tr>", text, re.S)
        assert row, text[-3000:]
        return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td.*?</td>", row[0], re.S)]

    assert run_build(book).returncode == 0
    cells = page_row()
    assert cells[1:3] == ["成功", "本次执行"], cells
    assert float(cells[3]) >= 0 and int(cells[4]) >= 64, cells  # 用时、峰值内存 (MiB)
    assert cells[5] == "quick" and cells[6].startswith("CPU"), cells
    assert "✅" not in report.read_text("utf-8")
    # 网站文件：sitemap 与 og:url 用 html_baseurl 的绝对地址；发布的笔记本先安装 dlzh。
    html = book / "_build" / "html"
    assert "<loc>https://owner.github.io/repo/page.html</loc>" in (html / "sitemap.xml").read_text()
    assert 'content="https://owner.github.io/repo/page.html"' in (html / "page.html").read_text()
    notebook = json.loads((html / "_notebooks" / "page.ipynb").read_text("utf-8"))
    assert "dlzh @ git+https://github.com/owner/repo@" in notebook["cells"][0]["source"]
    assert "import dlzh" in "".join(notebook["cells"][2]["source"])  # 页面自己的单元照旧
    assert run_build(book).returncode == 0
    cells = page_row()
    # 取自缓存的页面：myst-nb 写出的笔记本没有输出，运行信息和发布的输出要从缓存里取回
    assert cells[1:3] == ["成功", "取自缓存"] and int(cells[4]) >= 64, cells
    notebook = json.loads((html / "_notebooks" / "page.ipynb").read_text("utf-8"))
    assert "运行信息" in json.dumps(notebook["cells"][-1]["outputs"], ensure_ascii=False)
    # 增量构建（page 没有重写）后 sitemap 仍列出所有页面
    assert "<loc>https://owner.github.io/repo/page.html</loc>" in (html / "sitemap.xml").read_text()


def test_editing_a_module_re_executes_only_the_pages_that_imported_it(tmp_path):
    # 一个假的包 fakepkg（代替 dlzh）：optim 页导入 fakepkg.optim，cnn 页导入 fakepkg.cnn。
    # 页面最后像 dlzh.run_info() 一样把内核里的 fakepkg 模块写进输出元数据。
    package = tmp_path / "mod" / "fakepkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("", "utf-8")
    (package / "optim.py").write_text("VALUE = 'optim-1'\n", "utf-8")
    (package / "cnn.py").write_text("VALUE = 'cnn-1'\n", "utf-8")

    def body(module: str) -> str:
        return cell(
            f"import sys, time\nsys.path.insert(0, {str(package.parent)!r})\n"
            f"from fakepkg import {module}\nprint({module}.VALUE, time.time_ns())\n"
            "from IPython.display import display\n"
            "mods = sorted(m for m in sys.modules if m.split('.')[0] == 'fakepkg')\n"
            "display({'text/plain': 'info'}, metadata={'dlzh.run_info': {'modules': mods}}, raw=True)"
        )

    book = make_book(tmp_path, {"optim": body("optim"), "cnn": body("cnn")}, package)
    html = book / "_build" / "html"

    def stamp(page: str) -> str:
        return re.search(rf"{page}-\d (\d+)", (html / f"{page}.html").read_text("utf-8"))[0]

    assert run_build(book).returncode == 0
    before = {page: stamp(page) for page in ("optim", "cnn")}
    (package / "optim.py").write_text("VALUE = 'optim-2'\n", "utf-8")
    result = run_build(book)
    assert result.returncode == 0, output_of(result)[-3000:]
    assert stamp("optim").startswith("optim-2")  # 重新执行，用的是新代码
    assert stamp("cnn") == before["cnn"]  # 没有导入 fakepkg.optim：输出原样取自缓存
    # 改包的 __init__.py：两页都导入过它，都重新执行
    (package / "__init__.py").write_text("# changed\n", "utf-8")
    assert run_build(book).returncode == 0
    assert stamp("cnn") != before["cnn"]


def test_pages_execute_two_at_a_time_and_problems_keep_their_pages(tmp_path):
    # Sphinx 只在要读的页面多于 5 个时并行读取
    body = (
        "import os, time\nstart = time.time()\ntime.sleep(2)\n"
        "print('区间', start, time.time(), 'OMP=' + os.environ.get('OMP_NUM_THREADS', ''))"
    )
    pages = {f"p{i}": cell(body) for i in range(4)}
    pages["bad"] = cell("raise RuntimeError('故意失败 deliberate failure')")
    pages["warn"] = "正文引用一个不存在的术语 {term}`不存在的术语`。\n"
    book = make_book(tmp_path, pages)
    result = run_build(book, DLZH_BUILD_JOBS="2")
    output = output_of(result)
    assert result.returncode != 0, output[-3000:]
    assert "doing serial read" not in output, output[-3000:]  # 没有扩展阻止并行读取
    listing = output[output.index("执行失败的页面共 1 个") :]
    assert "bad.md" in listing and "deliberate failure" in listing, listing
    spans = []
    for i in range(4):
        text = (book / "_build" / "html" / f"p{i}.html").read_text("utf-8")
        match = re.search(r"区间 ([\d.]+) ([\d.]+) OMP=(\d*)", text)
        spans.append((float(match[1]), float(match[2])))
        # 两个内核平分 CPU 核，每个内核的线程数相应减少
        assert match[3] == str(max(1, (os.cpu_count() or 1) // 2)), match[0]
    spans.sort()
    assert any(b[0] < a[1] for a, b in itertools.pairwise(spans)), f"页面没有同时执行：{spans}"
    # 子进程里的警告和失败都记到了正确的页面上：下一次构建重新读取这两页，仍然失败
    again = run_build(book, DLZH_BUILD_JOBS="2")
    output = output_of(again)
    assert again.returncode != 0, output[-3000:]
    assert "重新读取上次有警告的页面：bad, warn" in output, output[-3000:]


def test_smoke_build_executes_only_pages_that_branch_on_the_profile(tmp_path):
    pages = {
        "sized": cell(
            "import os\nprint('冒烟', os.environ.get('DLZH_SMOKE'))  # 页面用到 dlzh.is_smoke()"
        ),
        "same": cell("print('页面' + '已执行')"),
    }
    book = make_book(tmp_path, pages)
    result = run_build(book, DLZH_PROFILE="full", DLZH_SMOKE="1")
    output = output_of(result)
    assert result.returncode == 0, output[-3000:]
    assert "冒烟模式：1 个页面不按档位分支" in output, output[-3000:]
    html = book / "_build" / "html"
    assert "冒烟 1" in (html / "sized.html").read_text("utf-8")
    same = (html / "same.html").read_text("utf-8")
    assert "页面" in same and "页面已执行" not in same  # 照常渲染（有源码），但没有执行的输出
