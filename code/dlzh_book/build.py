"""构建整本书（或一页）的命令行入口：``python -m dlzh_book.build``（``make book`` 调用它）。

它只是 ``jb build`` 加上本书的默认选项，页面输出与直接运行 ``jb build book`` 完全相同
（内核环境由扩展 :mod:`dlzh_book` 设置，不在这里）：

- 默认 ``-W -n --keep-going``：警告即错误、引用必须都能解析，并一次报告全部问题；
- ``--output DIR``：输出和执行缓存放在 ``DIR/_build`` 下（``make book-smoke`` 用它，
  免得冒烟构建覆盖 quick 档位的网站）；
- 结束时打印总用时和 HTML 的位置。执行失败的页面由扩展在构建末尾逐页列出。
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

CODE_DIR = Path(__file__).resolve().parents[1]


def html_dir(book: Path, page: str | None = None, output: Path | None = None) -> Path:
    """jb 写 HTML 的位置：整本书在 ``<输出>/_build/html``，单页在 ``_build/_page/<页面>/html``。"""
    root = (output or book).resolve()
    if page:
        # 与 jb 的规则相同：页面所在目录在输出目录之内时，名字带上相对目录（cnn-lenet），否则只用文件名
        source = (book / page).resolve()
        folder = source.parent
        name = source.stem
        if str(root) in str(folder) and folder != root:
            name = str(folder.relative_to(root)).replace("/", "-") + "-" + name
        return root / "_build" / "_page" / name / "html"
    return root / "_build" / "html"


def jb_command(
    book: Path,
    page: str | None = None,
    fresh: bool = False,
    strict: bool = True,
    builder: str = "html",
    output: Path | None = None,
) -> list[str]:
    target = str((book / page).resolve()) if page else str(book.resolve())
    jb = Path(sys.executable).with_name("jb")
    cmd = [str(jb) if jb.exists() else "jb", "build", target, "--builder", builder]
    if output is not None:
        cmd += ["--path-output", str(output.resolve())]
    if strict:
        cmd += ["-W", "-n", "--keep-going"]
    if fresh:
        cmd.append("--all")
    return cmd


def build(
    book: Path,
    page: str | None = None,
    fresh: bool = False,
    strict: bool = True,
    builder: str = "html",
    output: Path | None = None,
) -> int:
    book = book.resolve()
    cmd = jb_command(book, page, fresh, strict, builder, output)
    # jb 通过 _config.yml 的 local_extensions 找到 dlzh_book；这里再加一次 PYTHONPATH，
    # 让用别的配置文件构建的书（如测试里的临时书）也能找到它。
    paths = [str(CODE_DIR), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(dict.fromkeys(paths)))
    print("$ " + " ".join(cmd), flush=True)
    started = time.perf_counter()
    code = subprocess.call(cmd, env=env, cwd=book.parent)
    elapsed = time.perf_counter() - started
    ok = code == 0
    print(
        f"\n构建{'成功' if ok else '失败'}，用时 {elapsed:.0f} 秒；HTML 位于 "
        f"{html_dir(book, page, output)} / build {'succeeded' if ok else 'FAILED'} in {elapsed:.0f} s",
        flush=True,
    )
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="构建《动手学深度学习笔记》/ build the book")
    parser.add_argument("book", nargs="?", default="book", help="书的源目录（默认 book）")
    parser.add_argument("--page", help="只构建这一页，例如 linear-networks/softmax-regression.md")
    parser.add_argument("--all", dest="fresh", action="store_true", help="丢弃 Sphinx 环境重新读取")
    parser.add_argument("--no-strict", dest="strict", action="store_false", help="警告不算错误")
    parser.add_argument(
        "--output", type=Path, help="输出目录（HTML 在 OUTPUT/_build/html，执行缓存也在那里）"
    )
    args = parser.parse_args(argv)
    # 单页构建没有术语表和参考文献页，交叉引用必然无法解析，所以不把警告当错误。
    strict = args.strict and not args.page
    return build(Path(args.book), args.page, args.fresh, strict, output=args.output)


if __name__ == "__main__":
    sys.exit(main())
