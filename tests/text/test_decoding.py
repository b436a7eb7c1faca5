"""贪心搜索与束搜索：束宽 1 等于贪心；束足够宽时等于穷举；长度惩罚按定义打分。"""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from dlzh.text import Hypothesis, beam_search, greedy_search

VOCAB, EOS, BOS = 4, 3, 0


def _toy_model(seed: int):
    """一个有状态的小“语言模型”：状态是到目前为止的词元之和，对数概率取决于状态和上一个词元。"""
    table = torch.randn(VOCAB, 7, VOCAB, generator=torch.Generator().manual_seed(seed)) * 2.0

    def step(tokens: torch.Tensor, state: torch.Tensor):
        state = state + tokens  # (k,)
        logits = table[tokens, state % 7]  # (k, V)
        return logits.log_softmax(-1), state

    def select(state: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        return state.index_select(0, idx)

    return step, torch.zeros(1, dtype=torch.long), select


def _log_prob(step, state, seq) -> float:
    total, prev = 0.0, torch.tensor([BOS])
    for tok in seq:
        lp, state = step(prev, state)
        total += float(lp[0, tok])
        prev = torch.tensor([tok])
    return total


def _all_sequences(max_len: int):
    """所有可能的输出：以 <eos> 结尾且不超过 max_len，或长度恰为 max_len 且不含 <eos>。"""
    body = [t for t in range(VOCAB) if t != EOS]
    for n in range(max_len):
        for prefix in itertools.product(body, repeat=n):
            yield (*prefix, EOS)
    yield from itertools.product(body, repeat=max_len)


@pytest.mark.parametrize("seed", range(8))
def test_beam_size_one_equals_greedy(seed):
    step, state, select = _toy_model(seed)
    greedy = greedy_search(step, state, BOS, EOS, max_len=6)
    best, candidates = beam_search(step, state, BOS, EOS, 6, beam_size=1, select=select)
    assert best.tokens == greedy.tokens
    assert best.log_prob == pytest.approx(greedy.log_prob)
    assert len(candidates) == 1
    assert greedy.log_prob == pytest.approx(_log_prob(step, state, greedy.tokens))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("alpha", [0.0, 0.75])
def test_wide_beam_equals_exhaustive_search(seed, alpha):
    step, state, select = _toy_model(seed)
    max_len = 4
    everything = [
        Hypothesis(seq, _log_prob(step, state, seq), seq[-1] == EOS)
        for seq in _all_sequences(max_len)
    ]
    exhaustive = max(everything, key=lambda h: h.score(alpha))
    best, candidates = beam_search(
        step, state, BOS, EOS, max_len, beam_size=VOCAB**max_len, select=select, alpha=alpha
    )
    assert len(candidates) == len(everything)  # 束够宽：每条可能的输出都是候选
    assert best.tokens == exhaustive.tokens
    assert best.log_prob == pytest.approx(exhaustive.log_prob, abs=1e-5)


def test_beam_search_is_never_worse_than_greedy_without_length_penalty():
    wins = 0
    for seed in range(20):
        step, state, select = _toy_model(seed)
        greedy = greedy_search(step, state, BOS, EOS, 5)
        best, _ = beam_search(step, state, BOS, EOS, 5, beam_size=3, select=select, alpha=0.0)
        assert best.log_prob >= greedy.log_prob - 1e-6
        wins += best.log_prob > greedy.log_prob + 1e-6
    assert wins > 0  # 至少有一次束搜索找到了贪心错过的更好序列


def test_score_and_bad_arguments():
    h = Hypothesis((1, 2, EOS), -3.0, True)
    assert h.score(0.0) == -3.0
    assert h.score(0.75) == pytest.approx(-3.0 / 3**0.75)
    assert math.isclose(h.score(1.0), -1.0)
    step, state, select = _toy_model(0)
    with pytest.raises(ValueError, match="beam_size"):
        beam_search(step, state, BOS, EOS, 3, beam_size=0, select=select)
    with pytest.raises(ValueError, match="max_len"):
        greedy_search(step, state, BOS, EOS, max_len=0)


@pytest.mark.parametrize("beam_size", [1, 2, 3])
def test_trace_records_every_expansion_and_the_kept_ones(beam_size):
    step, state, select = _toy_model(3)
    trace: list = []
    best, candidates = beam_search(
        step, state, BOS, EOS, 4, beam_size=beam_size, select=select, trace=trace
    )
    assert 1 <= len(trace) <= 4
    # 第一步只有一个存活候选（空前缀），扩展成词表大小那么多条。
    assert len(trace[0].candidates) == VOCAB
    alive = [()]
    for record in trace:
        assert len(record.candidates) == len(alive) * VOCAB
        assert sum(record.kept) == min(beam_size, len(record.candidates))
        # 累计对数概率由定义重算：入选的正是最高的 beam_size 条。
        for hyp in record.candidates:
            assert hyp.tokens[:-1] in alive
            assert hyp.log_prob == pytest.approx(_log_prob(step, state, hyp.tokens), abs=1e-5)
        kept_lp = [h.log_prob for h, k in zip(record.candidates, record.kept, strict=True) if k]
        dropped = [h.log_prob for h, k in zip(record.candidates, record.kept, strict=True) if not k]
        assert not dropped or min(kept_lp) >= max(dropped)
        alive = [
            h.tokens
            for h, k in zip(record.candidates, record.kept, strict=True)
            if k and h.tokens[-1] != EOS
        ]
    # 最终候选都出现在某一步入选的扩展里。
    kept_all = {h.tokens for r in trace for h, k in zip(r.candidates, r.kept, strict=True) if k}
    assert {c.tokens for c in candidates} <= kept_all and best.tokens in kept_all
