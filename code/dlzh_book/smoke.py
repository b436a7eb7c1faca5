"""冒烟构建只执行依赖档位的页面。

冒烟构建（``DLZH_PROFILE=full DLZH_SMOKE=1``）用来在 CPU 上检查 full 档位的代码路径。
一页的代码里若没有任何按档位分支的写法（``dlzh.settings``、``dlzh.pick``、``is_quick``、
``get_profile``、``is_smoke``），它在 full 档位下执行的就是 quick 档位已经执行过的同一段代码：
``dlzh`` 包本身不按档位分支（``tests/dlzh_book/test_smoke.py`` 检查这一点），冒烟模式只会让
训练循环提前结束。这样的页面在冒烟构建里照常渲染，但不再执行一遍（myst-nb 的
``nb_execution_excludepatterns``），省下约一半的冒烟构建时间。
"""

from __future__ import annotations

import re
from pathlib import Path

# 页面源码里出现其中之一，就说明这一页在两个档位下可能走不同的代码
PROFILE_MARKERS = re.compile(
    r"\b(settings|pick|is_quick|get_profile|is_smoke)\(|DLZH_PROFILE|DLZH_SMOKE"
)
CODE_CELL = "```{code-cell}"


def depends_on_profile(text: str) -> bool:
    return bool(PROFILE_MARKERS.search(text))


def profile_independent_pages(root: Path, exclude: tuple[str, ...] = ("_build",)) -> list[Path]:
    """书中含代码单元、却不按档位分支的页面（绝对路径，按名字排序）。"""
    pages = []
    for path in sorted(root.rglob("*.md")):
        if set(path.relative_to(root).parts) & set(exclude):
            continue
        text = path.read_text(encoding="utf-8")
        if CODE_CELL in text and not depends_on_profile(text):
            pages.append(path.resolve())
    return pages
