"""dlzh_book.site 中不需要整本书构建的部分：MathJax 复制、首段摘要、脚本去重、Colab 地址。"""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from docutils import nodes
from docutils.frontend import get_default_settings
from docutils.parsers.rst import Parser
from docutils.utils import new_document
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


def _parse(text: str) -> nodes.document:
    document = new_document("<test>", get_default_settings(Parser))
    Parser().parse(text, document)
    return document


def test_first_paragraph_joins_chinese_lines_and_truncates():
    doctree = _parse("标题\n====\n\n第一行中文\n第二行中文 and English\ntext。\n\n第二段。\n")
    assert site.first_paragraph(doctree) == "第一行中文第二行中文 and English text。"
    assert site.first_paragraph(doctree, limit=5) == "第一行中…"
    assert site.first_paragraph(None) == ""


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
