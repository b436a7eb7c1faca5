"""同时执行几页：读取阶段（myst-nb 在这里执行笔记本）用 Sphinx 自己的并行读取。

为什么：整本书的构建时间几乎全花在执行笔记本上，而一个内核平均只用得上一个 CPU 核
（启动内核、导入 torch 和 matplotlib、画图都是单线程的）。在 2 核机器上同时跑两个内核、
每个内核的 PyTorch 用 1 个线程，整本 quick 构建明显更快（数字见 CONTRIBUTING）。

怎样做：

- 页数（``DLZH_BUILD_JOBS``，默认 ``auto``）：有 GPU 时是 1（几个内核抢一块显卡的显存
  没有好处），否则是 CPU 核数，最多 4；每个内核的 ``OMP_NUM_THREADS`` 设为核数除以页数
  （读者自己设了就不动），免得几个内核的线程互相抢核。
- 只有读取阶段并行：在 ``env-before-read-docs`` 时把 ``app.parallel`` 设为页数，读完
  （``env-updated``）再改回来。写 HTML 的阶段保持串行，因为并非所有扩展都声明了并行写安全
  （sphinx-external-toc 没有），Sphinx 会为此发出警告，而严格构建里警告即错误。
- 每个子进程只读一页：Sphinx 默认把页面按字母顺序分成约 20 页一块，一块里恰好都是
  训练很久的页面时，另一个进程早早闲下来；一页一块时最后最多只空等一页。
- 子进程里的警告会被送回主进程再记录，那时“正在读哪一页”已经不知道了；所以每条日志
  记录在产生时就带上当时的页面名（``dlzh_docname``），:mod:`dlzh_book.problems` 据此
  把警告算到正确的页面上。
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from typing import Any

from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment

JOBS_ENV = "DLZH_BUILD_JOBS"
MAX_AUTO_JOBS = 4
# 没有声明是否能并行读取、但读过源码确认可以的扩展（Sphinx 对未声明的扩展会警告并改为串行）
KNOWN_READ_SAFE = {
    # 只替换 TocTreeCollector.assign_section_numbers，它在主进程里、所有页面读完之后才运行
    "sphinx_multitoc_numbering",
    # 变换只改当前页面自己的文档树；给环境加属性的 builder-inited 处理器只在 LaTeX 构建时运行，
    # 且在主进程里、分出子进程之前
    "sphinx_jupyterbook_latex",
}


def choose_jobs(value: str | None, device: str, cpus: int | None) -> int:
    """由 ``DLZH_BUILD_JOBS`` 的值、设备类型和 CPU 核数决定同时执行几页。"""
    text = (value or "auto").strip().lower()
    if text == "auto":
        if device == "cuda":
            return 1
        return max(1, min(cpus or 1, MAX_AUTO_JOBS))
    try:
        jobs = int(text)
    except ValueError:
        jobs = 0
    if jobs < 1:
        raise ValueError(
            f"{JOBS_ENV}={value!r} 无效：请设为正整数（同时执行的页数）或 auto。"
            f" / {JOBS_ENV} must be a positive integer or 'auto'."
        )
    return jobs


def kernel_threads(jobs: int, cpus: int | None) -> int:
    """每个内核的 PyTorch 线程数：几个内核平分 CPU 核。"""
    return max(1, (cpus or 1) // jobs)


def one_page_chunks(arguments: Sequence[str], nproc: int, maxbatch: int = 10) -> list[list[str]]:
    """代替 :func:`sphinx.util.parallel.make_chunks`：每块一页（参数与原函数相同）。"""
    return [[name] for name in arguments]


class ParallelRead:
    """在一个 Sphinx 应用上启用“同时执行几页”；``jobs`` 为 1 时什么也不做。"""

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self._saved_parallel: int | None = None
        self._saved_chunks: Callable[..., Any] | None = None

    def configure_kernels(self, environ: dict[str, str] | os._Environ = os.environ) -> None:
        """并行时限制每个内核的线程数（内核继承构建进程的环境变量）。"""
        if self.jobs > 1 and not environ.get("OMP_NUM_THREADS"):
            environ["OMP_NUM_THREADS"] = str(kernel_threads(self.jobs, os.cpu_count()))

    def before_read(self, app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
        # 读者用 sphinx-build -j 自己指定了并行数时，以读者的为准
        if self.jobs <= 1 or app.parallel > 1:
            return
        import sphinx.builders

        for name, extension in app.extensions.items():
            if name in KNOWN_READ_SAFE and extension.parallel_read_safe is None:
                extension.parallel_read_safe = True
        self._saved_parallel = app.parallel
        self._saved_chunks = sphinx.builders.make_chunks
        app.parallel = self.jobs
        sphinx.builders.make_chunks = one_page_chunks  # type: ignore[assignment]

    def after_read(self, app: Sphinx, env: BuildEnvironment) -> list[str]:
        if self._saved_parallel is not None:
            import sphinx.builders

            app.parallel = self._saved_parallel
            sphinx.builders.make_chunks = self._saved_chunks  # type: ignore[assignment]
            self._saved_parallel = self._saved_chunks = None
        return []


def stamp_records_with_docname(app: Sphinx) -> None:
    """让每条日志记录带上产生它时正在读取的页面名（并行读取的子进程里也一样）。"""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "dlzh_stamps_docname", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        env = getattr(app, "env", None)
        temp = getattr(env, "temp_data", None) or {}
        record.dlzh_docname = temp.get("docname")
        return record

    factory.dlzh_stamps_docname = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
