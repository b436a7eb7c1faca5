"""构建命令 python -m dlzh_book.build 的参数与输出位置，以及运行时包与构建工具的分离。"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from setuptools import find_packages

from dlzh_book import KERNEL_ENV, setup_kernel_env
from dlzh_book.build import html_dir, jb_command

ROOT = Path(__file__).resolve().parents[2]


def test_strict_by_default_and_smoke_output_goes_to_its_own_folder(tmp_path):
    book = tmp_path / "book"
    cmd = jb_command(book)
    assert cmd[1:3] == ["build", str(book.resolve())]
    assert {"-W", "-n", "--keep-going"} <= set(cmd) and "--path-output" not in cmd
    out = tmp_path / "smoke"
    cmd = jb_command(book, output=out, fresh=True, strict=False)
    assert cmd[cmd.index("--path-output") + 1] == str(out.resolve())
    assert "-W" not in cmd and "--all" in cmd
    assert html_dir(book, output=out) == out.resolve() / "_build" / "html"
    assert html_dir(book, page="cnn/lenet.md") == (
        book.resolve() / "_build" / "_page" / "cnn-lenet" / "html"
    )
    # 输出目录在书之外时，jb 只用页面的文件名
    assert html_dir(book, page="cnn/lenet.md", output=out) == (
        out.resolve() / "_build" / "_page" / "lenet" / "html"
    )


def test_kernel_environment_is_set_by_the_extension_not_the_wrapper():
    environ = {"MPLBACKEND": "Agg", "DLZH_BUILD": "1"}
    previous = setup_kernel_env(environ)
    assert environ == {**environ, **KERNEL_ENV}
    assert environ["TQDM_DISABLE"] == "1" and environ["DLZH_BUILD"] == "1"
    assert previous == {"MPLBACKEND": "Agg", "TQDM_DISABLE": "", "PYTHONUNBUFFERED": ""}
    # 构建命令自己不再设置内核环境：直接 jb build 与 make book 的页面相同
    assert "DLZH_BUILD" not in (ROOT / "code" / "dlzh_book" / "build.py").read_text("utf-8")


def test_reader_installs_only_the_runtime_package():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    find = config["tool"]["setuptools"]["packages"]["find"]
    packages = find_packages(where=str(ROOT / find["where"][0]), include=find["include"])
    assert "dlzh" in packages and "dlzh.data" in packages
    assert not [p for p in packages if not (p == "dlzh" or p.startswith("dlzh."))], packages
    assert not (ROOT / "code" / "dlzh" / "sphinxext").exists()


def test_importing_dlzh_does_not_import_sphinx_or_the_build_tools():
    code = (
        "import sys, dlzh, dlzh.data, dlzh.train, dlzh.plot\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'sphinx', 'docutils', 'myst_nb', 'jupyter_book', 'dlzh_book'})\n"
        "print(bad)\nsys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
