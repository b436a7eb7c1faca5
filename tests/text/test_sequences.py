"""语言模型的小批量：顺序分区跨批量连续；随机采样在一个迭代周期内不重叠地覆盖语料；可复现。"""

from __future__ import annotations

import pytest
import torch

from dlzh.text import (
    RandomSequenceIterator,
    SequentialSequenceIterator,
    load_time_machine,
    read_time_machine,
)

# 语料就是位置本身：corpus[i] == i，于是批量里的数值直接告诉我们它来自原文的哪里。
CORPUS = list(range(1000))


@pytest.mark.parametrize(("batch_size", "num_steps"), [(2, 5), (4, 7), (3, 35)])
def test_sequential_rows_continue_across_batches(batch_size, num_steps):
    it = SequentialSequenceIterator(CORPUS, batch_size, num_steps, seed=1)
    for _ in range(3):  # 每个迭代周期偏移不同，性质都成立
        batches = list(it)
        assert len(batches) == len(it) > 1
        for x, y in batches:
            assert x.shape == y.shape == (batch_size, num_steps)
            assert torch.equal(y, x + 1)  # 标签是下一个词元
        rows = torch.cat([x for x, _ in batches], dim=1)  # (B, 批量数*T)
        # 每一行在各批量间首尾相接：拼起来是原文中一段连续的序列。
        assert torch.equal(rows - rows[:, :1], torch.arange(rows.shape[1]).expand_as(rows))
        # 各行是互不重叠的段，按顺序排列
        assert bool((rows[1:, 0] >= rows[:-1, -1] + 1).all())


@pytest.mark.parametrize(("batch_size", "num_steps"), [(2, 5), (4, 7), (3, 35), (1000, 6)])
def test_random_partition_covers_the_corpus_without_overlap(batch_size, num_steps):
    it = RandomSequenceIterator(CORPUS, batch_size, num_steps, seed=2)
    offsets = set()
    for _ in range(4):
        batches = list(it)
        assert len(batches) == len(it)
        xs = torch.cat([x for x, _ in batches])  # (n, T)
        for x, y in batches:
            assert torch.equal(y, x + 1)
        assert bool((xs[:, 1:] == xs[:, :-1] + 1).all())  # 每个子序列连续
        covered = xs.flatten().sort().values
        assert len(covered.unique()) == covered.numel()  # 一个迭代周期内没有重叠
        start = int(covered[0])
        assert 0 <= start < num_steps
        # 覆盖：从偏移开始，一段不缺地连到最后一个子序列
        assert torch.equal(covered, torch.arange(start, start + covered.numel()))
        assert len(CORPUS) - 1 - (start + covered.numel()) < 2 * num_steps  # 只剩不到两段
        offsets.add(start)
    assert len(offsets) > 1 or num_steps == 1  # 偏移每个迭代周期重新抽取


def test_random_order_is_shuffled_but_reproducible():
    a = [x for x, _ in RandomSequenceIterator(CORPUS, 4, 5, seed=3)]
    b = [x for x, _ in RandomSequenceIterator(CORPUS, 4, 5, seed=3)]
    assert all(torch.equal(p, q) for p, q in zip(a, b, strict=True))
    starts = torch.cat(a)[:, 0]
    assert not bool((starts[1:] > starts[:-1]).all())  # 不是按原文顺序


def test_drop_last_and_too_short_corpus():
    it = RandomSequenceIterator(CORPUS[:53], 4, 5, seed=0, drop_last=True)
    assert all(len(x) == 4 for x, _ in it)
    with pytest.raises(ValueError, match="凑不出"):
        SequentialSequenceIterator(CORPUS[:10], 4, 5)


def test_time_machine_from_a_local_file(tmp_path):
    path = tmp_path / "tm.txt"
    path.write_text("The Time Machine, by H. G. Wells [1898]\n\nI\nThe Time Traveller\n")
    assert read_time_machine(path) == [
        "the time machine by h g wells",
        "",
        "i",
        "the time traveller",
    ]
    corpus, vocab = load_time_machine("char", path=path)
    text = "".join(vocab.to_tokens(corpus))
    assert (
        text == "the time machine by h g wellsithe time traveller"
    )  # 行与行直接相接（d2l 的做法）
    words, wvocab = load_time_machine("word", max_tokens=5, path=path)
    assert wvocab.to_tokens(words) == ["the", "time", "machine", "by", "h"]
