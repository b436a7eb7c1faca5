"""术语表 CSV -> 术语表页面与 jieba 用户词典。"""

from __future__ import annotations

from pathlib import Path

import pytest

from dlzh_book.glossary import glossary_myst, jieba_dict_lines, read_glossary

BOOK_GLOSSARY = Path(__file__).resolve().parents[2] / "book" / "_data" / "glossary.csv"


def _write(tmp_path, text):
    path = tmp_path / "g.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_terms_and_builds_outputs(tmp_path):
    path = _write(tmp_path, "zh,en,description\n梯度下降,gradient descent,沿负梯度更新\n")
    terms = read_glossary(path)
    assert terms[0].zh == "梯度下降" and terms[0].en == "gradient descent"
    assert jieba_dict_lines(terms) == ["梯度下降 200000 n"]
    text = glossary_myst(terms)
    assert "梯度下降\ngradient descent\n  沿负梯度更新" in text and text.startswith(":::{glossary}")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("zh,en\n梯度,gradient\n", "缺少列"),
        ("zh,en,description\n,gradient,x\n", "为空"),
        ("zh,en,description\n梯度,gradient,x\n梯度,grad,y\n", "重复"),
    ],
)
def test_bad_glossary_is_rejected(tmp_path, content, message):
    with pytest.raises(ValueError, match=message):
        read_glossary(_write(tmp_path, content))


def test_book_glossary_is_valid_and_segments_compound_terms():
    import jieba

    terms = read_glossary(BOOK_GLOSSARY)
    assert len(terms) >= 50
    zh = {t.zh for t in terms}
    assert {"线性回归", "梯度下降", "交叉熵损失", "批量归一化"} <= zh
    # 不加词典时 jieba 会把复合术语切开；加了词典后它们整体出现在搜索分词结果中。
    tokenizer = jieba.Tokenizer()
    for line in jieba_dict_lines(terms):
        word, freq, tag = line.split()
        tokenizer.add_word(word, int(freq), tag)
    for term in ("交叉熵损失", "小批量随机梯度下降", "批量归一化"):
        assert term in set(tokenizer.cut_for_search(f"本节介绍{term}的原理"))


def test_unquoted_comma_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="列数多于"):
        read_glossary(_write(tmp_path, "zh,en,description\n修正线性单元,ReLU,max(0, x)\n"))


def test_a_term_spelled_the_same_in_both_languages_is_listed_once(tmp_path):
    """Transformer、U-Net 这样中英文相同的词条只列一次：重复列出时 Sphinx 报“重复词条”警告。"""
    path = _write(tmp_path, "zh,en,description\nU-Net,U-Net,一种卷积网络\n")
    text = glossary_myst(read_glossary(path))
    assert text.count("U-Net\n") == 1 and "U-Net\n  一种卷积网络" in text


def test_the_books_glossary_lists_no_name_twice():
    names = []
    for line in glossary_myst(read_glossary(BOOK_GLOSSARY)).splitlines():
        if line and not line.startswith((" ", ":::", ":sorted:")):
            names.append(line.lower())
    assert len(names) == len(set(names)), sorted({n for n in names if names.count(n) > 1})
