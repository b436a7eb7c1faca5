"""包的布局：每个模块都有对应的测试模块，导入只朝一个方向，导出的名字都存在。

这些规则写在 CONTRIBUTING.md 的模块表里；这里把它们变成会失败的检查。
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import dlzh

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "code" / "dlzh"
TESTS = ROOT / "tests"


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py")


def _test_candidates(module: Path) -> list[Path]:
    """``a/b/c.py`` 的测试是 ``tests/a/b/test_c.py``；子包里的脚本也可以由 ``tests/a/test_b.py`` 一起测。"""
    rel = module.relative_to(PACKAGE)
    candidates = [TESTS / rel.parent / f"test_{rel.stem}.py"]
    if rel.parent != Path("."):
        candidates.append(TESTS / rel.parent.parent / f"test_{rel.parent.name}.py")
    return candidates


def test_every_module_has_a_test_module():
    missing = [
        f"{m.relative_to(ROOT)} -> {_test_candidates(m)[0].relative_to(ROOT)}"
        for m in _modules()
        if not any(c.exists() for c in _test_candidates(m))
    ]
    assert not missing, "这些模块没有对应的测试模块 / modules without tests:\n" + "\n".join(missing)


def _top_level_dlzh_imports(path: Path) -> set[str]:
    """模块顶层（不含函数体内的延迟导入）导入的 ``dlzh`` 模块名。"""
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("dlzh"):
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names if a.name.startswith("dlzh"))
    return names


def _imports_of(subpackage: str) -> dict[str, set[str]]:
    folder = PACKAGE / subpackage
    return {str(p.relative_to(PACKAGE)): _top_level_dlzh_imports(p) for p in folder.rglob("*.py")}


def test_plot_depends_on_training_only_through_history():
    """train.callbacks 画图要用 plot，plot 画历史要读 History：History 单独成模块，避免互相导入。"""
    bad = {
        module: sorted(n for n in names if n.startswith("dlzh.train") and n != "dlzh.train.history")
        for module, names in _imports_of("plot").items()
    }
    assert not {m: n for m, n in bad.items() if n}


@pytest.mark.parametrize(
    ("subpackage", "forbidden"),
    [
        ("data", ("dlzh.models", "dlzh.train", "dlzh.plot", "dlzh.optim", "dlzh.distributed")),
        ("models", ("dlzh.train", "dlzh.plot", "dlzh.optim", "dlzh.distributed")),
        ("train", ("dlzh.plot", "dlzh.models", "dlzh.optim", "dlzh.distributed")),
    ],
)
def test_lower_layers_do_not_import_higher_ones(subpackage, forbidden):
    bad = {
        module: sorted(n for n in names if n.startswith(forbidden))
        for module, names in _imports_of(subpackage).items()
    }
    assert not {m: n for m, n in bad.items() if n}


def test_runtime_package_does_not_import_the_book_tooling():
    """读者在 Colab 上只装 dlzh：它不能依赖 Sphinx 或书的构建工具。"""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            if any(n.split(".")[0] in {"sphinx", "myst_nb", "dlzh_book"} for n in names):
                offenders.append(str(path.relative_to(ROOT)))
    assert not offenders


def test_every_exported_name_exists():
    packages = [dlzh] + [
        importlib.import_module(info.name)
        for info in pkgutil.walk_packages(dlzh.__path__, "dlzh.")
        if info.ispkg and not info.name.endswith(".demos")
    ]
    missing = [
        f"{pkg.__name__}.{name}"
        for pkg in packages
        for name in getattr(pkg, "__all__", [])
        if not hasattr(pkg, name)
    ]
    assert len(packages) >= 6 and not missing


def _module_table() -> dict[str, str]:
    """CONTRIBUTING.md 模块表的行：``dlzh.xxx`` -> 这一行“放什么”的文字。"""
    rows = {}
    for line in (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0].startswith("`dlzh."):
            rows[cells[0].strip("`")] = cells[1]
    return rows


def test_contributing_module_table_matches_the_tree():
    """每个顶层模块和子包在表里有一行，子包的每个模块在它那一行里被点名。"""
    rows = _module_table()
    problems = []
    for entry in sorted(PACKAGE.iterdir()):
        if entry.name.startswith(("_", ".")) or entry.name == "py.typed":
            continue
        name = f"dlzh.{entry.stem}"
        if name not in rows:
            problems.append(f"{name}：表里没有这一行")
            continue
        if entry.is_dir():
            for child in sorted(entry.iterdir()):
                stem = child.stem if child.suffix == ".py" else child.name
                if stem.startswith("_") or not (child.suffix == ".py" or child.is_dir()):
                    continue
                if f"`{stem}`" not in rows[name] and f"`{stem}/`" not in rows[name]:
                    problems.append(f"{name}.{stem}：没有写进 {name} 那一行")
    assert not problems, (
        "CONTRIBUTING.md 的模块表与代码不一致 / module table out of date:\n" + "\n".join(problems)
    )
