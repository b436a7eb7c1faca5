"""机器翻译数据：英语-法语句子对的读取、预处理、截断与填充、小批量。

文件格式（Tatoeba / manythings.org 的 ``fra.txt``，d2l 的 ``fra-eng.zip`` 里就是它）：每行一个
句子对，制表符分隔，第一列英语、第二列法语；较新的版本还有第三列（出处与作者），这里忽略。
法语在 ``! ? : ;`` 等标点前用不间断空格（U+00A0）或窄不间断空格（U+202F）。

d2l 的 ``tokenize_nmt`` 只接受恰好两列的行（``len(parts) == 2``），遇到三列的新版文件会把每一行
都丢掉；这里取前两列，所以两种版本都能读。

两个数据来源（见 :mod:`dlzh.data.registry`）：

- ``fra-eng``：d2l 的 ``fra-eng.zip``（full 档位，书里的参考结果用的就是它）；
- ``fra-eng-tatoeba``：离线镜像里截断的 Tatoeba ``fra.txt``（51,976 对，quick 档位），与 d2l
  的文件不逐字节相同。页面应打印 :attr:`TranslationData.source` 和句子对数。
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch

from dlzh.text.vocab import Vocab

__all__ = [
    "BOS",
    "EOS",
    "PAD",
    "TensorBatches",
    "TranslationData",
    "build_array",
    "load_translation",
    "parse_pairs",
    "preprocess_translation",
    "read_translation_text",
    "truncate_pad",
]

PAD, BOS, EOS = "<pad>", "<bos>", "<eos>"
_NO_SPACE_BEFORE = set(",.!?")


def preprocess_translation(text: str) -> str:
    """把不间断空格换成普通空格、转小写，并在 ``, . ! ?`` 前补一个空格，使标点成为单独的词元。"""
    text = text.replace("\u202f", " ").replace("\xa0", " ").lower()
    out = []
    for i, char in enumerate(text):
        if i > 0 and char in _NO_SPACE_BEFORE and text[i - 1] != " ":
            out.append(" ")
        out.append(char)
    return "".join(out)


def parse_pairs(
    text: str, num_examples: int | None = None
) -> tuple[list[list[str]], list[list[str]]]:
    """把预处理后的文本切成（源语言词元列表，目标语言词元列表）。

    每行按制表符分列，取前两列（第三列及以后是出处，忽略），按空格切成词元；
    少于两列或有一侧为空的行跳过。``num_examples`` 限制读取的句子对数。

    与 d2l 的 ``tokenize_nmt`` 的两处差别：d2l 在行号 ``i > num_examples`` 时才停止，
    实际读入 ``num_examples + 1`` 行（默认 601 对）；d2l 按单个空格切分（``split(' ')``），
    连续空格会产生空词元，这里按任意空白切分。
    """
    source: list[list[str]] = []
    target: list[list[str]] = []
    for line in text.split("\n"):
        if num_examples is not None and len(source) >= num_examples:
            break
        parts = line.split("\t")
        if len(parts) < 2:
            continue
        src, tgt = parts[0].split(), parts[1].split()
        if src and tgt:
            source.append(src)
            target.append(tgt)
    return source, target


def truncate_pad(line: Sequence[int], num_steps: int, padding_token: int) -> list[int]:
    """长于 ``num_steps`` 的序列截断，短的在末尾用 ``padding_token`` 补齐到 ``num_steps``。"""
    if len(line) > num_steps:
        return list(line[:num_steps])
    return list(line) + [padding_token] * (num_steps - len(line))


def build_array(
    lines: Iterable[Sequence[str]], vocab: Vocab, num_steps: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """词元序列 -> ``(N, num_steps)`` 的下标张量和 ``(N,)`` 的有效长度。

    每个序列末尾先加 ``<eos>`` 再截断/填充；有效长度是不含 ``<pad>`` 的词元数（含 ``<eos>``，
    被截断的序列则是 ``num_steps``，此时 ``<eos>`` 被截掉了）。
    """
    lines = list(lines)
    pad, eos = vocab[PAD], vocab[EOS]
    rows = [truncate_pad([*vocab[list(line)], eos], num_steps, pad) for line in lines]
    array = torch.tensor(rows, dtype=torch.long)  # (N, T)
    # 按长度而不是按“是否等于 <pad>”计算有效长度（d2l 的做法），这样不依赖 <pad> 的下标。
    lengths = torch.tensor([min(len(line) + 1, num_steps) for line in lines], dtype=torch.long)
    return array, lengths


def read_translation_text(source: Literal["d2l", "tatoeba"] = "d2l") -> tuple[str, Path, str]:
    """读入英法句子对的原始文本，返回（文本，文件路径，实际使用的来源）。

    ``"d2l"``：d2l 的 ``fra-eng.zip``（解压出 ``fra-eng/fra.txt``）；``"tatoeba"``：镜像中截断的
    Tatoeba ``fra.txt``。都通过数据登记表取得并校验摘要。

    离线的镜像里没有 d2l 的压缩包。冒烟模式（只检查 full 档位的代码路径）下取不到它时，
    打印一行说明并改用 Tatoeba 的文件；正式的 full 构建照常报错，不会悄悄换数据。
    """
    from dlzh.data import DataNotFoundError, fetch, fetch_extracted
    from dlzh.profile import is_smoke

    if source == "d2l":
        try:
            path = fetch_extracted("fra-eng", "fra-eng.zip") / "fra-eng" / "fra.txt"
        except DataNotFoundError:
            if not is_smoke():
                raise
            print(
                "冒烟模式：取不到 d2l 的 fra-eng.zip（离线），改用 Tatoeba 的 fra.txt 检查代码路径。"
            )
            path, source = fetch("fra-eng-tatoeba", "fra.txt"), "tatoeba"
    elif source == "tatoeba":
        path = fetch("fra-eng-tatoeba", "fra.txt")
    else:
        raise ValueError(
            f"未知的数据来源 {source!r}，可选 'd2l' 或 'tatoeba'。 / Unknown source {source!r}; "
            "use 'd2l' or 'tatoeba'."
        )
    return path.read_text(encoding="utf-8"), path, source


@dataclass
class TranslationData:
    """一份做好的翻译数据：张量、有效长度、两个词表，以及来源说明。"""

    src: torch.Tensor  # (N, T)
    src_valid_len: torch.Tensor  # (N,)
    tgt: torch.Tensor  # (N, T)
    tgt_valid_len: torch.Tensor  # (N,)
    src_vocab: Vocab
    tgt_vocab: Vocab
    source: str
    num_pairs: int

    def loader(self, batch_size: int, shuffle: bool = True, seed: int = 0) -> TensorBatches:
        """小批量 ``(X, X_valid_len, Y, Y_valid_len)``。"""
        return TensorBatches(
            (self.src, self.src_valid_len, self.tgt, self.tgt_valid_len),
            batch_size=batch_size,
            shuffle=shuffle,
            seed=seed,
        )


class TensorBatches:
    """按第 0 维把若干等长张量一起切成小批量；``shuffle`` 时每个迭代周期从同一个生成器重新打乱。

    :class:`dlzh.data.TensorLoader` 只管 ``(特征, 标签)`` 两个张量；翻译的批量有四个。
    """

    def __init__(
        self,
        tensors: Sequence[torch.Tensor],
        batch_size: int,
        *,
        shuffle: bool = False,
        seed: int = 0,
    ) -> None:
        sizes = {len(t) for t in tensors}
        if len(sizes) != 1:
            raise ValueError(
                f"张量的第 0 维必须相同，收到 {[len(t) for t in tensors]}。"
                " / All tensors need the same first dimension."
            )
        if batch_size < 1:
            raise ValueError(f"batch_size 必须 >= 1，收到 {batch_size} / must be >= 1")
        self.tensors, self.batch_size, self.shuffle = tuple(tensors), batch_size, shuffle
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return -(-len(self.tensors[0]) // self.batch_size)

    def __iter__(self):
        n = len(self.tensors[0])
        order = torch.randperm(n, generator=self.generator) if self.shuffle else torch.arange(n)
        for start in range(0, n, self.batch_size):
            idx = order[start : start + self.batch_size]
            yield tuple(t[idx] for t in self.tensors)


def _head(text: str, num_examples: int | None) -> str:
    """只取前面含制表符的 ``num_examples`` 行：逐字符的预处理对整个文件（几 MB）要零点几秒，
    而 quick 档位只用几百对。个别行预处理后不成对时，:func:`load_translation` 退回整个文本。"""
    if num_examples is None:
        return text
    end, found = 0, 0
    while found < num_examples:
        nl = text.find("\n", end)
        line_end = len(text) if nl < 0 else nl
        found += "\t" in text[end:line_end]
        if nl < 0:
            return text
        end = nl + 1
    return text[:end]


def load_translation(
    num_steps: int,
    num_examples: int | None = 600,
    *,
    source: Literal["d2l", "tatoeba"] = "d2l",
    min_freq: int = 2,
    text: str | None = None,
) -> TranslationData:
    """读取、预处理、建词表（``min_freq=2``，保留 ``<pad> <bos> <eos>``），返回 :class:`TranslationData`。

    ``text`` 给定时直接用它（测试和自带语料），否则按 ``source`` 取文件。
    """
    where = "text 参数 / text argument"
    if text is None:
        text, path, used = read_translation_text(source)
        where = f"{used}: {path.name}"
    head = _head(text, num_examples)
    src_lines, tgt_lines = parse_pairs(preprocess_translation(head), num_examples)
    if num_examples is not None and len(src_lines) < num_examples and len(head) < len(text):
        src_lines, tgt_lines = parse_pairs(preprocess_translation(text), num_examples)
    if not src_lines:
        raise ValueError(
            f"{where} 中没有找到制表符分隔的句子对。 / No tab-separated pairs found in {where}."
        )
    reserved = (PAD, BOS, EOS)
    src_vocab = Vocab(src_lines, min_freq=min_freq, reserved_tokens=reserved)
    tgt_vocab = Vocab(tgt_lines, min_freq=min_freq, reserved_tokens=reserved)
    src, src_len = build_array(src_lines, src_vocab, num_steps)
    tgt, tgt_len = build_array(tgt_lines, tgt_vocab, num_steps)
    return TranslationData(src, src_len, tgt, tgt_len, src_vocab, tgt_vocab, where, len(src_lines))
