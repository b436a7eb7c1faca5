"""BLEU：与 torchmetrics 的 BLEUScore 对照（定义一致的情形），再按定义手算几个例子。"""

from __future__ import annotations

import math
import random

import pytest

from dlzh.text import bleu, ngram_precision

torchmetrics_text = pytest.importorskip("torchmetrics.functional.text")


WORDS = "a b c d e".split()


def _random_pair(rng: random.Random) -> tuple[str, str]:
    """标签随机；预测是标签的“带噪副本”（替换、删去、插入词元），这样长 n 元语法也常有匹配。"""
    label = rng.choices(WORDS, k=rng.randint(1, 12))
    pred = []
    for tok in label:
        r = rng.random()
        if r < 0.15:
            continue  # 删去
        pred.append(rng.choice(WORDS) if r < 0.3 else tok)
        if rng.random() < 0.1:
            pred.append(rng.choice(WORDS))  # 插入
    return " ".join(pred), " ".join(label)


@pytest.mark.parametrize("k", [1, 2, 3, 4])
@pytest.mark.parametrize("weights", ["d2l", "uniform"])
def test_agrees_with_torchmetrics_on_single_pairs(k, weights):
    # 一对句子、一个参考译文、不平滑：torchmetrics 的语料级 BLEU 就退化成句子级，
    # 与 d2l 的定义只差权重，而权重可以传给它。
    rng = random.Random(k)
    w = [0.5**n for n in range(1, k + 1)] if weights == "d2l" else [1 / k] * k
    nonzero = 0
    for _ in range(200):
        pred, label = _random_pair(rng)
        ref = float(torchmetrics_text.bleu_score([pred], [[label]], n_gram=k, weights=w))
        ours = bleu(pred, label, k, weights=weights)
        assert ours == pytest.approx(ref, abs=1e-6), (pred, label)
        nonzero += ours > 0
    assert nonzero > 20  # 比较的不只是两边都为 0 的情形


def test_hand_computed_example():
    pred, label = "a b c d", "a b c e f"
    assert ngram_precision(pred, label, 1) == pytest.approx(3 / 4)
    assert ngram_precision(pred, label, 2) == pytest.approx(2 / 3)
    expected = math.exp(1 - 5 / 4) * (3 / 4) ** 0.5 * (2 / 3) ** 0.25
    assert bleu(pred, label, k=2) == pytest.approx(expected)
    uniform = math.exp(1 - 5 / 4) * math.sqrt(3 / 4 * 2 / 3)
    assert bleu(pred, label, k=2, weights="uniform") == pytest.approx(uniform)


def test_clipped_counts_and_edge_cases():
    # "the the the" 对 "the cat"：the 在标签里只出现一次，最多算一次匹配
    assert ngram_precision("the the the", "the cat", 1) == pytest.approx(1 / 3)
    assert bleu("il est là .", "il est là .", k=4) == 1.0
    assert bleu("x y", "a b", k=2) == 0.0
    assert bleu("", "a b", k=2) == 0.0
    assert bleu("a", "a b c", k=2) == 0.0  # 没有 2 元语法：p_2 = 0（d2l 的代码会除以 0）
    # 预测是标签的连续片段时所有 p_n = 1，只剩简短惩罚；权重无关
    short = bleu("b c", "a b c d", k=2)
    assert short == pytest.approx(math.exp(1 - 4 / 2))
    assert bleu("b c", "a b c d", k=2, weights="uniform") == pytest.approx(short)
    with pytest.raises(ValueError, match="weights"):
        bleu("a", "a", k=2, weights=[1.0])
