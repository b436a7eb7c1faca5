"""术语的别名：CSV 的 aliases 列、术语表页面、jieba 词典和搜索索引里的同义词。"""

from __future__ import annotations

from pathlib import Path

import pytest

from dlzh_book.glossary import (
    expand_synonyms,
    glossary_myst,
    install_synonym_search,
    jieba_dict_lines,
    read_glossary,
    search_digest,
    synonym_groups,
    synonym_search_language,
    write_jieba_dict,
)

BOOK_GLOSSARY = Path(__file__).resolve().parents[2] / "book" / "_data" / "glossary.csv"

# issue 11 “按同义词搜索”的例子：读者输入的写法 -> 术语表里的词条。
ISSUE_EXAMPLES = {
    "池化": "汇聚层",
    "汇聚": "汇聚层",
    "规范化": "归一化",
    "梯度累积": "梯度累加",
    "全局平均池化": "全局平均汇聚",
    "epoch": "迭代周期",
    "混合精度": "混合精度训练",
}


def _write(tmp_path, text):
    path = tmp_path / "g.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_rows_with_and_without_aliases_parse(tmp_path):
    path = _write(
        tmp_path,
        "zh,en,description,aliases\n"
        "汇聚层,pooling layer,取窗口内的最大值或平均值,池化层| 池化 \n"
        "梯度下降,gradient descent,沿负梯度更新\n",  # 别人追加的旧格式行：只有三列
    )
    pooling, gd = read_glossary(path)
    assert pooling.aliases == ("池化层", "池化")
    assert pooling.forms == ("汇聚层", "池化层", "池化")
    assert gd.aliases == () and gd.forms == ("梯度下降",)
    # 没有 aliases 列的旧文件也照样能读。
    (old,) = read_glossary(_write(tmp_path, "zh,en,description\n梯度,gradient,导数向量\n"))
    assert old.aliases == ()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        # 同一个写法出现在两行：应合并为一个词条。
        ("zh,en,description,aliases\n汇聚层,pooling,x,池化\n池化,pool,y\n", "重复"),
        ("zh,en,description,aliases\n汇聚层,pooling,x,池化\n最大汇聚,max pooling,y,池化\n", "重复"),
        # 别名与另一个词条的英文名相同，Sphinx 会报重复词条。
        ("zh,en,description,aliases\n迭代周期,epoch,x\n轮,round,y,Epoch\n", "英文名"),
        ("zh,en,description,aliases\n汇聚层,pooling,x,池化,多余\n", "列数多于 4 列"),
    ],
)
def test_conflicting_aliases_are_rejected(tmp_path, content, message):
    with pytest.raises(ValueError, match=message):
        read_glossary(_write(tmp_path, content))


def test_glossary_page_lists_aliases_under_the_term(tmp_path):
    terms = read_glossary(
        _write(
            tmp_path,
            "zh,en,description,aliases\n迭代周期,epoch,遍历一遍训练集,epoch|轮次\n",
        )
    )
    text = glossary_myst(terms)
    # 别名是词条名（{term}`轮次` 可以链接），说明里也写出“又称”；与英文名相同的 epoch 不重复列出。
    assert "迭代周期\nepoch\n轮次\n  遍历一遍训练集（又称：轮次）" in text
    assert text.count("epoch") == 1


def test_jieba_dictionary_contains_chinese_aliases(tmp_path):
    terms = read_glossary(
        _write(tmp_path, "zh,en,description,aliases\n全局平均汇聚,GAP,x,全局平均池化|GAP 层|gap\n")
    )
    lines = jieba_dict_lines(terms)
    assert lines == ["全局平均汇聚 200000 n", "全局平均池化 200000 n"]  # 含空格、无汉字的不加
    path = write_jieba_dict(terms, tmp_path / "d" / "jieba.dict")
    assert path.is_absolute() and path.read_text(encoding="utf-8").splitlines() == lines


def test_expand_synonyms_appends_every_other_form():
    groups = {"汇聚": ("汇聚层", "汇聚", "池化"), "池化": ("汇聚层", "汇聚", "池化")}
    assert expand_synonyms(["最大", "汇聚"], groups) == ["最大", "汇聚", "汇聚层", "池化"]
    assert expand_synonyms(["梯度"], groups) == ["梯度"]


def test_book_glossary_covers_the_issue_examples():
    terms = read_glossary(BOOK_GLOSSARY)
    by_zh = {t.zh: t for t in terms}
    groups = synonym_groups(terms)
    for typed, term in ISSUE_EXAMPLES.items():
        assert term in by_zh, f"术语表里没有 {term}"
        assert typed.lower() in groups[term.lower()], f"{typed} 不是 {term} 的别名"
    # 一个概念一个词条：滑动平均是指数移动平均的别名；构建术语不进术语表。
    assert "滑动平均" in by_zh["指数移动平均"].aliases
    assert "滑动平均" not in by_zh and "执行档位" not in by_zh


def test_book_glossary_has_no_entries_for_parts_that_do_not_exist():
    """术语表只收已有章节用到的概念：每个词条（或它的别名）至少出现在一个页面里。"""
    book = BOOK_GLOSSARY.parents[1]
    pages = [
        p.read_text(encoding="utf-8")
        for p in book.rglob("*.md")
        if "_build" not in p.parts and p.name != "glossary.md"
    ]
    text = "\n".join(pages)
    unused = [t.zh for t in read_glossary(BOOK_GLOSSARY) if not any(f in text for f in t.forms)]
    assert unused == [], f"这些术语没有任何页面用到（章节还不存在？）：{unused}"


def test_search_language_indexes_every_form(tmp_path):
    pytest.importorskip("jieba")
    terms = read_glossary(BOOK_GLOSSARY)
    dict_path = write_jieba_dict(terms, tmp_path / "jieba.dict")
    language = synonym_search_language(synonym_groups(terms))({"dict": str(dict_path)})
    words = set(language.split("最后用全局平均汇聚层代替全连接层，每个迭代周期都打印损失"))
    assert {"全局平均汇聚", "全局平均池化", "池化", "汇聚层", "epoch", "迭代周期"} <= words
    words = set(language.split("开启混合精度训练并使用梯度累积"))
    assert {"混合精度", "混合精度训练", "梯度累加", "梯度累积"} <= words
    words = set(language.split("批量规范化"))
    assert {"批量归一化", "归一化", "规范化"} <= words


def test_english_words_are_stemmed_like_sphinx_but_looked_up_in_a_set():
    pytest.importorskip("jieba")
    from sphinx.search.zh import SearchChinese

    ours = synonym_search_language({})({})
    theirs = SearchChinese({})
    text = "Transformer 用 LayerNorm 和 GPU 训练；ResNet-18 的 BN 层、ViT 和 AdamW 优化器"
    for language in (ours, theirs):
        language.split(text)
    # 取词干的结果（包括“太短的缩写不取词干”这条规则）与 Sphinx 自己的类相同
    words = ["Transformer", "GPU", "BN", "ViT", "AdamW", "LayerNorm", "running", "ResNet"]
    assert [ours.stem(w) for w in words] == [theirs.stem(w) for w in words]
    # 见过的英文词放在本实例的集合里：不是 Sphinx 那个越积越长的类级别列表
    assert isinstance(ours.latin_terms, set) and "GPU" in ours.latin_terms
    assert ours.latin_terms is not synonym_search_language({})({}).latin_terms


def test_install_registers_only_chinese(monkeypatch):
    from sphinx import search

    terms = read_glossary(BOOK_GLOSSARY)
    monkeypatch.setitem(search.languages, "zh", search.languages["zh"])
    assert install_synonym_search("en", terms) is False
    assert install_synonym_search("zh", terms) is True
    cls = search.languages["zh"]
    assert cls.synonyms["池化"] == synonym_groups(terms)["汇聚"]


def test_sphinx_search_index_maps_every_alias_to_the_pages(tmp_path, monkeypatch):
    """用真实的 Sphinx 构建两页小书：搜索索引里，每个写法都指向出现任一写法的页面。"""
    pytest.importorskip("jieba")
    import json

    from sphinx import search
    from sphinx.application import Sphinx

    monkeypatch.setitem(search.languages, "zh", search.languages["zh"])
    glossary_csv = _write(
        tmp_path,
        "zh,en,description,aliases\n"
        "汇聚层,pooling layer,x,池化层|汇聚|池化\n"
        "全局平均汇聚,global average pooling,y,全局平均池化\n"
        "迭代周期,epoch,z,epoch\n",
    )
    terms = read_glossary(glossary_csv)
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text("language = 'zh_CN'\nhtml_search_language = 'zh'\n", "utf-8")
    (src / "index.rst").write_text("首页\n====\n\n.. toctree::\n\n   a\n   b\n", "utf-8")
    (src / "a.rst").write_text("甲\n==\n\n最后用全局平均汇聚层代替全连接层。\n", "utf-8")
    (src / "b.rst").write_text("乙\n==\n\n每个迭代周期都做一次池化。\n", "utf-8")
    dict_path = write_jieba_dict(terms, tmp_path / "jieba.dict")
    assert install_synonym_search("zh", terms)
    app = Sphinx(
        str(src), str(src), str(tmp_path / "out"), str(tmp_path / "doctrees"), "html",
        confoverrides={"html_search_options": {"dict": str(dict_path)}},
        status=None, warning=None, freshenv=True,
    )  # fmt: skip
    app.build()
    text = (tmp_path / "out" / "searchindex.js").read_text(encoding="utf-8")
    index = json.loads(text[text.index("(") + 1 : text.rindex(")")])
    docs = index["docnames"]

    def pages(word):
        found = index["terms"].get(word, [])
        return {docs[i] for i in ([found] if isinstance(found, int) else found)}

    # 页面 a 只写了“汇聚”，页面 b 只写了“池化”：两种写法都能找到两页。
    for word in ("池化", "汇聚", "池化层", "汇聚层"):
        assert pages(word) == {"a", "b"}, word
    assert pages("全局平均池化") == {"a"}
    assert pages("epoch") == {"b"}


def test_search_digest_follows_forms_not_descriptions(tmp_path):
    base = "zh,en,description,aliases\n汇聚层,pooling layer,{d},{a}\n"
    digest = search_digest(read_glossary(_write(tmp_path, base.format(d="x", a="池化"))))
    assert digest == search_digest(read_glossary(_write(tmp_path, base.format(d="y", a="池化"))))
    assert digest != search_digest(
        read_glossary(_write(tmp_path, base.format(d="x", a="池化|汇聚")))
    )


def test_new_alias_reaches_pages_that_did_not_change(tmp_path, monkeypatch):
    """增量构建：只改术语表，没改动的页面也要以新别名编入索引（摘要是 env 级配置值）。"""
    pytest.importorskip("jieba")
    import json

    from sphinx import search
    from sphinx.application import Sphinx

    monkeypatch.setitem(search.languages, "zh", search.languages["zh"])
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(
        "language = 'zh_CN'\nhtml_search_language = 'zh'\n"
        "def setup(app):\n    app.add_config_value('dlzh_glossary_digest', '', 'env', [str])\n",
        "utf-8",
    )
    (src / "index.rst").write_text("首页\n====\n\n每个迭代周期。\n", "utf-8")

    def build(aliases: str) -> set[str]:
        terms = read_glossary(
            _write(tmp_path, f"zh,en,description,aliases\n迭代周期,epoch,z,{aliases}\n")
        )
        install_synonym_search("zh", terms)
        app = Sphinx(
            str(src), str(src), str(tmp_path / "out"), str(tmp_path / "doctrees"), "html",
            confoverrides={
                "html_search_options": {"dict": str(write_jieba_dict(terms, tmp_path / "j.dict"))},
                "dlzh_glossary_digest": search_digest(terms),
            },
            status=None, warning=None,
        )  # fmt: skip
        app.build()
        text = (tmp_path / "out" / "searchindex.js").read_text(encoding="utf-8")
        return set(json.loads(text[text.index("(") + 1 : text.rindex(")")])["terms"])

    assert "轮次" not in build("epoch")
    assert "轮次" in build("epoch|轮次")  # 页面没改，只改了术语表
