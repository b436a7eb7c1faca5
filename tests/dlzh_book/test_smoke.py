"""冒烟构建跳过不按档位分支的页面（dlzh_book.smoke）：规则本身，以及它依赖的前提。"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dlzh_book.smoke import depends_on_profile, profile_independent_pages

PACKAGE = Path(__file__).resolve().parents[2] / "code" / "dlzh"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cfg = dlzh.settings(quick=dict(n=1), full=dict(n=2))", True),
        ("n = dlzh.pick(100, 60000)", True),
        ("if dlzh.is_quick():", True),
        ("assert dlzh.is_smoke() or loss < 1", True),
        ("print(dlzh.get_profile())", True),
        ("os.environ['DLZH_PROFILE']", True),
        ("net = dlzh.models.create_lenet()\nprint(net)", False),
        ("quick_settings = 1  # 只是名字里有 settings", False),
    ],
)
def test_markers(text, expected):
    assert depends_on_profile(text) is expected


def test_only_code_pages_without_markers_are_listed(tmp_path):
    (tmp_path / "part").mkdir()
    (tmp_path / "part" / "same.md").write_text("```{code-cell} ipython3\nprint(1)\n```\n", "utf-8")
    (tmp_path / "part" / "sized.md").write_text(
        "```{code-cell} ipython3\ncfg = dlzh.settings(quick={}, full={})\n```\n", "utf-8"
    )
    (tmp_path / "text.md").write_text("# 只有文字\n", "utf-8")
    (tmp_path / "_build").mkdir()
    (tmp_path / "_build" / "copy.md").write_text("```{code-cell} ipython3\n1\n```\n", "utf-8")
    assert profile_independent_pages(tmp_path) == [(tmp_path / "part" / "same.md").resolve()]


def test_the_package_itself_never_branches_on_the_profile():
    # 前提：只有页面按档位选择规模；dlzh 的函数在两个档位下做同样的事（冒烟模式只让循环提前结束）。
    # 否则一页不按档位分支的页面在 full 档位下也可能走另一条路，冒烟构建就不能跳过它。
    branching = re.compile(r"\b(pick|is_quick|get_profile|settings)\(")
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name in {"config.py", "profile.py"} and path.parent == PACKAGE:
            continue  # 定义这些函数的地方
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            if branching.search(line) and not line.lstrip().startswith("#"):
                offenders.append(f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}")
    assert offenders == []


def test_the_book_skips_about_half_of_its_code_pages_in_smoke_mode():
    book = Path(__file__).resolve().parents[2] / "book"
    skipped = {p.relative_to(book.resolve()).as_posix() for p in profile_independent_pages(book)}
    # 训练页面都按档位设置规模，一定执行；纯演示的页面跳过
    assert "modern-cnn/resnet.md" not in skipped and "cv/fcn.md" not in skipped
    assert "math/ndarray.md" in skipped
