"""本书自己的 Sphinx 扩展（在 ``_config.yml`` 的 ``sphinx.extra_extensions`` 中启用）。

它负责四件 Jupyter Book 本身不管、但会悄悄出错的事：

1. 术语表：``_data/glossary.csv`` 生成术语表页面，同时生成 jieba 用户词典并以**绝对路径**
   交给 Sphinx 的中文搜索，让“梯度下降”“交叉熵损失”这样的复合词能被整体搜到。
2. 执行缓存守卫：``dlzh`` 包（或其他被监视的路径）改变后清空执行缓存、重新读取所有页面，
   避免页面显示旧输出（见 :mod:`dlzh.sphinxext.cache_guard`）。
3. 失败页面不被隐藏：上次执行失败的页面每次构建都重新读取，第二次构建照样失败。
4. 执行报告：``{dlzh-exec-report}`` 指令在每次构建时生成各页执行时间、状态和运行环境表。

另外 :mod:`dlzh.sphinxext.site` 负责发布网站的细节：本地 MathJax、已执行笔记本的下载与 Colab
按钮、404 页、Open Graph 元标签和 sitemap。
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.environment import BuildEnvironment
from sphinx.util import logging

from dlzh.sphinxext import cache_guard, glossary, report, site

LOGGER = logging.getLogger(__name__)
GLOSSARY_MARKER = "```{dlzh-glossary}\n```"


def _default_watch() -> list[str]:
    """默认监视整个 dlzh 包，但不含 sphinxext：构建扩展本身的改动不影响页面输出，
    不必因此重新执行整本书。"""
    import dlzh

    package = Path(dlzh.__file__).parent
    return [str(p) for p in sorted(package.iterdir()) if p.name not in {"sphinxext", "__pycache__"}]


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


def _on_config_inited(app: Sphinx, config: Config) -> None:
    # 1. 术语 -> jieba 词典（绝对路径；相对路径会按进程当前目录解析，失败时无声无息）。
    terms = glossary.read_glossary(_resolve(app, config.dlzh_glossary))
    dict_path = glossary.write_jieba_dict(
        terms, Path(app.doctreedir).parent / "dlzh" / "jieba.dict"
    )
    options = dict(config.html_search_options or {})
    options["dict"] = str(dict_path)
    config.html_search_options = options
    app.dlzh_terms = terms  # type: ignore[attr-defined]

    # 2. 每个档位一份执行缓存；被监视的代码变了 -> 清空该档位的缓存。
    from dlzh.config import get_profile

    profile = get_profile()
    cache_value = getattr(config, "nb_execution_cache_path", "") or ""
    base = _resolve(app, cache_value) if cache_value else Path(app.outdir).parent / ".jupyter_cache"
    cache_path = base / profile
    config.nb_execution_cache_path = str(cache_path)
    # 包哈希的印记与执行缓存放在一起（CI 只缓存 .jupyter_cache 也不会丢）；
    # “上次用的档位”属于 Sphinx 环境，放在 _build/dlzh。
    env_dir = Path(app.doctreedir).parent / "dlzh"
    watch = [_resolve(app, p) for p in (config.dlzh_watch_paths or _default_watch())]
    changed, digest = cache_guard.check_and_invalidate(watch, cache_path, base, profile)
    switched = cache_guard.profile_switched(env_dir, profile)
    app.dlzh_reread_all = changed or switched  # type: ignore[attr-defined]
    app.dlzh_stamp = (base, env_dir, digest, profile)  # type: ignore[attr-defined]
    if changed:
        LOGGER.info(f"[dlzh] 被监视的代码已改变，清空 {profile} 档位的执行缓存并重新执行所有页面")
    elif switched:
        LOGGER.info(f"[dlzh] 档位切换为 {profile}，重新读取所有页面")


def _on_source_read(app: Sphinx, docname: str, source: list[str]) -> None:
    if GLOSSARY_MARKER in source[0]:
        app.env.note_dependency(str(_resolve(app, app.config.dlzh_glossary)))
        source[0] = source[0].replace(GLOSSARY_MARKER, glossary.glossary_myst(app.dlzh_terms))


def _on_env_get_outdated(
    app: Sphinx, env: BuildEnvironment, added: set[str], changed: set[str], removed: set[str]
) -> list[str]:
    if getattr(app, "dlzh_reread_all", False):
        return sorted(env.found_docs)
    # 失败的页面不会进入执行缓存；若不重新读取，Sphinx 会沿用上次的环境而“成功”结束。
    failed = [
        docname
        for docname, data in getattr(env, "nb_metadata", {}).items()
        if (data.get("exec_data") or {}).get("succeeded") is False and docname in env.found_docs
    ]
    return failed


_GLYPH = re.compile(r"Glyph \d+ .{0,80}missing from (?:current )?font")


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


def _on_build_finished(app: Sphinx, exception: Exception | None) -> None:
    if exception is None and getattr(app, "dlzh_stamp", None):
        base, env_dir, digest, profile = app.dlzh_stamp
        cache_guard.write_stamp(base, digest, profile, env_dir)


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("dlzh_glossary", "_data/glossary.csv", "env", [str])
    app.add_config_value("dlzh_watch_paths", [], "env", [list])
    app.connect("config-inited", _on_config_inited)
    app.connect("source-read", _on_source_read)
    app.connect("env-get-outdated", _on_env_get_outdated)
    app.connect("doctree-read", _on_doctree_read)
    app.connect("build-finished", _on_build_finished)
    report.setup(app)
    site.setup(app)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
