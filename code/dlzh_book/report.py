"""执行报告：每次构建都重新生成的“运行环境 + 各页执行记录”表。

每页一行：成功或失败、本次执行还是取自缓存、用时、峰值内存、档位、设备、PyTorch 版本。
后四项来自页面最后一个单元 ``dlzh.run_info()`` 在笔记本输出元数据里留下的记录（内核自己测的
峰值常驻内存），所以取自缓存的页面也报告它当初执行时的环境。

页面里只放一个 ``{dlzh-exec-report}`` 占位指令；真正的表格在所有页面执行完后、
写 HTML 之前由后处理变换填入。``env-updated`` 每次都把报告页列为需要重写，
因此它永远不会停留在执行缓存或 Sphinx 环境里的旧数据上。
"""

from __future__ import annotations

import importlib.metadata
import platform
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from docutils import nodes
from sphinx.addnodes import pending_xref
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util.docutils import SphinxDirective

from dlzh_book.notebooks import load_executed


class exec_report_node(nodes.General, nodes.Element):
    """占位节点。"""


class ExecReportDirective(SphinxDirective):
    def run(self) -> list[nodes.Node]:
        docs = getattr(self.env, "dlzh_report_docs", set())
        docs.add(self.env.docname)
        self.env.dlzh_report_docs = docs
        return [exec_report_node()]


def _table(
    header: list[str], rows: list[list[nodes.Node | str]], classes: list[str] | None = None
) -> nodes.table:
    table = nodes.table(classes=["colwidths-auto", "dlzh-exec-report", *(classes or [])])
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
    import torch

    from dlzh.config import device_name, get_device, get_profile
    from dlzh.profile import is_smoke

    def version(name: str) -> str:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return "未安装"

    profile = get_profile() + ("（冒烟模式：每个训练/评估循环只跑几个批量）" if is_smoke() else "")
    return [
        ["档位 (DLZH_PROFILE)", profile],
        ["设备", f"{get_device()} — {device_name()}"],
        ["Python", platform.python_version()],
        ["PyTorch", f"{version('torch')}（CUDA {torch.version.cuda or '无'}）"],
        ["torchvision", version("torchvision")],
        [
            "jupyter-book / myst-nb / Sphinx",
            f"{version('jupyter-book')} / {version('myst-nb')} / {version('sphinx')}",
        ],
        ["构建时间", datetime.now().strftime("%Y-%m-%d %H:%M:%S")],
    ]


RUN_INFO_KEY = "dlzh.run_info"  # 与 dlzh.config.RUN_INFO_KEY 相同：输出元数据里的键


def run_info_of(notebook: dict | None) -> dict | None:
    """``dlzh.run_info()`` 放在输出元数据里的字典（最后一份）；没有则为 None。"""
    found = None
    for cell in (notebook or {}).get("cells", []):
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            data = (output.get("metadata") or {}).get(RUN_INFO_KEY)
            if isinstance(data, dict):
                found = data
    return found


def read_run_info(notebook: Path, cache_path: str | Path | None = None) -> dict | None:
    """从已执行的笔记本（输出不在文件里时从执行缓存）取出 ``dlzh.run_info()`` 的记录。"""
    return run_info_of(load_executed(notebook, cache_path))


@dataclass
class PageRun:
    """执行报告中的一行。"""

    docname: str
    succeeded: bool
    executed_now: bool
    runtime_s: float | None
    executed_at: float | None
    error: str = ""
    info: dict | None = None

    @property
    def status(self) -> str:
        return "成功" if self.succeeded else "失败"

    @property
    def source(self) -> str:
        return "本次执行" if self.executed_now else "取自缓存"

    def profile(self) -> str:
        if not self.info:
            return "-"
        return self.info.get("profile", "-") + ("（冒烟）" if self.info.get("smoke") else "")

    def memory(self) -> str:
        peak = (self.info or {}).get("peak_memory_mib")
        return "-" if peak is None else f"{peak:.0f}"


def page_runs(
    metadata: dict,
    found_docs: set[str],
    read_now: set[str],
    build_started: float,
    outdir: Path,
    cache_path: str | Path | None = None,
) -> list[PageRun]:
    """每个执行过的页面的运行记录。

    myst-nb 的 ``exec_data`` 不区分“本次执行”和“取自缓存”（两者的 method 都是 cache）：
    本次构建读取了这一页、且执行时间晚于构建开始，才算本次执行。
    """
    runs = []
    for docname in sorted(metadata):
        data = metadata[docname].get("exec_data")
        if not data or docname not in found_docs:
            continue
        mtime = data.get("mtime")
        executed_now = docname in read_now and mtime is not None and mtime >= build_started - 1
        ok = data.get("succeeded") is not False
        runs.append(
            PageRun(
                docname=docname,
                succeeded=ok,
                executed_now=executed_now or not ok,
                runtime_s=data.get("runtime"),
                executed_at=mtime,
                error="" if ok else str(data.get("error") or "未知错误"),
                info=read_run_info(
                    outdir.parent / "jupyter_execute" / f"{docname}.ipynb", cache_path
                ),
            )
        )
    return runs


class ExecReportTransform(SphinxPostTransform):
    default_priority = 8  # 在引用解析 (10) 之前，让页面链接照常解析

    def run(self, **kwargs) -> None:
        for node in list(self.document.findall(exec_report_node)):
            node.replace_self(self._build())

    def _link(self, docname: str) -> nodes.paragraph:
        link = pending_xref(
            "",
            refdoc=self.env.docname,
            reftarget="/" + docname,
            reftype="doc",
            refdomain="std",
            refexplicit=True,
        )
        title = self.env.titles.get(docname)
        link += nodes.inline(text=title.astext() if title else docname)
        return nodes.paragraph("", "", link)

    def _build(self) -> list[nodes.Node]:
        env: BuildEnvironment = self.env
        app = self.app
        runs = page_runs(
            getattr(env, "nb_metadata", {}),
            set(env.found_docs),
            getattr(app, "dlzh_read_docs", set()),
            getattr(app, "dlzh_build_started", 0.0),
            Path(app.outdir),
            app.config.nb_execution_cache_path,
        )
        rows = []
        for run in runs:
            status = run.status if run.succeeded else f"失败：{run.error}"
            when = (
                datetime.fromtimestamp(run.executed_at).strftime("%Y-%m-%d %H:%M")
                if run.executed_at
                else "-"
            )
            info = run.info or {}
            rows.append(
                [
                    self._link(run.docname),
                    status,
                    run.source,
                    "-" if run.runtime_s is None else f"{run.runtime_s:.1f}",
                    run.memory(),
                    run.profile(),
                    info.get("device", "-"),
                    info.get("torch_version", "-"),
                    when,
                ]
            )
        now = sum(r.executed_now for r in runs)
        failed = sum(not r.succeeded for r in runs)
        total = sum(r.runtime_s or 0.0 for r in runs)
        summary = nodes.paragraph(
            text=f"共 {len(runs)} 个执行页面：本次执行 {now} 个，取自缓存 {len(runs) - now} 个，"
            f"失败 {failed} 个；各页执行时间合计 {total:.1f} 秒。"
            "“取自缓存”的页面，其用时、档位、设备和内存都是当初执行时的记录。"
        )
        header = [
            "页面",
            "状态",
            "本次",
            "用时 (秒)",
            "峰值内存 (MiB)",
            "档位",
            "设备",
            "PyTorch",
            "执行于",
        ]
        return [
            _table(["项目", "取值"], environment_rows()),
            summary,
            _table(header, rows, classes=["dlzh-page-runs"]),
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
