"""解码：由逐步的条件概率生成整条输出序列，贪心搜索与束搜索。

两种搜索都只需要一个“走一步”的函数 ``step(tokens, state) -> (log_probs, state)``：
``tokens`` 是 ``(k,)`` 的上一个词元，``log_probs`` 是 ``(k, 词表大小)`` 的对数概率，
``state`` 是模型的任意状态。束搜索还要知道怎样按下标挑出（并复制）状态的行：
``select(state, idx)``，见 :meth:`dlzh.models.seq2seq.Seq2SeqDecoder.select_state`。

- 贪心搜索：每步取概率最大的词元，直到输出 ``<eos>`` 或达到 ``max_len``。
- 束搜索：每步保留累计对数概率最高的 ``beam_size`` 条候选；遇到 ``<eos>`` 的候选结束并放进
  完成列表。最后在“已完成的候选 + 到达 ``max_len`` 的候选”中按
  :math:`\\frac{1}{L^\\alpha}\\log P(y_1,\\dots,y_L)` 选出最好的一条（d2l 的长度惩罚，
  ``alpha=0`` 时就是对数概率本身）。``L`` 计入 ``<eos>``。
  ``beam_size=1`` 时与贪心搜索完全相同（测试中检查）。
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

__all__ = ["BeamStep", "Hypothesis", "beam_search", "greedy_search"]

StepFn = Callable[[torch.Tensor, Any], tuple[torch.Tensor, Any]]
SelectFn = Callable[[Any, torch.Tensor], Any]


@dataclass(frozen=True)
class Hypothesis:
    """一条候选输出：词元下标（含结尾的 ``<eos>``，若有）、累计对数概率和是否已结束。"""

    tokens: tuple[int, ...]
    log_prob: float
    finished: bool

    def score(self, alpha: float = 0.75) -> float:
        """d2l 的打分 :math:`\\log P / L^\\alpha`：不除以长度时，越长的序列乘的概率越多，越吃亏。"""
        return self.log_prob / max(len(self.tokens), 1) ** alpha


@dataclass(frozen=True)
class BeamStep:
    """束搜索一个时间步的全部扩展：每条存活候选接上词表中每个词元得到的候选，以及它们是否入选。

    ``candidates`` 按（存活候选，词元）的顺序排列，``kept[i]`` 表示第 ``i`` 条是否在累计对数概率
    最高的 ``beam_size`` 条之中（入选且以 ``<eos>`` 结尾的候选就此结束）。画束搜索树时用它。
    """

    candidates: tuple[Hypothesis, ...]
    kept: tuple[bool, ...]


def _check_max_len(max_len: int) -> None:
    if max_len < 1:
        raise ValueError(f"max_len 必须 >= 1，收到 {max_len} / max_len must be >= 1")


@torch.no_grad()
def greedy_search(step: StepFn, state: Any, bos: int, eos: int, max_len: int) -> Hypothesis:
    """贪心搜索：每步取对数概率最大的词元。"""
    _check_max_len(max_len)
    token = torch.tensor([bos])
    tokens: list[int] = []
    total = 0.0
    for _ in range(max_len):
        log_probs, state = step(token, state)  # (1, V)
        best = int(log_probs[0].argmax())
        total += float(log_probs[0, best])
        tokens.append(best)
        if best == eos:
            return Hypothesis(tuple(tokens), total, True)
        token = torch.tensor([best])
    return Hypothesis(tuple(tokens), total, False)


@torch.no_grad()
def beam_search(
    step: StepFn,
    state: Any,
    bos: int,
    eos: int,
    max_len: int,
    beam_size: int,
    select: SelectFn,
    alpha: float = 0.75,
    trace: list[BeamStep] | None = None,
) -> tuple[Hypothesis, list[Hypothesis]]:
    """束搜索，返回（最好的候选，按分数从高到低排列的全部候选）。

    ``state`` 是批量大小为 1 的初始状态（如编码器的输出），第一步之后用 ``select`` 复制成
    ``beam_size`` 行。给出列表 ``trace`` 时，每个时间步向其中追加一个 :class:`BeamStep`
    （全部扩展及是否入选），用来画出搜索树、看清哪些候选被剪掉。
    """
    _check_max_len(max_len)
    if beam_size < 1:
        raise ValueError(f"beam_size 必须 >= 1，收到 {beam_size} / beam_size must be >= 1")
    alive: list[tuple[int, ...]] = [()]
    alive_lp = torch.zeros(1)  # (k,)
    tokens = torch.tensor([bos])  # (k,)
    finished: list[Hypothesis] = []
    for t in range(max_len):
        log_probs, state = step(tokens, state)  # (k, V)
        vocab_size = log_probs.shape[-1]
        total = (alive_lp[:, None] + log_probs.float()).flatten()  # (k*V,)
        # 所有扩展中取累计对数概率最高的 beam_size 条；其中以 <eos> 结尾的移入完成列表，
        # 其余继续扩展。这样 beam_size=1 时每一步都与贪心搜索的选择相同。
        top_lp, top_idx = total.topk(min(beam_size, total.numel()))
        if trace is not None:
            chosen = set(top_idx.tolist())
            trace.append(
                BeamStep(
                    tuple(
                        Hypothesis(
                            (*alive[i // vocab_size], i % vocab_size), lp, i % vocab_size == eos
                        )
                        for i, lp in enumerate(total.tolist())
                    ),
                    tuple(i in chosen for i in range(total.numel())),
                )
            )
        rows, next_alive, next_lp = [], [], []
        for lp, idx in zip(top_lp.tolist(), top_idx.tolist(), strict=True):
            row, tok = divmod(idx, vocab_size)
            seq = (*alive[row], tok)
            if tok == eos:
                finished.append(Hypothesis(seq, lp, True))
            else:
                rows.append(row)
                next_alive.append(seq)
                next_lp.append(lp)
        alive, alive_lp = next_alive, torch.tensor(next_lp)
        if not alive or t == max_len - 1:
            break
        tokens = torch.tensor([seq[-1] for seq in alive])  # (k,)
        state = select(state, torch.tensor(rows))
    candidates = finished + [
        Hypothesis(seq, lp, False) for seq, lp in zip(alive, alive_lp.tolist(), strict=True)
    ]
    candidates.sort(key=lambda h: h.score(alpha), reverse=True)
    return candidates[0], candidates
