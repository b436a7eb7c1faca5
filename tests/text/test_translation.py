"""英法翻译数据：d2l 格式的解析（不间断空格、制表符、额外的列）、截断/填充与有效长度、小批量。"""

from __future__ import annotations

import pytest
import torch

from dlzh.text import (
    BOS,
    EOS,
    PAD,
    TensorBatches,
    Vocab,
    build_array,
    load_translation,
    parse_pairs,
    preprocess_translation,
    truncate_pad,
)

# d2l 的 fra.txt 的格式：英语\t法语，法语的 ! ? 前是窄不间断空格（U+202F）或不间断空格（U+00A0）；
# 新版 manythings 文件还有第三列出处。最后一行没有换行符。
FIXTURE = (
    "Go.\tVa !\n"
    "Hi.\tSalut !\n"
    "Run!\tCours\u202f!\n"
    "Who?\tQui\u00a0?\n"
    "Wow!\tÇa alors\u202f!\tCC-BY 2.0 (France) Attribution: tatoeba.org #52027 (Zifre)\n"
    "I lost.\tJ'ai perdu.\n"
    "no tab on this line\n"
    "\n"
    "He's a good runner, isn't he?\tC'est un bon coureur, n'est-ce pas\u202f?"
)


def test_preprocess_splits_punctuation_and_normalizes_spaces():
    text = preprocess_translation(FIXTURE)
    assert "\u202f" not in text and "\u00a0" not in text
    assert "cours !" in text and "qui ?" in text
    assert "go .\tva !" in text  # 英语一侧的句号也成为单独的词元
    assert "runner , isn't" in text  # 逗号前补空格，撇号不拆开
    assert "j'ai perdu ." in text


def test_parse_pairs_keeps_two_columns_and_skips_malformed_lines():
    src, tgt = parse_pairs(preprocess_translation(FIXTURE))
    assert len(src) == len(tgt) == 7  # 无制表符的行和空行被跳过
    assert src[0] == ["go", "."] and tgt[0] == ["va", "!"]
    assert src[4] == ["wow", "!"] and tgt[4] == ["ça", "alors", "!"]  # 第三列（出处）不进目标句子
    assert tgt[-1][-3:] == ["n'est-ce", "pas", "?"]
    src3, _ = parse_pairs(preprocess_translation(FIXTURE), num_examples=3)
    assert src3 == [["go", "."], ["hi", "."], ["run", "!"]]


def test_truncate_pad():
    assert truncate_pad([5, 6, 7], 5, 0) == [5, 6, 7, 0, 0]
    assert truncate_pad([5, 6, 7], 2, 0) == [5, 6]
    assert truncate_pad([5, 6], 2, 0) == [5, 6]


def test_build_array_appends_eos_and_counts_valid_length():
    lines = [["a", "b"], ["c"], ["a", "b", "c", "a"]]
    vocab = Vocab(lines, reserved_tokens=[PAD, BOS, EOS])
    array, valid = build_array(lines, vocab, num_steps=4)
    pad, eos = vocab[PAD], vocab[EOS]
    assert array.shape == (3, 4)
    assert array[0].tolist() == [vocab["a"], vocab["b"], eos, pad]
    assert array[1].tolist() == [vocab["c"], eos, pad, pad]
    assert array[2].tolist() == vocab[["a", "b", "c", "a"]]  # 截断后 <eos> 不在了
    assert valid.tolist() == [3, 2, 4]
    # 有效长度之外全是 <pad>，之内没有 <pad>
    mask = torch.arange(4)[None, :] < valid[:, None]
    assert bool((array[~mask] == pad).all()) and bool((array[mask] != pad).all())


def test_load_translation_from_text_and_batches():
    data = load_translation(num_steps=6, num_examples=None, text=FIXTURE, min_freq=1)
    assert data.num_pairs == 7
    assert data.src.shape == data.tgt.shape == (7, 6)
    assert data.src_vocab.idx_to_token[:4] == ["<unk>", PAD, BOS, EOS]
    assert data.src_vocab.to_tokens(data.src[0, :3].tolist()) == ["go", ".", EOS]
    seen = []
    for x, x_len, y, y_len in data.loader(batch_size=3, shuffle=True, seed=0):
        assert len(x) == len(x_len) == len(y) == len(y_len) <= 3
        seen.extend(x[:, 0].tolist())
    assert sorted(seen) == sorted(data.src[:, 0].tolist())  # 每个句子对恰好出现一次
    with pytest.raises(ValueError, match="句子对"):
        load_translation(4, text="no tabs here\n")


def test_min_freq_two_maps_rare_words_to_unk():
    data = load_translation(num_steps=6, num_examples=None, text=FIXTURE)  # min_freq=2
    assert "wow" not in data.src_vocab.token_to_idx
    assert data.src[4, 0].item() == data.src_vocab.unk


def test_tensor_batches_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="第 0 维"):
        TensorBatches((torch.zeros(3), torch.zeros(4)), batch_size=2)


def _offline_d2l(monkeypatch, tmp_path):
    """模拟离线：d2l 的压缩包取不到，Tatoeba 的文件在镜像里。"""
    import dlzh.data
    from dlzh.data import DataNotFoundError

    def missing(dataset, filename):
        raise DataNotFoundError(f"{dataset}/{filename} 不在任何来源中")

    tatoeba = tmp_path / "fra.txt"
    tatoeba.write_text(FIXTURE, encoding="utf-8")
    monkeypatch.setattr(dlzh.data, "fetch_extracted", missing)
    monkeypatch.setattr(dlzh.data, "fetch", lambda dataset, filename: tatoeba)


def test_smoke_mode_falls_back_to_tatoeba_and_says_so(monkeypatch, tmp_path, capsys):
    _offline_d2l(monkeypatch, tmp_path)
    monkeypatch.setenv("DLZH_SMOKE", "1")
    data = load_translation(num_steps=6, num_examples=None, source="d2l", min_freq=1)
    assert data.source == "tatoeba: fra.txt" and data.num_pairs == 7
    assert "冒烟模式" in capsys.readouterr().out


def test_a_real_build_does_not_swap_the_data_silently(monkeypatch, tmp_path):
    from dlzh.data import DataNotFoundError

    _offline_d2l(monkeypatch, tmp_path)
    monkeypatch.delenv("DLZH_SMOKE", raising=False)
    with pytest.raises(DataNotFoundError):
        load_translation(num_steps=6, source="d2l")


@pytest.mark.parametrize("n", [1, 2, 5, 6, 7, 50])
def test_reading_only_the_head_gives_the_same_pairs_as_the_whole_text(n):
    # load_translation 只预处理前面需要的行；结果必须与处理整个文本再取前 n 对相同，
    # 包括其中有不成对的行（无制表符、空行、只有不间断空格的一侧）时。
    text = "A.\t\u00a0\n" + FIXTURE + "\nLast one.\tLe dernier.\n"
    data = load_translation(num_steps=8, num_examples=n, text=text, min_freq=1)
    src, tgt = parse_pairs(preprocess_translation(text), n)
    assert data.num_pairs == len(src) == min(n, 8)
    for rows, vocab, lines in ((data.src, data.src_vocab, src), (data.tgt, data.tgt_vocab, tgt)):
        for row, line in zip(rows, lines, strict=True):
            assert vocab.to_tokens(row[: len(line)].tolist()) == line[:8]
