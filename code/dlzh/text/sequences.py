"""语言模型的语料与小批量：《时间机器》语料，随机采样和顺序分区两种迭代器。

两种迭代器都把一条长长的词元序列切成长度为 ``num_steps`` 的子序列，标签是向右错开一位的
同一段序列（预测下一个词元）。它们的区别决定了隐状态能否跨批量保留：

- :class:`RandomSequenceIterator`（随机采样）：每个迭代周期随机选一个起始偏移，把子序列
  打乱后分批。相邻两个批量的同一行在原文中并不相邻，所以每个批量都要**重新初始化**隐状态。
- :class:`SequentialSequenceIterator`（顺序分区）：把语料按行均分成 ``batch_size`` 段，
  第 ``t+1`` 个批量的第 ``i`` 行紧接着第 ``t`` 个批量的第 ``i`` 行。于是隐状态可以从上一个
  批量**带过来**继续用（但要 ``detach``，否则反向传播会一直穿过之前所有批量）。

两者每个迭代周期（每次 ``iter``）都从自己的 ``torch.Generator`` 抽取新的偏移与顺序：
给定 ``seed``，整个训练可复现；不同迭代周期看到的切分不同。
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Literal

import torch

from dlzh.text.vocab import Vocab, tokenize

__all__ = [
    "RandomSequenceIterator",
    "SequentialSequenceIterator",
    "load_time_machine",
    "read_time_machine",
    "time_machine_iter",
]


def read_time_machine(path: str | Path | None = None) -> list[str]:
    """读入《时间机器》，每行只保留英文字母（其余字符换成空格）并转成小写，与 d2l 的预处理相同。

    ``path`` 为 ``None`` 时通过数据登记表取文件（缓存 -> ``DLZH_DATA_MIRROR`` -> 官方 URL）。
    """
    if path is None:
        from dlzh.data import fetch

        path = fetch("time-machine", "timemachine.txt")
    with open(path, encoding="utf-8") as f:
        lines = f.readlines()
    return [re.sub("[^A-Za-z]+", " ", line).strip().lower() for line in lines]


def load_time_machine(
    token: Literal["char", "word"] = "char", max_tokens: int = -1, path: str | Path | None = None
) -> tuple[list[int], Vocab]:
    """返回《时间机器》的词元下标序列和词表。

    与 d2l 一样，各行的词元直接首尾相接（行与行之间不插入空格），空行不贡献词元；
    ``max_tokens > 0`` 时只取前 ``max_tokens`` 个词元。
    """
    tokens = tokenize(read_time_machine(path), token)
    vocab = Vocab(tokens)
    corpus = [vocab[tok] for line in tokens for tok in line]
    if max_tokens > 0:
        corpus = corpus[:max_tokens]
    return corpus, vocab


def _as_tensor(corpus: Sequence[int] | torch.Tensor) -> torch.Tensor:
    tensor = torch.as_tensor(corpus, dtype=torch.long).flatten()
    return tensor


class _SequenceIterator:
    def __init__(
        self,
        corpus: Sequence[int] | torch.Tensor,
        batch_size: int,
        num_steps: int,
        seed: int | None = 0,
    ) -> None:
        if batch_size < 1 or num_steps < 1:
            raise ValueError(
                f"batch_size 与 num_steps 必须 >= 1，收到 {batch_size}, {num_steps}。"
                " / batch_size and num_steps must be >= 1."
            )
        self.corpus = _as_tensor(corpus)
        self.batch_size, self.num_steps = batch_size, num_steps
        self.generator = torch.Generator()
        if seed is None:
            self.generator.seed()
        else:
            self.generator.manual_seed(seed)
        if len(self) == 0:
            raise ValueError(
                f"语料只有 {len(self.corpus)} 个词元，凑不出一个批量（batch_size={batch_size}，"
                f"num_steps={num_steps}）；请减小二者或换更长的语料。 / Corpus of "
                f"{len(self.corpus)} tokens is too short for one batch; reduce batch_size or "
                "num_steps."
            )

    def _offset(self) -> int:
        # 随机偏移 0..num_steps-1：不同迭代周期的子序列边界不同，覆盖更多切分方式。
        return int(torch.randint(0, self.num_steps, (1,), generator=self.generator))

    def __len__(self) -> int:  # pragma: no cover - 由子类实现
        raise NotImplementedError


class RandomSequenceIterator(_SequenceIterator):
    """随机采样：产出 ``(X, Y)``，形状都是 ``(批量大小, num_steps)``，``Y`` 是 ``X`` 右移一位。

    一个迭代周期内，所有子序列互不重叠，并且首尾相接地覆盖 ``corpus[offset : offset + n*T]``
    （``n`` 为子序列个数、``T`` 为 ``num_steps``、偏移 ``offset < T``）；最后一个批量可能不满
    ``batch_size`` 行（``drop_last=True`` 时丢掉它，d2l 的做法）。
    """

    def __init__(
        self,
        corpus: Sequence[int] | torch.Tensor,
        batch_size: int,
        num_steps: int,
        seed: int | None = 0,
        drop_last: bool = False,
    ) -> None:
        self.drop_last = drop_last
        super().__init__(corpus, batch_size, num_steps, seed)

    def _num_subseqs(self) -> int:
        # 偏移最大为 T-1，按最坏情况计算，使每个迭代周期的批量数相同。
        return (len(self.corpus) - self.num_steps) // self.num_steps

    def __len__(self) -> int:
        n = self._num_subseqs()
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        offset, n, steps = self._offset(), self._num_subseqs(), self.num_steps
        starts = offset + steps * torch.randperm(n, generator=self.generator)  # (n,)
        ramp = torch.arange(steps)  # (T,)
        for b in range(len(self)):
            s = starts[b * self.batch_size : (b + 1) * self.batch_size]  # (B,)
            idx = s[:, None] + ramp[None, :]  # (B, T)
            yield self.corpus[idx], self.corpus[idx + 1]


class SequentialSequenceIterator(_SequenceIterator):
    """顺序分区：产出 ``(X, Y)``，形状 ``(批量大小, num_steps)``。

    每个迭代周期先随机偏移，再把 ``corpus[offset:]`` 均分成 ``batch_size`` 行；第 ``t`` 个
    批量取每行的第 ``t`` 段。所以批量 ``t+1`` 的第 ``i`` 行在原文中紧接批量 ``t`` 的第 ``i`` 行，
    隐状态可以跨批量保留。
    """

    def _row_len(self) -> int:
        # 与随机采样一样按最坏的偏移（T-1）计算，每个迭代周期的批量数相同。
        return (len(self.corpus) - self.num_steps) // self.batch_size

    def __len__(self) -> int:
        return self._row_len() // self.num_steps

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        offset, row_len = self._offset(), self._row_len()
        used = row_len * self.batch_size
        xs = self.corpus[offset : offset + used].reshape(self.batch_size, row_len)  # (B, L)
        ys = self.corpus[offset + 1 : offset + 1 + used].reshape(self.batch_size, row_len)
        for t in range(len(self)):
            cols = slice(t * self.num_steps, (t + 1) * self.num_steps)
            yield xs[:, cols], ys[:, cols]  # (B, T), (B, T)


def time_machine_iter(
    batch_size: int,
    num_steps: int,
    *,
    sampling: Literal["random", "sequential"] = "sequential",
    token: Literal["char", "word"] = "char",
    max_tokens: int = 10000,
    seed: int | None = 0,
) -> tuple[RandomSequenceIterator | SequentialSequenceIterator, Vocab]:
    """《时间机器》语言模型的小批量迭代器和词表（d2l 默认只取前 10000 个字符）。"""
    corpus, vocab = load_time_machine(token, max_tokens)
    if sampling == "random":
        return RandomSequenceIterator(corpus, batch_size, num_steps, seed), vocab
    if sampling == "sequential":
        return SequentialSequenceIterator(corpus, batch_size, num_steps, seed), vocab
    raise ValueError(
        f"未知的采样方式 {sampling!r}，可选 'random' 或 'sequential'。 / Unknown sampling "
        f"{sampling!r}; use 'random' or 'sequential'."
    )
