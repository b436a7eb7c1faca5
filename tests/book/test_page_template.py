"""页面模板按“页面标准”写成，而且它的代码真的能运行（复制它的人拿到的是能构建的页面）。"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "book" / "_templates" / "page-template.md"
CELL = re.compile(r"```\{code-cell\} ipython3\n(.*?)```", flags=re.S)


def cells() -> list[str]:
    return CELL.findall(TEMPLATE.read_text(encoding="utf-8"))


def test_template_follows_the_page_standard():
    text = TEMPLATE.read_text(encoding="utf-8")
    assert text.startswith("---\njupytext:")  # 没有 jupytext 头，代码单元不会执行
    code = "\n".join(cells())
    for needed in ("dlzh.start_page", "dlzh.settings(", "dlzh.train.assert_learned(",
                   "from dlzh.plot import diagrams", "dlzh.run_info()"):  # fmt: skip
        assert needed in code, needed
    assert "dlzh.pick(quick=" not in code, "设置用 dlzh.settings，不再用成对的 dlzh.pick"
    assert re.search(r"^## 小结$", text, flags=re.M) and re.search(r"^## 练习$", text, flags=re.M)
    assert text.rstrip().endswith("dlzh.run_info();\n```")
    diagram_cell = next(c for c in cells() if "diagrams." in c)
    assert ":tags: [remove-input]" in diagram_cell


def test_template_cells_run(monkeypatch, capsys):
    monkeypatch.setenv("DLZH_PROFILE", "quick")
    code = "\n".join(
        "\n".join(line for line in cell.splitlines() if not line.startswith(":tags:"))
        for cell in cells()
    )
    exec(compile(code, str(TEMPLATE), "exec"), {})
    out = capsys.readouterr().out
    assert "学习检查通过" in out and "quick 档位" in out


def test_contributing_states_the_page_standard():
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    section = text.split("## 页面标准", 1)[1].split("\n## ", 1)[0]
    for needed in (
        "dlzh.settings",
        "assert_learned",
        "dlzh.plot.diagrams",
        "aliases",
        "小结",
        "练习",
    ):
        assert needed in section, needed
