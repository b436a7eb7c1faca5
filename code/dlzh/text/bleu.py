"""BLEU：按 d2l 的定义评估一条预测序列与一条标签序列。

.. math::

   \\mathrm{BLEU} = \\exp\\Big(\\min\\big(0, 1 - \\tfrac{\\mathrm{len}_{\\text{label}}}
   {\\mathrm{len}_{\\text{pred}}}\\big)\\Big) \\prod_{n=1}^{k} p_n^{w_n}

其中 :math:`p_n` 是预测中 n 元语法的“截断”精度（每个 n 元语法最多按它在标签中出现的次数计匹配），
指数项是简短惩罚（brevity penalty）：预测比标签短时打折扣。

与常用实现（``sacrebleu``、``torchmetrics.text.BLEUScore``、Papineni 等人 2002 年的原始定义）
的差别：

- **权重**：d2l 用 :math:`w_n = 1/2^n`（长的 n 元语法匹配更难，给更高的“奖励”，因为 :math:`p_n\\le 1`
  时指数越小值越大）；标准 BLEU 用均匀权重 :math:`w_n = 1/k`。``weights="uniform"`` 给出标准形式。
  两者在所有 :math:`p_n` 都为 1（完全匹配或预测是标签的连续片段）、或某个 :math:`p_n` 为 0 时相同。
- **句子级、单参考**：这里一次只比一对序列；``sacrebleu``/``torchmetrics`` 对语料计算 BLEU 时先把
  所有句子的匹配数与 n 元语法数加总再求精度（语料级），并允许多个参考译文。
- **平滑与短序列**：预测不足 n 个词元时它没有 n 元语法，这里令 :math:`p_n = 0`（d2l 的原代码会除以 0
  或负数）；``sacrebleu`` 默认还对 :math:`p_n=0` 做指数平滑，``torchmetrics`` 默认不平滑。
- **分词**：这里的输入是已经切好的词元（字符串按空格切分），``sacrebleu`` 默认先用自己的 13a
  分词器处理原始文本。
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Literal

__all__ = ["bleu", "ngram_precision"]


def _tokens(seq: str | Sequence[str]) -> list[str]:
    return seq.split() if isinstance(seq, str) else list(seq)


def _ngrams(tokens: list[str], n: int) -> Counter[tuple[str, ...]]:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def ngram_precision(pred: str | Sequence[str], label: str | Sequence[str], n: int) -> float:
    """截断的 n 元语法精度 :math:`p_n`：匹配数 / 预测中 n 元语法的个数（没有 n 元语法时为 0）。"""
    pred_grams = _ngrams(_tokens(pred), n)
    label_grams = _ngrams(_tokens(label), n)
    total = sum(pred_grams.values())
    if total == 0:
        return 0.0
    matches = sum(min(count, label_grams[gram]) for gram, count in pred_grams.items())
    return matches / total


def bleu(
    pred: str | Sequence[str],
    label: str | Sequence[str],
    k: int = 2,
    weights: Literal["d2l", "uniform"] | Sequence[float] = "d2l",
) -> float:
    """一条预测与一条标签之间的 BLEU，取值 0 到 1，完全相同时为 1。

    ``pred``/``label``：空格分隔的字符串或词元列表；``k``：最长的 n 元语法；
    ``weights``：``"d2l"``（:math:`1/2^n`）、``"uniform"``（:math:`1/k`，标准 BLEU）或长为 ``k`` 的序列。
    """
    pred_tokens, label_tokens = _tokens(pred), _tokens(label)
    if not pred_tokens:
        return 0.0
    if weights == "d2l":
        w = [0.5**n for n in range(1, k + 1)]
    elif weights == "uniform":
        w = [1.0 / k] * k
    else:
        w = [float(x) for x in weights]
        if len(w) != k:
            raise ValueError(
                f"weights 应有 k={k} 个数，收到 {len(w)} 个。 / weights needs k={k} values."
            )
    score = math.exp(min(0.0, 1 - len(label_tokens) / len(pred_tokens)))  # 简短惩罚
    for n, weight in enumerate(w, start=1):
        p = ngram_precision(pred_tokens, label_tokens, n)
        if p == 0.0:
            return 0.0
        score *= p**weight
    return score
