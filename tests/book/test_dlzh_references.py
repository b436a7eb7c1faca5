"""书页里对 dlzh 的每个引用都存在：改名或搬动模块时，漏改的页面在单元测试里就会暴露。

页面只在构建时执行，构建一次整本书要几分钟；这里静态地收集代码单元里的 ``from dlzh.x import a``、
``import dlzh.x`` 和 ``dlzh.x.y`` 形式的引用（包括正文中反引号里的 ``dlzh.x.y``），调用 dlzh 函数时
用的关键字参数，以及 ``literalinclude`` 指向的文件和 ``:pyobject:``，逐个确认能找到。
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BOOK = ROOT / "book"
PAGES = sorted(p for p in BOOK.rglob("*.md") if "_build" not in p.parts)
DOTTED = re.compile(r"(?<![\w.])dlzh(?:\.[A-Za-z_]\w*)+")
CELL = re.compile(r"```\{code-cell\}[^\n]*\n(.*?)```", re.S)
INCLUDE = re.compile(r"```\{literalinclude\}\s+(\S+)\s*\n((?::[^\n]*\n)*)")


_MISSING = object()


def _lookup(dotted: str) -> object:
    """``dlzh.a.b.c``：最长的可导入模块前缀，其余部分逐个 getattr；找不到时返回 ``_MISSING``。"""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            obj = getattr(obj, name, _MISSING)
            if obj is _MISSING:
                break
        return obj
    return _MISSING


def _resolve(dotted: str) -> bool:
    return _lookup(dotted) is not _MISSING


def _dotted(node: ast.expr, imported: dict[str, str]) -> str | None:
    """``benchmark`` 或 ``dlzh.bench.benchmark`` 这样的调用目标 -> 完整的点号名。"""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    head = imported.get(node.id, node.id if node.id == "dlzh" else None)
    return ".".join([head, *reversed(parts)]) if head else None


def _bad_keywords(text: str) -> list[str]:
    """调用 dlzh 的函数时传了它不接受的关键字参数（例如参数改名后漏改的页面）。"""
    problems = []
    for cell in CELL.findall(text):
        try:
            tree = ast.parse(_cell_source(cell))
        except SyntaxError:
            continue
        imported = {
            alias.asname or alias.name: f"{node.module}.{alias.name}"
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("dlzh")
            for alias in node.names
        }
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and node.keywords):
                continue
            target = _dotted(node.func, imported)
            obj = _lookup(target) if target else _MISSING
            if obj is _MISSING or not callable(obj):
                continue
            try:
                params = inspect.signature(obj).parameters.values()
            except (TypeError, ValueError):
                continue
            if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
                continue
            names = {p.name for p in params}
            problems += [
                f"{target}({k.arg}=...)" for k in node.keywords if k.arg and k.arg not in names
            ]
    return problems


def _cell_source(cell: str) -> str:
    """去掉单元的元数据（``---`` 包住的 YAML 块或 ``:tags:`` 行）和 IPython 魔法命令。"""
    lines = cell.splitlines()
    if lines and lines[0].strip() == "---":
        end = next((i for i, line in enumerate(lines[1:], 1) if line.strip() == "---"), 0)
        lines = lines[end + 1 :]
    while lines and lines[0].startswith(":"):
        lines = lines[1:]
    return "\n".join(line for line in lines if not line.lstrip().startswith(("%", "!")))


def _references(text: str) -> set[str]:
    refs = {m.group(0) for m in DOTTED.finditer(text)}
    for cell in CELL.findall(text):
        try:
            tree = ast.parse(_cell_source(cell))
        except SyntaxError:
            continue  # 演示语法错误之类的单元：上面的正则已经收集了点号引用
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("dlzh"):
                refs.update(f"{node.module}.{a.name}" for a in node.names if a.name != "*")
            elif isinstance(node, ast.Import):
                refs.update(a.name for a in node.names if a.name.startswith("dlzh"))
    return refs


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(BOOK)))
def test_every_dlzh_reference_on_the_page_exists(page):
    text = page.read_text(encoding="utf-8")
    missing = sorted(ref for ref in _references(text) if not _resolve(ref))
    assert not missing, f"{page.relative_to(ROOT)} 引用了不存在的名字 / unknown names: {missing}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(BOOK)))
def test_calls_into_dlzh_use_existing_keyword_arguments(page):
    problems = _bad_keywords(page.read_text(encoding="utf-8"))
    assert not problems, (
        f"{page.relative_to(ROOT)} 的调用用了不存在的参数 / unknown keywords: {problems}"
    )


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(BOOK)))
def test_every_literalinclude_points_at_an_existing_object(page):
    problems = []
    for target, options in INCLUDE.findall(page.read_text(encoding="utf-8")):
        path = (page.parent / target).resolve()
        if not path.exists():
            problems.append(f"{target}：文件不存在")
            continue
        match = re.search(r":pyobject:\s*(\S+)", options)
        if match and path.suffix == ".py":
            names = {
                node.name
                for node in ast.parse(path.read_text(encoding="utf-8")).body
                if isinstance(node, ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef)
            }
            if match.group(1) not in names:
                problems.append(f"{target} 里没有 {match.group(1)}")
    assert not problems, f"{page.relative_to(ROOT)}: {problems}"
