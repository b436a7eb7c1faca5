"""取自执行缓存的页面：myst-nb 写出的笔记本没有输出，要从缓存里合并回来。"""

from __future__ import annotations

import nbformat
from jupyter_cache import get_cache
from jupyter_cache.base import CacheBundleIn

from dlzh_book.notebooks import load_executed


def _notebook(with_output: bool) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell("print('你好')")
    if with_output:
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="你好\n")]
    nb = nbformat.v4.new_notebook(cells=[cell])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


def test_outputs_come_back_from_the_execution_cache(tmp_path):
    bare = tmp_path / "page.ipynb"
    nbformat.write(_notebook(with_output=False), str(bare))
    # 没有缓存：原样返回（没有输出）
    assert load_executed(bare, tmp_path / "no-cache")["cells"][0]["outputs"] == []
    cache = get_cache(str(tmp_path / "cache"))
    cache.cache_notebook_bundle(
        CacheBundleIn(_notebook(with_output=True), str(tmp_path / "page.md")), check_validity=False
    )
    merged = load_executed(bare, tmp_path / "cache")
    assert merged["cells"][0]["outputs"][0]["text"] == "你好\n"
    # 单元改了：缓存里没有对应记录，不会张冠李戴
    other = _notebook(with_output=False)
    other.cells[0].source = "print('别的')"
    nbformat.write(other, str(bare))
    assert load_executed(bare, tmp_path / "cache")["cells"][0]["outputs"] == []
    assert load_executed(tmp_path / "missing.ipynb") is None
