"""已执行的笔记本（带输出）。

myst-nb 把每页的笔记本写到 ``_build/jupyter_execute/<页面>.ipynb``，但页面取自执行缓存时，
它写出的是**没有输出**的原始笔记本（缓存里的输出只合并进了渲染用的副本）。增量构建和 CI
（恢复缓存后几乎每页都取自缓存）因此会发布没有输出的笔记本，执行报告也读不到运行信息。
这里在没有输出时按单元内容到执行缓存里找到对应的记录，把输出合并回来。
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _has_outputs(notebook: dict[str, Any]) -> bool:
    return any(c.get("outputs") for c in notebook.get("cells", []) if c.get("cell_type") == "code")


def load_executed(path: Path, cache_path: str | Path | None = None) -> dict[str, Any] | None:
    """读取 ``path``；它没有任何输出而执行缓存里有同样单元的记录时，返回合并了输出的笔记本。"""
    try:
        notebook = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if _has_outputs(notebook) or not cache_path or not Path(cache_path).exists():
        return notebook
    import nbformat
    from jupyter_cache import get_cache

    try:
        _, merged = get_cache(str(cache_path)).merge_match_into_notebook(
            nbformat.from_dict(notebook)
        )
    except KeyError:  # 缓存里没有（例如执行失败的页面）
        return notebook
    return merged
