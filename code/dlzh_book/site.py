"""发布网站时的几件细事：都在 HTML 构建里完成，不依赖任何 CDN 或外部服务。

1. **本地 MathJax**：把 npm 包 ``mathjax``（``package.json`` 里固定版本，``npm ci`` 安装）中
   CHTML 输出需要的部分复制到 ``_static/mathjax/``，并把 ``mathjax_path`` 指向它。
   离线阅读、内网镜像和 CDN 出故障时公式照样显示。
2. **已执行的笔记本**：myst-nb 把每个执行过的页面写成 ``_build/jupyter_execute/<页面>.ipynb``；
   构建结束时把有代码单元的那些写到 ``_notebooks/<页面>.ipynb``，页面右上角多出
   “下载 .ipynb”和“在 Colab 中打开”两个按钮。Colab 打不开 MyST ``.md``（pitfalls #10），
   所以它指向已执行的 ``.ipynb``：发布工作流把 ``_notebooks/`` 推送到仓库的 ``notebooks`` 分支。
   发布的笔记本第一个单元是安装单元：环境里没有 ``dlzh`` 时，从构建这一页的那次提交安装它，
   并把已装好的 PyTorch/torchvision 固定为现有版本（不会被换掉或重新下载）。
3. **404 页**：``only_build_toc_files`` 下不在目录里的页面不会被构建，所以 ``404.html`` 由这里生成：
   一个自带样式的独立页面，链接都用 ``html_baseurl`` 的绝对地址（GitHub Pages 在任意深度的
   路径上都返回它，相对链接会失效）。
4. **Open Graph 与 sitemap**：``og:*`` 元标签交给 ``sphinxext-opengraph``，这里只按
   ``html_baseurl`` 配好它（绝对地址、中文 locale、不生成社交卡片图片）。``sitemap.xml`` 仍是
   手写的（见 :func:`write_sitemap`：sphinx-sitemap 在增量构建时漏掉没有重写的页面）；404 页也是：
   ``sphinx-notfound-page`` 用主题渲染、从绝对前缀加载 CSS/JS，本地预览（``make serve``）下
   资源全部 404，而一个内联样式的独立页面在哪里、任意深度都能显示。
5. **浏览器控制台保持干净**（``tests/browser`` 不忽略任何控制台错误），修掉三处上游的小毛病：
   Sphinx 7.4 把构建器初始化之后登记的内联脚本写两遍（``const THEBE_JS_URL`` 重复声明，报语法错误）；
   pydata-sphinx-theme 在没有 ``default_mode`` 时报 “Got invalid theme mode”；没有图标时浏览器去取
   不存在的 ``/favicon.ico``。
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import quote
from xml.sax.saxutils import escape as xml_escape

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ExtensionError
from sphinx.util import logging

from dlzh_book.notebooks import load_executed

LOGGER = logging.getLogger(__name__)

# Sphinx 的默认值（CDN 地址）；只在用户没有自己指定 mathjax_path 时改成本地文件。
_SPHINX_MATHJAX_URL = "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"
MATHJAX_PATH = "mathjax/tex-mml-chtml.js"  # 相对 _static/
# es5/ 有 24 MB；CHTML 输出只需要下面这些（约 8 MB）。
MATHJAX_PARTS = (
    "tex-mml-chtml.js",  # 组合组件：TeX 与 MathML 输入、CHTML 输出、右键菜单
    "input/tex/extensions",  # 按需自动加载的 TeX 扩展（\color、\cancel、\boldsymbol 等）
    "input/mml",  # MathML 扩展（mml3）
    "output/chtml/fonts/woff-v2",  # CHTML 输出用的 MathJax TeX 字体
    "ui",  # 菜单按需加载的部件
    "a11y",  # 菜单里的无障碍选项（探索器、语音）
    "sre",  # 语音规则引擎及其 mathmaps（由 a11y 按需加载）
)
NOTEBOOK_DIR = "_notebooks"
COLAB = "https://colab.research.google.com/github/"
# 内联的网站图标：没有它，浏览器会请求网站根目录下并不存在的 /favicon.ico（控制台报 404）。
_FAVICON_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
    '<rect width="32" height="32" rx="6" fill="#2a6db0"/>'
    '<text x="16" y="23" font-size="20" text-anchor="middle" fill="#fff" '
    'font-family="sans-serif">学</text></svg>'
)
FAVICON_LINK = f'<link rel="icon" href="data:image/svg+xml,{quote(_FAVICON_SVG)}" />'


# ---------------------------------------------------------------- MathJax


def find_mathjax(app: Sphinx) -> Path | None:
    """找 ``node_modules/mathjax/es5``：先看书的根目录及其上层，再看 dlzh 包所在的仓库。"""
    from dlzh_book import _book_root

    configured = app.config.dlzh_mathjax_dir
    if configured:
        path = Path(configured)
        path = path if path.is_absolute() else (_book_root(app) / path).resolve()
        return path if (path / "tex-mml-chtml.js").exists() else None
    starts = [_book_root(app), Path(__file__).resolve().parents[2]]
    for start in starts:
        for folder in (start, *start.parents):
            es5 = folder / "node_modules" / "mathjax" / "es5"
            if (es5 / "tex-mml-chtml.js").exists():
                return es5
    return None


def copy_mathjax(es5: Path, dest: Path) -> bool:
    """把 MathJax 需要的部分复制到 ``dest``；内容没变就跳过。返回是否真的复制了。"""
    package = json.loads((es5.parent / "package.json").read_text(encoding="utf-8"))
    stamp = f"mathjax {package['version']}: {' '.join(MATHJAX_PARTS)}\n"
    marker = dest / ".dlzh-mathjax"
    if marker.exists() and marker.read_text(encoding="utf-8") == stamp:
        return False
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    for part in MATHJAX_PARTS:
        src, out = es5 / part, dest / part
        if src.is_dir():
            shutil.copytree(src, out)
        else:
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, out)
    shutil.copy2(es5.parent / "LICENSE", dest / "LICENSE")
    marker.write_text(stamp, encoding="utf-8")
    return True


def configure_site_extensions(config: Config) -> None:
    """按 ``html_baseurl`` 配置 sphinxext-opengraph（用户自己设过的值不动）。"""
    base = getattr(config, "html_baseurl", "") or ""
    if base and not getattr(config, "ogp_site_url", ""):
        config.ogp_site_url = base.rstrip("/") + "/"
    if getattr(config, "ogp_site_name", None) is None:
        config.ogp_site_name = getattr(config, "html_title", "") or getattr(config, "project", "")
    if getattr(config, "ogp_social_cards", None) is None:
        # 默认会用 Matplotlib 给每页画一张卡片图：慢，而且没有中文字体时是方框字。
        config.ogp_social_cards = {"enable": False}
    if not getattr(config, "ogp_custom_meta_tags", ()):
        config.ogp_custom_meta_tags = ['<meta property="og:locale" content="zh_CN" />']


def _on_config_inited(app: Sphinx, config: Config) -> None:
    configure_site_extensions(config)
    local = getattr(config, "mathjax_path", None) in ("", _SPHINX_MATHJAX_URL, MATHJAX_PATH)
    app.dlzh_local_mathjax = local  # type: ignore[attr-defined]
    if local:
        config.mathjax_path = MATHJAX_PATH

    # pydata-sphinx-theme 的 default_mode 是模板变量；缺省为空时每个首次访问的读者都会在控制台
    # 看到 “Got invalid theme mode: .”。显式设为 auto（跟随系统的浅色/深色设置）。
    config.html_context = {"default_mode": "auto", **(config.html_context or {})}

    if config.dlzh_colab_notebook_base is None:
        # 默认：发布工作流（.github/workflows/publish.yml）把已执行的笔记本推送到仓库的
        # notebooks 分支，Colab 从那里打开 <页面>.ipynb。设为 "" 则不显示 Colab 按钮。
        repo = (config.html_theme_options or {}).get("repository_url", "")
        m = re.match(r"https://github\.com/([^/]+)/([^/]+?)(?:\.git)?/?$", repo or "")
        config.dlzh_colab_notebook_base = f"{COLAB}{m[1]}/{m[2]}/blob/notebooks/" if m else ""


def _on_builder_inited(app: Sphinx) -> None:
    # 在写页面之前复制，Sphinx 才能给 <script src=...> 加上内容校验和（?v=...）。
    if app.builder.format != "html" or not getattr(app, "dlzh_local_mathjax", False):
        return
    es5 = find_mathjax(app)
    if es5 is None:
        raise ExtensionError(
            "找不到 MathJax（node_modules/mathjax）：请在仓库根目录运行 `npm ci`"
            "（`make book` 会通过 scripts/setup-env.sh 自动运行）。\n"
            "MathJax not found (node_modules/mathjax): run `npm ci` in the repository root."
        )
    if copy_mathjax(es5, Path(app.outdir) / "_static" / "mathjax"):
        LOGGER.info(f"[dlzh] 已把 MathJax 复制到 _static/mathjax（来自 {es5}）")


# ---------------------------------------------------------------- 已执行的笔记本


def executed_notebook(app: Sphinx, docname: str) -> Path | None:
    """myst-nb 为这一页写出的已执行笔记本；不是笔记本或没有代码单元时返回 None。"""
    if "kernelspec" not in app.env.metadata.get(docname, {}):
        return None
    path = Path(app.outdir).parent / "jupyter_execute" / f"{docname}.ipynb"
    if not path.exists():
        return None
    try:
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError):
        return None
    return path if any(c.get("cell_type") == "code" for c in cells) else None


def _notebook_buttons(app: Sphinx, pagename: str, context: dict[str, Any]) -> None:
    buttons = context.get("header_buttons")
    if buttons is None or executed_notebook(app, pagename) is None:
        return
    download = {
        "type": "link",
        "url": context["pathto"](f"{NOTEBOOK_DIR}/{pagename}.ipynb", 1),
        "text": "下载 .ipynb",
        "tooltip": "下载已执行的笔记本（含输出）",
        "icon": "fas fa-code",
        "label": "download-executed-notebook-button",
    }
    group = next((b for b in buttons if b.get("label") == "download-buttons"), None)
    if group is not None:
        group["buttons"].insert(0, download)
    else:
        buttons.insert(0, {**download, "text": "", "tooltip": "下载 .ipynb"})
    base = app.config.dlzh_colab_notebook_base
    if base:
        colab = {
            "type": "link",
            "url": f"{base.rstrip('/')}/{pagename}.ipynb",
            "text": "在 Colab 中打开",
            "tooltip": "在 Google Colab 中打开已执行的笔记本",
            "icon": "_static/images/logo_colab.png",
            "label": "colab-button",
        }
        buttons.insert(
            buttons.index(group) + 1 if group is not None else 1,
            {
                "type": "group",
                "tooltip": "在线运行本页代码",
                "icon": "fas fa-rocket",
                "buttons": [colab],
                "label": "dlzh-launch-buttons",
            },
        )


INSTALL_TAG = "dlzh-install"
_INSTALL_CELL = """\
# 在 Colab 等还没有 dlzh 的环境里运行本笔记本时，先安装构建本页的那个版本的 dlzh。
# 已经装好的 PyTorch 和 torchvision 被固定为现有版本：安装不会替换或重新下载它们。
import importlib.util
import subprocess
import sys

if importlib.util.find_spec("dlzh") is None:
    from importlib.metadata import PackageNotFoundError, version

    pins = []
    for name in ("torch", "torchvision"):
        try:
            pins.append(f"{{name}}=={{version(name)}}")
        except PackageNotFoundError:
            pass
    with open("dlzh-constraints.txt", "w", encoding="utf-8") as f:
        f.write("\\n".join(pins) + "\\n")
    subprocess.check_call(
        [sys.executable, "-m", "pip", "install", "-q", "-c", "dlzh-constraints.txt",
         "dlzh @ git+{repo}@{commit}"]
    )
"""


def repository_url(app: Sphinx) -> str:
    """``_config.yml`` 的 ``repository.url``（jb 把它放进主题选项 ``repository_url``）。"""
    return ((app.config.html_theme_options or {}).get("repository_url") or "").rstrip("/")


def build_commit(root: Path) -> str:
    """构建所在的提交：CI 里是 ``GITHUB_SHA``，本地是 ``git rev-parse HEAD``，都没有时用 main。"""
    sha = os.environ.get("GITHUB_SHA", "").strip()
    if sha:
        return sha
    try:
        result = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
        return result.stdout.strip() or "main"
    except (OSError, subprocess.SubprocessError):
        return "main"


def install_cell(repo: str, commit: str) -> dict[str, Any]:
    """笔记本的第一个单元：缺少 dlzh 时从 ``repo`` 的 ``commit`` 安装它。"""
    return {
        "cell_type": "code",
        "execution_count": None,
        "id": "dlzh-install",
        "metadata": {"tags": [INSTALL_TAG]},
        "outputs": [],
        "source": _INSTALL_CELL.format(repo=repo, commit=commit),
    }


def with_install_cell(notebook: dict[str, Any], repo: str, commit: str) -> dict[str, Any]:
    """返回在最前面加上安装单元的笔记本（已有的安装单元先去掉，不会重复）。"""
    cells = [
        c
        for c in notebook.get("cells", [])
        if INSTALL_TAG not in (c.get("metadata") or {}).get("tags", [])
    ]
    if repo:
        cells.insert(0, install_cell(repo, commit))
    if repo and notebook.get("nbformat_minor", 0) < 5:
        cells[0].pop("id")  # 单元 id 从 nbformat 4.5 起才有
    result = {**notebook, "cells": cells}
    return result


def copy_notebooks(app: Sphinx) -> int:
    """把有代码单元的已执行笔记本写到 ``_notebooks/``（第一个单元是安装单元），
    并删掉已不存在的页面的旧文件。"""
    from dlzh_book import _book_root

    out = Path(app.outdir) / NOTEBOOK_DIR
    wanted: set[Path] = set()
    repo, commit = repository_url(app), build_commit(_book_root(app))
    for docname in sorted(app.env.found_docs):
        src = executed_notebook(app, docname)
        if src is None:
            continue
        dest = out / f"{docname}.ipynb"
        wanted.add(dest)
        # 取自执行缓存的页面，myst-nb 写出的笔记本没有输出：从缓存里合并回来
        executed = load_executed(src, app.config.nb_execution_cache_path)
        if executed is None:
            continue
        notebook = with_install_cell(json.loads(json.dumps(executed)), repo, commit)
        content = json.dumps(notebook, ensure_ascii=False, indent=1) + "\n"
        if not dest.exists() or dest.read_text(encoding="utf-8") != content:
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(content, encoding="utf-8")
    if out.exists():
        for stale in out.rglob("*.ipynb"):
            if stale not in wanted:
                stale.unlink()
    return len(wanted)


def _on_page_context(app: Sphinx, pagename: str, templatename: str, context, doctree) -> None:
    if app.builder.format != "html":
        return
    _notebook_buttons(app, pagename, context)
    if not app.config.html_favicon:
        context["metatags"] = context.get("metatags", "") + FAVICON_LINK + "\n"


def _dedupe_scripts(app: Sphinx, pagename: str, templatename: str, context, doctree) -> None:
    """去掉重复的 ``<script>``。

    Sphinx 7.4 的 ``app.add_js_file(None, body=...)`` 在构建器初始化之后调用时，脚本先以文件名
    ``None`` 加入构建器，写页面前又以 ``''`` 从登记表加入一次，两者不相等，于是每页写两遍
    （sphinx-thebe 的 ``const THEBE_JS_URL = ...`` 第二遍是语法错误）。构建器在每页之后恢复
    原来的列表，所以这里每页都去一次重。
    """
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    seen, unique = set(), []
    for script in scripts:
        attributes = getattr(script, "attributes", {}) or {}
        key = (
            getattr(script, "filename", script) or "",
            getattr(script, "priority", None),
            tuple(sorted((k, str(v)) for k, v in attributes.items())),
        )
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


# ---------------------------------------------------------------- 404

_404 = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8" />
<meta name="viewport" content="width=device-width, initial-scale=1" />
<meta name="robots" content="noindex" />
<title>页面不存在 — {site}</title>
{favicon}
<style>
  :root {{ color-scheme: light dark; --fg: #222; --bg: #fff; --muted: #666; --link: #0a58ca; }}
  @media (prefers-color-scheme: dark) {{
    :root {{ --fg: #ddd; --bg: #14181e; --muted: #9aa; --link: #6ea8fe; }}
  }}
  body {{ margin: 0; min-height: 100vh; display: flex; align-items: center; justify-content: center;
         background: var(--bg); color: var(--fg);
         font-family: system-ui, -apple-system, "Noto Sans CJK SC", "PingFang SC",
                      "Microsoft YaHei", sans-serif; line-height: 1.7; }}
  main {{ max-width: 36rem; padding: 2rem; }}
  h1 {{ font-size: 1.6rem; margin: 0 0 .5rem; }}
  p {{ color: var(--muted); }}
  a {{ color: var(--link); }}
  ul {{ padding-left: 1.2rem; }}
  form {{ display: flex; gap: .5rem; margin: 1rem 0; }}
  input {{ flex: 1; padding: .4rem .6rem; font: inherit; }}
  button {{ padding: .4rem .9rem; font: inherit; }}
</style>
</head>
<body>
<main>
  <h1>404：页面不存在</h1>
  <p>你要找的页面不在《{site}》里：链接可能已经过时，或者页面换了地址。</p>
  <form action="{search}" method="get" role="search">
    <input type="search" name="q" placeholder="搜索本书，例如：梯度下降" aria-label="搜索本书" />
    <button type="submit">搜索</button>
  </form>
  <ul>
    <li><a href="{home}">回到首页</a></li>
    <li><a href="{search}">站内搜索</a></li>
{issues}  </ul>
</main>
</body>
</html>
"""


def write_404(app: Sphinx) -> Path:
    # GitHub Pages 在任意深度的缺失路径上返回 404.html，所以链接必须是绝对地址；
    # 没有 html_baseurl 时只能用相对链接（只在网站根目录下正确）。
    base = app.config.html_baseurl
    base = base.rstrip("/") + "/" if base else ""
    repo = (app.config.html_theme_options or {}).get("repository_url", "")
    issues = (
        f'    <li><a href="{html.escape(repo.rstrip("/"))}/issues">报告问题（GitHub issue）</a></li>\n'
        if repo
        else ""
    )
    page = _404.format(
        site=html.escape(app.config.html_title or app.config.project),
        home=html.escape(base + app.builder.get_target_uri(app.config.root_doc)),
        search=html.escape(base + "search.html"),
        issues=issues,
        favicon=FAVICON_LINK,
    )
    path = Path(app.outdir) / "404.html"
    path.write_text(page, encoding="utf-8")
    return path


def write_sitemap(app: Sphinx) -> Path | None:
    """列出书中**所有**页面的 sitemap.xml（绝对地址）。

    不用 sphinx-sitemap：它只收集本次构建写出的页面，增量构建后的 sitemap 会漏掉没有改动的
    页面；每次构建还要启动一个 multiprocessing 管理进程。
    """
    base = app.config.html_baseurl
    if not base:
        return None
    base = base.rstrip("/") + "/"
    urls = "".join(
        f"  <url><loc>{xml_escape(base + app.builder.get_target_uri(doc))}</loc></url>\n"
        for doc in sorted(app.env.found_docs)
    )
    path = Path(app.outdir) / "sitemap.xml"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"{urls}</urlset>\n",
        encoding="utf-8",
    )
    return path


def _on_build_finished(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    count = copy_notebooks(app)
    write_404(app)
    sitemap = write_sitemap(app)
    LOGGER.info(
        f"[dlzh] 已写出 {count} 个已执行的笔记本到 {NOTEBOOK_DIR}/（带安装单元）、404.html"
        + ("、sitemap.xml" if sitemap else "")
    )


def setup(app: Sphinx) -> None:
    # Open Graph 元标签交给现成的扩展；它的配置在 config-inited 里按 html_baseurl 补齐。
    app.setup_extension("sphinxext.opengraph")
    app.add_config_value("dlzh_mathjax_dir", "", "html", [str])
    # None：由 repository.url 推出 https://colab.research.google.com/github/<owner>/<repo>/blob/notebooks/
    app.add_config_value("dlzh_colab_notebook_base", None, "html", [str])
    app.connect("config-inited", _on_config_inited)
    app.connect("builder-inited", _on_builder_inited)
    # 在 sphinx-book-theme 生成 header_buttons（优先级 501）之后再添加按钮。
    app.connect("html-page-context", _on_page_context, priority=502)
    # 在所有扩展（包括 sphinx.ext.mathjax）都加完脚本之后再去重。
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    app.connect("build-finished", _on_build_finished)
