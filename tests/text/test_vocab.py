"""词表：编号规则（<unk> 为 0、保留词元其后、按频率降序、并列按首次出现）、min_freq 与往返。"""

from __future__ import annotations

import pytest

from dlzh.text import UNK, Vocab, tokenize


def test_tokenize_by_word_and_by_char():
    lines = ["the time  machine", "", "by h g wells"]
    assert tokenize(lines, "word") == [["the", "time", "machine"], [], ["by", "h", "g", "wells"]]
    assert tokenize(["ab c"], "char") == [["a", "b", " ", "c"]]
    with pytest.raises(ValueError, match="word"):
        tokenize(lines, "byte")  # type: ignore[arg-type]


def test_indices_follow_frequency_then_first_occurrence():
    tokens = [["b", "a", "c", "a"], ["c", "d", "a"]]  # a:3, c:2, b:1, d:1
    vocab = Vocab(tokens, reserved_tokens=["<pad>", "<eos>"])
    assert vocab.idx_to_token == [UNK, "<pad>", "<eos>", "a", "c", "b", "d"]
    assert vocab.token_freqs[:2] == [("a", 3), ("c", 2)]
    assert vocab["<eos>"] == 2 and vocab.unk == 0


def test_min_freq_maps_rare_tokens_to_unk():
    vocab = Vocab(["x", "x", "y", "z", "z", "z"], min_freq=2)
    assert "y" not in vocab.token_to_idx
    assert vocab[["z", "y", "never-seen"]] == [vocab["z"], 0, 0]
    assert len(vocab) == 3  # <unk>, z, x


def test_round_trip_on_text():
    lines = ["the time traveller", "for so it will be convenient to speak of him"]
    tokens = tokenize(lines, "word")
    vocab = Vocab(tokens)
    ids = vocab[tokens]
    assert vocab.to_tokens(ids) == tokens
    # 下标也可以是张量
    import torch

    assert vocab.to_tokens(torch.tensor(ids[0])) == tokens[0]
    # 每个下标对应唯一的词元
    assert len(set(vocab.idx_to_token)) == len(vocab)


def test_bad_reserved_tokens_are_rejected():
    with pytest.raises(ValueError, match="下标 0"):
        Vocab(["a"], reserved_tokens=[UNK])
    with pytest.raises(ValueError, match="重复"):
        Vocab(["a"], reserved_tokens=["<pad>", "<pad>"])
