"""dlzh_book.site 中不需要整本书构建的部分：MathJax 复制、脚本去重、Colab 地址与安装单元、
Open Graph 扩展的配置。"""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from sphinx.builders.html._assets import _JavaScript
from sphinx.errors import ExtensionError

from dlzh_book import site


def _fake_mathjax(root):
    es5 = root / "mathjax" / "es5"
    for part in site.MATHJAX_PARTS:
        target = es5 / part
        if part.endswith(".js"):
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("// js", encoding="utf-8")
        else:
            target.mkdir(parents=True, exist_ok=True)
            (target / "x.js").write_text("// part", encoding="utf-8")
    (es5 / "tex-svg.js").write_text("// 不需要的组件", encoding="utf-8")
    (root / "mathjax" / "package.json").write_text(json.dumps({"version": "3.2.2"}), "utf-8")
    (root / "mathjax" / "LICENSE").write_text("Apache-2.0", encoding="utf-8")
    return es5


def test_copy_mathjax_copies_only_the_needed_parts_once(tmp_path):
    es5 = _fake_mathjax(tmp_path)
    dest = tmp_path / "html" / "_static" / "mathjax"
    assert site.copy_mathjax(es5, dest) is True
    assert (dest / "tex-mml-chtml.js").exists()
    assert (dest / "output" / "chtml" / "fonts" / "woff-v2" / "x.js").exists()
    assert (dest / "LICENSE").exists()
    assert not (dest / "tex-svg.js").exists()
    # 第二次：内容相同，跳过。
    assert site.copy_mathjax(es5, dest) is False


def test_dedupe_scripts_treats_none_and_empty_filename_as_the_same_script():
    body = 'const THEBE_JS_URL = "x"'
    scripts = [
        _JavaScript("_static/a.js"),
        _JavaScript(None, body=body),
        _JavaScript("_static/a.js"),
        _JavaScript("", body=body),
        _JavaScript("", body="other"),
    ]
    context = {"script_files": scripts}
    site._dedupe_scripts(None, "index", "page.html", context, None)
    assert [(s.filename or "", s.attributes.get("body")) for s in scripts] == [
        ("_static/a.js", None),
        ("", body),
        ("", "other"),
    ]


def test_colab_base_is_derived_from_the_repository_url():
    config = SimpleNamespace(
        mathjax_path=site._SPHINX_MATHJAX_URL,
        html_context={},
        html_theme_options={"repository_url": "https://github.com/owner/repo"},
        dlzh_colab_notebook_base=None,
    )
    app = SimpleNamespace()
    site._on_config_inited(app, config)
    assert config.mathjax_path == site.MATHJAX_PATH and app.dlzh_local_mathjax
    assert config.dlzh_colab_notebook_base == (
        "https://colab.research.google.com/github/owner/repo/blob/notebooks/"
    )
    assert config.html_context["default_mode"] == "auto"
    # 用户自己指定的 MathJax 地址和 Colab 地址（空字符串 = 不显示按钮）保持不变。
    config = SimpleNamespace(
        mathjax_path="https://example.org/mathjax.js",
        html_context={"default_mode": "dark"},
        html_theme_options={},
        dlzh_colab_notebook_base="",
    )
    site._on_config_inited(app, config)
    assert config.mathjax_path == "https://example.org/mathjax.js" and not app.dlzh_local_mathjax
    assert config.dlzh_colab_notebook_base == ""
    assert config.html_context["default_mode"] == "dark"


def test_missing_mathjax_tells_the_reader_to_run_npm_ci(tmp_path):
    app = SimpleNamespace(
        builder=SimpleNamespace(format="html"),
        dlzh_local_mathjax=True,
        config=SimpleNamespace(dlzh_mathjax_dir=str(tmp_path / "no-such-dir")),
        srcdir=str(tmp_path),
        outdir=str(tmp_path / "html"),
    )
    with pytest.raises(ExtensionError, match="npm ci"):
        site._on_builder_inited(app)
    # 指向一份（假的）MathJax 时复制到 _static/mathjax。
    app.config.dlzh_mathjax_dir = str(_fake_mathjax(tmp_path))
    site._on_builder_inited(app)
    assert (tmp_path / "html" / "_static" / "mathjax" / "tex-mml-chtml.js").exists()


def _notebook(minor: int = 5) -> dict:
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "source": "import dlzh"}
    if minor >= 5:
        cell["id"] = "abc"
    return {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": minor}


def test_published_notebook_starts_with_an_install_cell_pinned_to_the_commit():
    repo, sha = "https://github.com/owner/repo", "0123456789abcdef0123456789abcdef01234567"
    notebook = site.with_install_cell(_notebook(), repo, sha)
    first = notebook["cells"][0]
    assert first["cell_type"] == "code" and site.INSTALL_TAG in first["metadata"]["tags"]
    assert f"dlzh @ git+{repo}@{sha}" in first["source"]
    assert notebook["cells"][1]["source"] == "import dlzh"
    # 再加一次不会重复；nbformat 4.4 的笔记本里不写单元 id（那一版还没有这个字段）。
    assert len(site.with_install_cell(notebook, repo, sha)["cells"]) == 2
    assert "id" not in site.with_install_cell(_notebook(minor=4), repo, sha)["cells"][0]
    assert compile(first["source"], "<install>", "exec")  # 是合法的 Python


def test_install_cell_installs_only_when_dlzh_is_missing_and_keeps_torch(tmp_path, monkeypatch):
    import importlib.metadata
    import importlib.util
    import subprocess

    source = site.install_cell("https://github.com/owner/repo", "abc123")["source"]
    calls = []
    monkeypatch.setattr(subprocess, "check_call", lambda cmd: calls.append(cmd))
    monkeypatch.chdir(tmp_path)
    exec(source, {})  # dlzh 已安装：什么都不做
    assert calls == []
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name: None if name == "dlzh" else real_find_spec(name)
    )
    exec(source, {})
    (cmd,) = calls
    assert cmd[-1] == "dlzh @ git+https://github.com/owner/repo@abc123"
    assert not any(arg.startswith("torch") for arg in cmd)  # 不要求安装或升级 torch
    pins = (tmp_path / "dlzh-constraints.txt").read_text().split()
    assert f"torch=={importlib.metadata.version('torch')}" in pins


def test_open_graph_is_configured_from_the_base_url():
    config = SimpleNamespace(
        html_baseurl="https://owner.github.io/repo/",
        html_title="书名",
        project="p",
        ogp_site_url="",
        ogp_site_name=None,
        ogp_social_cards=None,
        ogp_custom_meta_tags=(),
    )
    site.configure_site_extensions(config)
    assert config.ogp_site_url == "https://owner.github.io/repo/"
    assert config.ogp_site_name == "书名" and config.ogp_social_cards == {"enable": False}
    assert config.ogp_custom_meta_tags == ['<meta property="og:locale" content="zh_CN" />']
