"""本书自己的 Sphinx 扩展（``_config.yml`` 的 ``sphinx.local_extensions`` 启用它）。

它是书的构建工具，不属于读者安装的运行时包 ``dlzh``：读者在 Colab 上只装 ``dlzh``，
这里的代码（以及它依赖的 Sphinx）只在构建本书时用到。它负责 Jupyter Book 本身不管、
但会悄悄出错的几件事：

1. 内核环境：扩展自己给内核设好环境变量（``DLZH_BUILD=1``、关闭 tqdm 进度条、内联图形后端），
   所以直接运行 ``jb build book`` 与 ``make book`` 得到完全相同的页面，也没有写到 stderr 的进度条。
2. 术语表：``_data/glossary.csv`` 生成术语表页面，同时生成 jieba 用户词典并以**绝对路径**
   交给 Sphinx 的中文搜索；术语的别名在搜索索引里互为同义词（见 :mod:`dlzh_book.glossary`）。
3. 执行缓存的键：输出所依赖的东西（受 git 管理的 ``dlzh`` 源码、锁文件、PyTorch/CUDA 版本、
   设备、档位）变了就让缓存失效，并重新读取按旧键读入的页面（见 :mod:`dlzh_book.cache_guard`）。
   ``dlzh`` 的模块按页计入：改一个模块只重新执行内核导入过它的页面。
4. 有问题的页面不被隐藏：执行失败或产生过警告的页面在下次构建时一定重新读取，直到它干净为止
   （Sphinx 不会重放没有重新读取的页面的警告，见 :mod:`dlzh_book.problems`）；一次构建结束时
   逐页列出所有执行失败的页面和错误，并让构建失败。
5. 内核启动：每页仍用一个新内核，但它从预先导入了 torch 的孕育进程 fork 出来（见 :mod:`dlzh_book.zygote`）。
6. 执行报告：``{dlzh-exec-report}`` 指令列出每页本次是执行还是取自缓存、用时、档位、设备、
   版本和内核的峰值内存（见 :mod:`dlzh_book.report`）。

另外 :mod:`dlzh_book.site` 负责发布网站的细节：本地 MathJax、已执行笔记本的下载与 Colab
按钮（笔记本第一个单元在缺少 ``dlzh`` 时安装它）、404 页、Open Graph 元标签和 sitemap。
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.environment import BuildEnvironment
from sphinx.util import logging

from dlzh_book import cache_guard, glossary, parallel, problems, report, site, smoke, zygote

LOGGER = logging.getLogger(__name__)
GLOSSARY_MARKER = "```{dlzh-glossary}\n```"

# 内核继承构建进程的环境变量（jupyter_client 以 os.environ 启动内核）。在扩展里设置，
# 而不是只在构建命令里设置：读者直接运行 jb build book 时也必须一样（pitfalls #24）。
KERNEL_ENV = {
    # dlzh 的训练循环只打印每个迭代周期的摘要，不画逐批进度条
    "DLZH_BUILD": "1",
    # 第三方库（torchvision、timm 等）的 tqdm 进度条会写到 stderr，变成构建警告
    "TQDM_DISABLE": "1",
    # 输出按执行顺序进入页面
    "PYTHONUNBUFFERED": "1",
    # 图直接嵌进页面；外部设置的 MPLBACKEND=Agg 会让图消失
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
}


def setup_kernel_env(environ: dict[str, str] | None = None) -> dict[str, str]:
    """把 :data:`KERNEL_ENV` 写进 ``environ``（默认 ``os.environ``），返回被改动的旧值。"""
    environ = os.environ if environ is None else environ
    previous = {k: environ.get(k, "") for k in KERNEL_ENV if environ.get(k) != KERNEL_ENV[k]}
    environ.update(KERNEL_ENV)
    return previous


def _package_dir() -> Path:
    import dlzh

    return Path(dlzh.__file__).resolve().parent


def _book_root(app: Sphinx) -> Path:
    """书的根目录（含 ``_config.yml`` 的目录）。

    单页构建（``jb build book/某页.md``）时 Sphinx 的源目录是该页所在目录，
    所以相对路径要相对书的根目录解析，而不是相对 ``srcdir``。
    """
    start = Path(app.srcdir).resolve()
    for candidate in (start, *start.parents):
        if (candidate / "_config.yml").exists():
            return candidate
    return start


def _resolve(app: Sphinx, value: str) -> Path:
    path = Path(value)
    return path if path.is_absolute() else (_book_root(app) / path).resolve()


def state_dir(app: Sphinx) -> Path:
    """扩展在两次构建之间保存的状态（警告过的页面等），与 Sphinx 的环境放在一起。"""
    return Path(app.doctreedir).parent / "dlzh"


def _on_config_inited(app: Sphinx, config: Config) -> None:
    app.dlzh_build_started = time.time()  # type: ignore[attr-defined]
    app.dlzh_read_docs = set()  # type: ignore[attr-defined]

    # 1. 术语 -> jieba 词典（绝对路径；相对路径会按进程当前目录解析，失败时无声无息）。
    terms = glossary.read_glossary(_resolve(app, config.dlzh_glossary))
    dict_path = glossary.write_jieba_dict(terms, state_dir(app) / "jieba.dict")
    options = dict(config.html_search_options or {})
    options["dict"] = str(dict_path)
    config.html_search_options = options
    app.dlzh_terms = terms  # type: ignore[attr-defined]
    # 术语的别名（池化/汇聚、epoch/迭代周期）在搜索索引里互为同义词：搜任何一种写法都能找到页面。
    glossary.install_synonym_search(config.html_search_language or config.language, terms)
    # 术语或别名变了：让 Sphinx 重新写出所有页面，搜索索引才会包含新的写法。
    config.dlzh_glossary_digest = glossary.search_digest(terms)

    # 2. 每种“档位 + 冒烟”一份执行缓存；缓存键变了 -> 清空这一份并立即记下新键。
    package_dirs = [_resolve(app, p) for p in config.dlzh_watch_paths] or [_package_dir()]
    locks = (
        [_resolve(app, p) for p in config.dlzh_lock_files]
        if config.dlzh_lock_files is not None
        else sorted((_package_dir().parents[1] / "requirements").glob("*.txt"))
    )
    facts = cache_guard.runtime_facts()
    # 同时执行几页（见 dlzh_book.parallel）：无 GPU 时按 CPU 核数，有 GPU 时一页一页来
    jobs = parallel.choose_jobs(os.environ.get(parallel.JOBS_ENV), facts["device"], os.cpu_count())
    app.dlzh_parallel = parallel.ParallelRead(jobs)  # type: ignore[attr-defined]
    app.dlzh_parallel.configure_kernels()
    app.dlzh_device = facts["device"]  # type: ignore[attr-defined]
    # 冒烟构建不再执行不按档位分支的页面：它们的 full 档位就是 quick 档位那段代码（见 dlzh_book.smoke）
    if facts["smoke"] == "1":
        same = smoke.profile_independent_pages(_book_root(app))
        patterns = list(getattr(config, "nb_execution_excludepatterns", None) or [])
        config.nb_execution_excludepatterns = patterns + [p.as_posix() for p in same]
        LOGGER.info(f"[dlzh] 冒烟模式：{len(same)} 个页面不按档位分支，只渲染、不执行")
    hashes = cache_guard.package_hashes([d for d in package_dirs if d.exists()])
    parts = cache_guard.cache_key_parts(hashes, locks, facts)
    name = cache_guard.flavour(facts["profile"], facts["smoke"] == "1")
    cache_value = getattr(config, "nb_execution_cache_path", "") or ""
    base = _resolve(app, cache_value) if cache_value else Path(app.outdir).parent / ".jupyter_cache"
    cache_path = base / name
    config.nb_execution_cache_path = str(cache_path)
    # 印记和每页的键都与执行缓存放在一起：CI 只缓存 .jupyter_cache 也不会丢。
    doc_keys = cache_guard.DocKeys(base / f"dlzh-doc-keys-{name}.json")
    if cache_path.exists() and not doc_keys.path.exists():
        shutil.rmtree(cache_path)  # 不知道缓存里的页面依赖哪些模块：整份重来
    changed = cache_guard.sync_cache(
        cache_path, base / f"{cache_guard.STAMP_PREFIX}{name}.json", parts
    )
    key = cache_guard.digest_of(parts)
    if changed:
        doc_keys.entries.clear()
        doc_keys.save()
        LOGGER.info(
            f"[dlzh] 执行缓存 {name} 的键已改变（{', '.join(changed)}）：清空缓存，页面将重新执行"
        )
    # 3. 只有导入过的模块变了的页面才重新执行：删掉它们在缓存里的记录。
    outdated = doc_keys.outdated(key, hashes)
    doc_keys.invalidate(cache_path, outdated)
    if outdated:
        LOGGER.info(f"[dlzh] 导入的 dlzh 模块有改动，重新执行 {len(outdated)} 个页面")
    if jobs > 1:
        # 几个子进程会同时往执行缓存的 SQLite 库里写：先在主进程里建好库和表，免得它们抢着建
        from jupyter_cache import get_cache

        get_cache(str(cache_path)).list_cache_records()
    app.dlzh_key = key  # type: ignore[attr-defined]
    app.dlzh_hashes = hashes  # type: ignore[attr-defined]
    app.dlzh_doc_keys = doc_keys  # type: ignore[attr-defined]
    app.dlzh_outdated_sources = outdated  # type: ignore[attr-defined]


def _on_before_read_docs(app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
    # 在主进程里记下本次要读取的页面（并行读取时 source-read 发生在子进程里）
    app.dlzh_read_docs.update(docnames)
    app.dlzh_parallel.before_read(app, env, docnames)
    # 内核从预先导入了 torch 的孕育进程 fork 出来（每页省下约 4 秒，见 dlzh_book.zygote）；
    # 在主进程里、并行读取的子进程 fork 之前启动，子进程继承它的地址和登记好的内核启动器。
    if docnames and zygote.wanted(app.dlzh_device):
        app.dlzh_zygote.start()


def _on_source_read(app: Sphinx, docname: str, source: list[str]) -> None:
    keys = getattr(app.env, "dlzh_doc_keys", None)
    if keys is None:
        keys = app.env.dlzh_doc_keys = {}
    keys[docname] = app.dlzh_key
    if GLOSSARY_MARKER in source[0]:
        app.env.note_dependency(str(_resolve(app, app.config.dlzh_glossary)))
        source[0] = source[0].replace(GLOSSARY_MARKER, glossary.glossary_myst(app.dlzh_terms))


def _on_env_get_outdated(
    app: Sphinx, env: BuildEnvironment, added: set[str], changed: set[str], removed: set[str]
) -> list[str]:
    keys = getattr(env, "dlzh_doc_keys", {})
    # 按旧的缓存键读入的页面（输出可能来自旧代码、另一档位或另一设备）
    stale = {d for d in env.found_docs if keys.get(d) != app.dlzh_key}
    # 导入的模块变了、执行缓存里的记录已被删掉的页面
    for source in getattr(app, "dlzh_outdated_sources", ()):
        docname = env.path2doc(source)
        if docname in env.found_docs:
            stale.add(docname)
    # 执行失败的页面不会进入执行缓存；若不重新读取，Sphinx 会沿用上次的环境而“成功”结束。
    failed = {d for d, _ in problems.failed_pages(env)}
    # 上次产生过警告的页面：Sphinx 不会重放它们的警告，第二次严格构建就会“通过”。
    warned = problems.load_warned(state_dir(app)) & env.found_docs
    outdated = (stale | failed | warned) - added - changed
    if warned:
        LOGGER.info(f"[dlzh] 重新读取上次有警告的页面：{', '.join(sorted(warned))}")
    return sorted(outdated)


def _on_purge(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    getattr(env, "dlzh_doc_keys", {}).pop(docname, None)


def _on_merge(
    app: Sphinx, env: BuildEnvironment, docnames: set[str], other: BuildEnvironment
) -> None:
    keys = getattr(env, "dlzh_doc_keys", None)
    if keys is None:
        keys = env.dlzh_doc_keys = {}
    for docname in docnames:
        if docname in getattr(other, "dlzh_doc_keys", {}):
            keys[docname] = other.dlzh_doc_keys[docname]


_GLYPH = re.compile(r"Glyph \d+ .{0,80}missing from (?:current )?font")


def _record_doc_key(app: Sphinx, docname: str) -> None:
    """执行成功（或取自缓存）的页面：记下它的内核导入过的包模块和由此算出的键。"""
    exec_data = (getattr(app.env, "nb_metadata", {}).get(docname) or {}).get("exec_data")
    if not exec_data or exec_data.get("succeeded") is False:
        return
    notebook = Path(app.outdir).parent / "jupyter_execute" / f"{docname}.ipynb"
    info = report.read_run_info(notebook, app.config.nb_execution_cache_path) or {}
    modules = info.get("modules")
    modules = sorted(modules) if isinstance(modules, list) else None
    key = cache_guard.doc_key(app.dlzh_key, app.dlzh_hashes, modules)
    app.dlzh_doc_keys.set(str(app.env.doc2path(docname)), modules, key)


def _on_doctree_read(app: Sphinx, doctree: nodes.document) -> None:
    """任何单元输出里出现 Matplotlib 的缺字警告都算构建警告（-W 下即失败）。

    不依赖 ``stderr_output`` 配置：即使有人把它改成 show，方框字也不能悄悄上线。
    """
    for node in doctree.findall(nodes.literal_block):
        match = _GLYPH.search(node.astext())
        if match:
            LOGGER.warning(
                f"图中有缺字（{match.group(0)}…）：请安装 fonts-noto-cjk 并调用 dlzh.plot.use_style()"
                " / missing CJK glyphs in a figure",
                location=node,
                type="dlzh",
                subtype="glyph",
            )


def _on_env_updated(app: Sphinx, env: BuildEnvironment) -> list[str]:
    """所有页面读完之后（在主进程里）：为本次读取的执行页面记下它们依赖的包模块。"""
    app.dlzh_parallel.after_read(app, env)  # 写 HTML 的阶段串行
    app.dlzh_zygote.stop()  # 页面都读完了，不再启动内核
    if getattr(app, "dlzh_doc_keys", None) is not None:
        for docname in sorted(app.dlzh_read_docs & env.found_docs):
            _record_doc_key(app, docname)
        app.dlzh_doc_keys.save()
    return []


def _on_build_finished(app: Sphinx, exception: Exception | None) -> None:
    app.dlzh_zygote.stop()  # 读取中途出错时 env-updated 不会发生
    if getattr(app, "dlzh_doc_keys", None) is not None:
        app.dlzh_doc_keys.save()
    recorder = getattr(app, "dlzh_warning_recorder", None)
    if recorder is not None:
        problems.save_warned(state_dir(app), app.dlzh_read_docs, recorder.docs)
        recorder.detach()
    if getattr(app, "env", None) is None:
        return
    failed = [(d, data) for d, data in problems.failed_pages(app.env)]
    if failed:
        problems.print_failures(app, failed)
        if exception is None:
            # 不抛异常（那会删掉 Sphinx 的环境，下次整本书重新读取），只让退出码非零。
            app.statuscode = 1


def setup(app: Sphinx) -> dict[str, Any]:
    setup_kernel_env()
    app.add_config_value("dlzh_glossary", "_data/glossary.csv", "env", [str])
    app.add_config_value("dlzh_glossary_digest", "", "env", [str])
    # 缓存键包含的代码目录（默认：dlzh 包）与锁文件（默认：仓库的 requirements/*.txt）
    app.add_config_value("dlzh_watch_paths", [], "env", [list])
    app.add_config_value("dlzh_lock_files", None, "env", [list])
    app.connect("config-inited", _on_config_inited)
    app.connect("env-before-read-docs", _on_before_read_docs)
    app.connect("source-read", _on_source_read)
    app.connect("env-updated", _on_env_updated)
    app.connect("env-get-outdated", _on_env_get_outdated)
    app.connect("env-purge-doc", _on_purge)
    app.connect("env-merge-info", _on_merge)
    app.connect("doctree-read", _on_doctree_read)
    app.connect("build-finished", _on_build_finished, priority=900)
    app.dlzh_warning_recorder = problems.WarningRecorder(app).attach()
    app.dlzh_zygote = zygote.Zygote()
    parallel.stamp_records_with_docname(app)
    report.setup(app)
    site.setup(app)
    return {"version": "0.2", "parallel_read_safe": True, "parallel_write_safe": True}
