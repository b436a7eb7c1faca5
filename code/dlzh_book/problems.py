"""让有问题的页面无处可藏：记下产生过警告的页面、列出执行失败的页面。

两个 Sphinx 的默认行为会让第二次构建“通过”一个有问题的页面：

- Sphinx 把读过的页面存进环境（pickle），下次只重新读取源文件变了的页面，而**不重放**
  没有重新读取的页面的警告（pitfalls #22）。所以这里记下本次构建中产生过警告的页面，
  存到 ``_build/dlzh/warned-docs.json``；下次构建强制重新读取它们，直到它们不再警告。
- 执行失败的笔记本不会进入执行缓存（pitfalls #5）。``nb_execution_raise_on_error: false``
  让 myst-nb 不在第一个失败的页面上中止构建，而是把结果记在 ``env.nb_metadata`` 里；
  构建结束时这里逐页列出所有失败的页面和它们的错误。
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util.logging import NAMESPACE, is_suppressed_warning

WARNED_FILE = "warned-docs.json"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_LOCATION = re.compile(r"^(?P<path>.+?)(?::(?P<line>\d+))?(?::.*)?$")


class WarningRecorder(logging.Handler):
    """挂在 Sphinx 的日志器上、排在所有处理器之前的处理器：记下每条警告属于哪个页面。

    排在最前：``-W`` 且不加 ``--keep-going`` 时，Sphinx 自己的处理器会在第一条警告上抛出异常，
    之后的处理器就看不到它了。
    """

    def __init__(self, app: Sphinx) -> None:
        super().__init__(logging.WARNING)
        self.app = app
        self.docs: set[str] = set()

    def attach(self) -> WarningRecorder:
        logging.getLogger(NAMESPACE).handlers.insert(0, self)
        return self

    def detach(self) -> None:
        logging.getLogger(NAMESPACE).removeHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            suppressed = is_suppressed_warning(
                getattr(record, "type", None),
                getattr(record, "subtype", None),
                self.app.config.suppress_warnings,
            )
            if not suppressed:
                docname = self.docname_of(record)
                if docname:
                    self.docs.add(docname)
        except Exception:  # 记录警告绝不能让构建本身出错
            self.handleError(record)

    def docname_of(self, record: logging.LogRecord) -> str | None:
        env = getattr(self.app, "env", None)
        if env is None:
            return None
        location: Any = getattr(record, "location", None)
        if isinstance(location, tuple) and location:
            location = location[0]
        # 产生记录时正在读取的页面（并行读取时记录在子进程里产生、在主进程里才到这里）
        current = getattr(record, "dlzh_docname", None) or env.temp_data.get("docname")
        if location is None:
            return current
        if not isinstance(location, str):  # docutils 节点
            from sphinx.util.logging import get_node_location

            location = get_node_location(location) or ""
        if location in env.all_docs or location in env.found_docs:
            return location
        match = _LOCATION.match(location)
        if match:
            docname = env.path2doc(match["path"])
            if docname:
                return docname
        return current


def load_warned(folder: Path) -> set[str]:
    path = folder / WARNED_FILE
    try:
        return set(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return set()


def save_warned(folder: Path, read_now: Iterable[str], warned_now: Iterable[str]) -> set[str]:
    """本次重新读取过的页面以本次的结果为准；没有读取的页面保留上次的记录。"""
    docs = (load_warned(folder) - set(read_now)) | set(warned_now)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / WARNED_FILE).write_text(json.dumps(sorted(docs), ensure_ascii=False), "utf-8")
    return docs


def failed_pages(env: BuildEnvironment) -> list[tuple[str, dict]]:
    """``(页面, exec_data)``：本书中执行失败的页面。"""
    result = []
    for docname, data in sorted(getattr(env, "nb_metadata", {}).items()):
        exec_data = data.get("exec_data") or {}
        if exec_data.get("succeeded") is False and docname in env.found_docs:
            result.append((docname, exec_data))
    return result


def error_summary(exec_data: dict, max_lines: int = 12) -> str:
    """错误的要点：traceback 的最后几行（去掉终端颜色码）。"""
    text = _ANSI.sub("", exec_data.get("traceback") or "").strip()
    lines = [line for line in text.splitlines() if line.strip()]
    tail = "\n".join(lines[-max_lines:])
    return tail or str(exec_data.get("error") or "未知错误 / unknown error")


def print_failures(app: Sphinx, failed: list[tuple[str, dict]], stream: Any = None) -> None:
    stream = stream or sys.stderr
    out = [
        "",
        f"执行失败的页面共 {len(failed)} 个（修好后重新构建；这些页面下次一定会重新执行）"
        f" / {len(failed)} page(s) failed to execute:",
    ]
    for docname, data in failed:
        out.append(f"\n--- {app.env.doc2path(docname)} ({docname}) ---")
        out.append(error_summary(data))
    stream.write("\n".join(out) + "\n")
    stream.flush()
