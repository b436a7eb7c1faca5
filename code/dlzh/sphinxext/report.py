"""执行报告：每次构建都重新生成的“各页执行时间和状态 + 运行环境”表。

页面里只放一个 ``{dlzh-exec-report}`` 占位指令；真正的表格在所有页面执行完后、
写 HTML 之前由后处理变换填入。``env-updated`` 每次都把报告页列为需要重写，
因此它永远不会停留在执行缓存或 Sphinx 环境里的旧数据上。
"""

from __future__ import annotations

import importlib.metadata
import platform
from datetime import datetime

from docutils import nodes
from sphinx.addnodes import pending_xref
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util.docutils import SphinxDirective


class exec_report_node(nodes.General, nodes.Element):
    """占位节点。"""


class ExecReportDirective(SphinxDirective):
    def run(self) -> list[nodes.Node]:
        docs = getattr(self.env, "dlzh_report_docs", set())
        docs.add(self.env.docname)
        self.env.dlzh_report_docs = docs
        return [exec_report_node()]


def _table(header: list[str], rows: list[list[nodes.Node | str]]) -> nodes.table:
    table = nodes.table(classes=["colwidths-auto", "dlzh-exec-report"])
    group = nodes.tgroup(cols=len(header))
    table += group
    for _ in header:
        group += nodes.colspec(colwidth=1)
    head = nodes.thead()
    group += head
    row = nodes.row()
    for title in header:
        row += nodes.entry("", nodes.paragraph(text=title))
    head += row
    body = nodes.tbody()
    group += body
    for values in rows:
        row = nodes.row()
        for value in values:
            cell = value if isinstance(value, nodes.Node) else nodes.paragraph(text=value)
            row += nodes.entry("", cell)
        body += row
    return table


def environment_rows() -> list[list[str]]:
    """构建进程看到的运行环境；内核与构建进程同一虚拟环境、同一组环境变量。"""
    from dlzh.config import device_name, get_device, get_profile

    def version(name: str) -> str:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return "未安装"

    return [
        ["档位 (DLZH_PROFILE)", get_profile()],
        ["设备", f"{get_device()} — {device_name()}"],
        ["Python", platform.python_version()],
        ["PyTorch", version("torch")],
        ["torchvision", version("torchvision")],
        [
            "jupyter-book / myst-nb / Sphinx",
            f"{version('jupyter-book')} / {version('myst-nb')} / {version('sphinx')}",
        ],
        ["构建时间", datetime.now().strftime("%Y-%m-%d %H:%M:%S")],
    ]


_METHOD = {"cache": "缓存", "auto": "执行", "force": "执行", "inline": "执行"}


class ExecReportTransform(SphinxPostTransform):
    default_priority = 8  # 在引用解析 (10) 之前，让页面链接照常解析

    def run(self, **kwargs) -> None:
        for node in list(self.document.findall(exec_report_node)):
            node.replace_self(self._build())

    def _build(self) -> list[nodes.Node]:
        env: BuildEnvironment = self.env
        metadata = getattr(env, "nb_metadata", {})
        rows, total, failed = [], 0.0, 0
        for docname in sorted(metadata):
            data = metadata[docname].get("exec_data")
            if not data or docname not in env.found_docs:
                continue
            link = pending_xref(
                "",
                refdoc=env.docname,
                reftarget="/" + docname,
                reftype="doc",
                refdomain="std",
                refexplicit=True,
            )
            title = env.titles.get(docname)
            link += nodes.inline(text=title.astext() if title else docname)
            runtime = data.get("runtime")
            total += runtime or 0.0
            ok = data.get("succeeded")
            failed += not ok
            status = "✅ 成功" if ok else f"❌ 失败（{data.get('error') or '未知错误'}）"
            when = (
                datetime.fromtimestamp(data["mtime"]).strftime("%Y-%m-%d %H:%M")
                if data.get("mtime")
                else ""
            )
            rows.append(
                [
                    nodes.paragraph("", "", link),
                    docname,
                    status,
                    _METHOD.get(data.get("method"), str(data.get("method"))),
                    "-" if runtime is None else f"{runtime:.1f}",
                    when,
                ]
            )
        summary = nodes.paragraph(
            text=f"共 {len(rows)} 个执行页面，失败 {failed} 个，执行时间合计 {total:.1f} 秒。"
            "“缓存”表示本次构建直接取用了执行缓存中的结果，时间是当初执行时的用时。"
        )
        return [
            _table(["项目", "取值"], environment_rows()),
            summary,
            _table(["页面", "文件", "状态", "方式", "用时 (秒)", "执行于"], rows),
        ]


def _env_updated(app: Sphinx, env: BuildEnvironment) -> list[str]:
    return sorted(getattr(env, "dlzh_report_docs", set()) & env.found_docs)


def _purge(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    getattr(env, "dlzh_report_docs", set()).discard(docname)


def _merge(app: Sphinx, env: BuildEnvironment, docnames: set[str], other: BuildEnvironment) -> None:
    env.dlzh_report_docs = getattr(env, "dlzh_report_docs", set()) | getattr(
        other, "dlzh_report_docs", set()
    )


def setup(app: Sphinx) -> None:
    app.add_node(exec_report_node)
    app.add_directive("dlzh-exec-report", ExecReportDirective)
    app.add_post_transform(ExecReportTransform)
    app.connect("env-updated", _env_updated)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
