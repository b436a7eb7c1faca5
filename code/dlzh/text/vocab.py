"""词元化与词表：把文本变成整数下标，再变回来。

- :func:`tokenize`：按词（空白分隔）或按字符切分每一行；
- :class:`Vocab`：按频率从高到低给词元编号。下标 0 永远是未知词元 ``<unk>``，其后是保留词元
  （如 ``<pad>``、``<bos>``、``<eos>``），再往后是出现次数不少于 ``min_freq`` 的词元。
  频率相同的词元按第一次出现的先后排列，所以同样的语料总是得到同样的编号。
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Literal, overload

__all__ = ["UNK", "Vocab", "count_corpus", "tokenize"]

UNK = "<unk>"


def tokenize(lines: Iterable[str], token: Literal["word", "char"] = "word") -> list[list[str]]:
    """把每一行切成词元列表：``"word"`` 按空白切分，``"char"`` 逐个字符（空格也是一个词元）。"""
    if token == "word":
        return [line.split() for line in lines]
    if token == "char":
        return [list(line) for line in lines]
    raise ValueError(
        f"未知的词元类型 {token!r}，可选 'word' 或 'char'。 / Unknown token type {token!r}; "
        "use 'word' or 'char'."
    )


def count_corpus(tokens: Iterable[str] | Iterable[Sequence[str]]) -> Counter[str]:
    """统计词元频率；``tokens`` 可以是一维列表，也可以是“每行一个列表”的二维列表。"""
    items = list(tokens)
    if items and not isinstance(items[0], str):
        items = [tok for line in items for tok in line]
    return Counter(items)


class Vocab:
    """文本词表：词元 <-> 下标。

    ``tokens``：一维或二维（每行一个列表）的词元；``min_freq``：出现次数少于它的词元不进词表，
    查询时映射到 ``<unk>``（下标 0）；``reserved_tokens``：排在 ``<unk>`` 之后的特殊词元，
    不论是否在语料中出现都占有下标。
    """

    def __init__(
        self,
        tokens: Iterable[str] | Iterable[Sequence[str]] = (),
        min_freq: int = 0,
        reserved_tokens: Sequence[str] = (),
    ) -> None:
        if UNK in reserved_tokens:
            raise ValueError(
                f"{UNK} 总是下标 0，不要放进 reserved_tokens。 / {UNK} is always index 0; "
                "do not list it in reserved_tokens."
            )
        counter = count_corpus(tokens)
        # sorted 是稳定排序：频率相同的词元保持 Counter 中第一次出现的顺序，编号可复现。
        self.token_freqs: list[tuple[str, int]] = sorted(
            counter.items(), key=lambda kv: kv[1], reverse=True
        )
        self.idx_to_token: list[str] = [UNK, *reserved_tokens]
        self.token_to_idx: dict[str, int] = {tok: i for i, tok in enumerate(self.idx_to_token)}
        if len(self.token_to_idx) != len(self.idx_to_token):
            raise ValueError(
                f"reserved_tokens 有重复：{list(reserved_tokens)} / duplicate reserved tokens."
            )
        for token, freq in self.token_freqs:
            if freq < min_freq:
                break  # 已按频率降序排列，后面的只会更少
            if token not in self.token_to_idx:
                self.token_to_idx[token] = len(self.idx_to_token)
                self.idx_to_token.append(token)

    def __len__(self) -> int:
        return len(self.idx_to_token)

    @property
    def unk(self) -> int:
        """未知词元的下标（总是 0）。"""
        return 0

    @overload
    def __getitem__(self, tokens: str) -> int: ...
    @overload
    def __getitem__(self, tokens: list | tuple) -> list: ...

    def __getitem__(self, tokens):
        """词元 -> 下标；传入列表（可嵌套）时逐个转换。词表外的词元得到 ``<unk>`` 的下标。"""
        if isinstance(tokens, str):
            return self.token_to_idx.get(tokens, self.unk)
        return [self[tok] for tok in tokens]

    def to_tokens(self, indices):
        """下标 -> 词元；接受整数、整数列表（可嵌套）或张量。"""
        if hasattr(indices, "tolist"):
            indices = indices.tolist()
        if isinstance(indices, int):
            return self.idx_to_token[indices]
        return [self.to_tokens(i) for i in indices]

    def __repr__(self) -> str:
        head = ", ".join(self.idx_to_token[:10])
        return f"Vocab(size={len(self)}, tokens=[{head}{', ...' if len(self) > 10 else ''}])"
