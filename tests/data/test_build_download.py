"""书构建里真实下载一个大文件：严格构建（``-W``，``stderr_output: warn``）必须通过。

书页在内核里执行，内核写到 stderr 的任何东西都会变成构建警告，``-W`` 下构建失败。
这里起一个本机 HTTP 服务器提供一个 6 MiB 的文件，临时的小书在页面里登记它、用
``dlzh.data.fetch`` 下载进空缓存，然后用 ``jupyter-book build -W`` 构建。旧的下载代码把
进度条写到 stderr，这个构建就会失败。构建约 10~20 秒。
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap

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


def make_book(root, url: str, digest: str, size: int):
    book = root / "book"
    book.mkdir()
    (book / "_config.yml").write_text(
        textwrap.dedent(
            """\
            title: 下载测试
            only_build_toc_files: true
            execute:
              execute_notebooks: force
              stderr_output: warn
              timeout: 300
            sphinx:
              config:
                nb_execution_raise_on_error: true
            """
        ),
        "utf-8",
    )
    (book / "_toc.yml").write_text(
        "format: jb-book\nroot: index\nchapters:\n  - file: page\n", "utf-8"
    )
    (book / "index.md").write_text("# 首页\n\n正文。\n", "utf-8")
    cell = textwrap.dedent(
        f"""\
        from dlzh.data import DataFile, DatasetSpec, fetch
        from dlzh.data.registry import register

        register(DatasetSpec(
            name="big-test", description="测试", mirror_subdir="big-test", license="test",
            files=(DataFile("big.bin", {digest!r}, {size}, ({url!r},)),),
        ))
        path = fetch("big-test", "big.bin")
        print("SIZE", path.stat().st_size)
        """
    )
    page = HEADER + "\n# 下载页\n\n```{code-cell} ipython3\n" + cell + "```\n"
    (book / "page.md").write_text(page, "utf-8")
    return book


def test_strict_build_survives_a_real_download(server, tmp_path):
    payload = os.urandom(6 * 2**20)  # 超过 5 MiB：旧代码会为它画进度条
    url = server.add("big.bin", payload)
    book = make_book(tmp_path, url, hashlib.sha256(payload).hexdigest(), len(payload))
    env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    env.pop("DLZH_DATA_MIRROR", None)  # 空缓存、没有镜像：只能真的下载
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from jupyter_book.cli.main import main; sys.exit(main())",
            "build",
            "-W",
            "-n",
            "--keep-going",
            str(book),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
        cwd=tmp_path,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert server.requests == ["big.bin"]  # 真的下载了，而不是从别处拿到
    html = (book / "_build" / "html" / "page.html").read_text("utf-8")
    assert f"SIZE {len(payload)}" in html
    assert "下载完成" in html  # 进度写进了 stdout，也就是页面的输出
