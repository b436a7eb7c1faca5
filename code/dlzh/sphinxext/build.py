"""构建整本书（或一页）的命令行入口：``python -m dlzh.sphinxext.build``。

在 ``jupyter-book build`` 之外多做三件事：

- 默认 ``-W -n --keep-going``：警告即错误、引用必须都能解析，并一次报告全部问题；
- 构建前清空 ``reports/``，构建后检查其中的执行错误日志，逐页点名失败的页面；
- 给内核设置 ``DLZH_BUILD=1``，让训练循环只打印摘要而不画进度条。
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path


def failed_pages(html_dir: Path) -> list[str]:
    """myst-nb 为每个执行失败的页面写一个 ``reports/<页面>.err.log``。"""
    reports = html_dir / "reports"
    if not reports.exists():
        return []
    return sorted(
        str(p.relative_to(reports))[: -len(".err.log")] for p in reports.rglob("*.err.log")
    )


def build(
    book: Path,
    page: str | None = None,
    fresh: bool = False,
    strict: bool = True,
    builder: str = "html",
) -> int:
    book = book.resolve()
    # 单页构建（jb build book/某页.md）的输出在 _build/_page/<页面名>/html。
    html_dir = (
        book / "_build" / "_page" / page.removesuffix(".md").replace("/", "-") / "html"
        if page
        else book / "_build" / "html"
    )
    shutil.rmtree(html_dir / "reports", ignore_errors=True)
    target = str((book / page).resolve()) if page else str(book)
    jb = Path(sys.executable).with_name("jb")
    cmd = [str(jb) if jb.exists() else "jb", "build", target, "--builder", builder]
    if strict:
        cmd += ["-W", "-n", "--keep-going"]
    if fresh:
        cmd.append("--all")
    env = dict(os.environ, DLZH_BUILD="1", PYTHONUNBUFFERED="1")
    print("$ " + " ".join(cmd), flush=True)
    started = time.perf_counter()
    code = subprocess.call(cmd, env=env, cwd=book.parent)
    elapsed = time.perf_counter() - started
    failed = failed_pages(html_dir)
    for name in failed:
        log = html_dir / "reports" / f"{name}.err.log"
        print(f"\n执行失败的页面 / failed page: {name}（日志 {log}）", file=sys.stderr)
        print(log.read_text(encoding="utf-8", errors="replace")[-3000:], file=sys.stderr)
    if failed and code == 0:
        code = 1
    status = "成功" if code == 0 else "失败"
    print(
        f"\n构建{status}，用时 {elapsed:.0f} 秒；HTML 位于 {html_dir} / build "
        f"{'succeeded' if code == 0 else 'FAILED'} in {elapsed:.0f} s",
        flush=True,
    )
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="构建《动手学深度学习笔记》/ build the book")
    parser.add_argument("book", nargs="?", default="book", help="书的源目录（默认 book）")
    parser.add_argument("--page", help="只构建这一页，例如 linear-networks/softmax-regression.md")
    parser.add_argument("--all", dest="fresh", action="store_true", help="丢弃 Sphinx 环境重新读取")
    parser.add_argument("--no-strict", dest="strict", action="store_false", help="警告不算错误")
    args = parser.parse_args(argv)
    # 单页构建没有术语表和参考文献页，交叉引用必然无法解析，所以不把警告当错误。
    strict = args.strict and not args.page
    return build(Path(args.book), args.page, args.fresh, strict)


if __name__ == "__main__":
    sys.exit(main())
