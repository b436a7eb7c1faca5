"""编码器-解码器与不含注意力的序列到序列学习（d2l 的设计）。

- :class:`Seq2SeqEncoder`：嵌入层 + 多层 GRU，把变长的源序列编码成最后时间步的隐状态；
- :class:`Seq2SeqDecoder`：嵌入层 + 多层 GRU + 全连接层。解码器的初始隐状态是编码器的最终隐状态，
  并且**每个时间步**的输入都拼接上上下文变量（编码器最后一层在最后时间步的隐状态）；
- :class:`EncoderDecoder`：把两者接起来，训练时用强制教学（teacher forcing）：解码器的输入是
  ``<bos>`` 加上去掉最后一个词元的标签序列。

与 d2l 中文版代码的一处不同：那里的解码器每一步从**解码器自己的**最新隐状态 ``state[-1]`` 取
“上下文”，于是训练（整段一次输入，上下文始终是编码器的状态）与逐词预测（上下文随解码而变）
用到的上下文不一致。这里与 d2l 英文版一样，把编码器的上下文放进解码器状态里，固定不变。

源序列的填充：编码器不看有效长度，``<pad>`` 也会被 GRU 读入（d2l 的做法）；
有效长度只在损失里用来屏蔽标签的填充部分（:func:`dlzh.train.losses.masked_softmax_cross_entropy`）。
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from dlzh.text.decoding import Hypothesis, beam_search, greedy_search

__all__ = ["EncoderDecoder", "Seq2SeqDecoder", "Seq2SeqEncoder", "translate"]


class Seq2SeqEncoder(nn.Module):
    """输入 ``(B, T)`` 的词元下标；返回每步输出 ``(T, B, H)`` 和最终隐状态 ``(层数, B, H)``。"""

    def __init__(
        self, vocab_size: int, embed_size: int, num_hiddens: int, num_layers: int, dropout=0.0
    ) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.rnn = nn.GRU(embed_size, num_hiddens, num_layers, dropout=dropout)

    def forward(self, src: Tensor, *args) -> tuple[Tensor, Tensor]:
        x = self.embedding(src).transpose(0, 1)  # (T, B, E)：GRU 默认时间维在前
        outputs, state = self.rnn(x)  # (T, B, H), (L, B, H)
        return outputs, state


class Seq2SeqDecoder(nn.Module):
    """解码器；状态是二元组 ``(上下文 (B, H), 隐状态 (层数, B, H))``。"""

    def __init__(
        self, vocab_size: int, embed_size: int, num_hiddens: int, num_layers: int, dropout=0.0
    ) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.rnn = nn.GRU(embed_size + num_hiddens, num_hiddens, num_layers, dropout=dropout)
        self.dense = nn.Linear(num_hiddens, vocab_size)

    def init_state(self, enc_outputs: tuple[Tensor, Tensor], *args) -> tuple[Tensor, Tensor]:
        _, enc_state = enc_outputs
        return enc_state[-1], enc_state  # 上下文：编码器最后一层的最终隐状态

    def forward(self, tgt: Tensor, state: tuple[Tensor, Tensor]):
        context, hidden = state
        x = self.embedding(tgt).transpose(0, 1)  # (T, B, E)
        ctx = context.unsqueeze(0).expand(x.shape[0], -1, -1)  # (T, B, H)
        out, hidden = self.rnn(torch.cat((x, ctx), dim=-1), hidden)  # (T, B, H)
        return self.dense(out).transpose(0, 1), (context, hidden)  # (B, T, V)

    @staticmethod
    def select_state(state: tuple[Tensor, Tensor], idx: Tensor) -> tuple[Tensor, Tensor]:
        """按下标挑出（可重复）批量中的行，束搜索用它复制和重排候选的状态。"""
        context, hidden = state
        return context.index_select(0, idx), hidden.index_select(1, idx)


class EncoderDecoder(nn.Module):
    """编码器-解码器：``forward(src, dec_input)`` 返回 ``(B, T, 目标词表大小)`` 的对数几率。"""

    def __init__(self, encoder: nn.Module, decoder: nn.Module) -> None:
        super().__init__()
        self.encoder, self.decoder = encoder, decoder

    def forward(self, src: Tensor, dec_input: Tensor, *args) -> Tensor:
        state = self.decoder.init_state(self.encoder(src, *args), *args)
        logits, _ = self.decoder(dec_input, state)
        return logits


def _encode_sentence(sentence: str, src_vocab, num_steps: int, device) -> tuple[Tensor, Tensor]:
    """一个句子 -> ``(1, num_steps)`` 的下标和 ``(1,)`` 的有效长度（与训练数据的做法相同）。"""
    from dlzh.text.translation import EOS, PAD, preprocess_translation, truncate_pad

    tokens = [*src_vocab[preprocess_translation(sentence).split()], src_vocab[EOS]]
    src = torch.tensor([truncate_pad(tokens, num_steps, src_vocab[PAD])], device=device)
    return src, torch.tensor([min(len(tokens), num_steps)], device=device)


@torch.no_grad()
def translate(
    model: EncoderDecoder,
    sentence: str,
    src_vocab,
    tgt_vocab,
    num_steps: int,
    *,
    beam_size: int | None = None,
    alpha: float = 0.75,
    device: torch.device | None = None,
) -> tuple[str, Hypothesis]:
    """把一个源句子翻译成目标语言，返回（译文字符串，候选）。

    ``beam_size=None`` 用贪心搜索，否则用束宽为 ``beam_size`` 的束搜索（见 :mod:`dlzh.text.decoding`；
    束宽 1 与贪心搜索结果相同）。译文不含 ``<eos>``。源句子的有效长度与训练时一样传给编码器和
    解码器的 ``init_state``。
    """
    from dlzh.text.translation import BOS, EOS

    device = device or next(model.parameters()).device
    was_training = model.training
    model.eval()
    src, src_valid_len = _encode_sentence(sentence, src_vocab, num_steps, device)  # (1, T), (1,)
    # 与训练时 EncoderDecoder.forward 一样把有效长度传给编码器和 init_state：本模块的 GRU 用不到它，
    # 带注意力的解码器（如 dlzh.models.bahdanau）靠它忽略源序列的填充。
    state = model.decoder.init_state(model.encoder(src, src_valid_len), src_valid_len)

    def step(tokens: Tensor, st):
        logits, st = model.decoder(tokens.to(device).unsqueeze(1), st)  # (k, 1, V)
        return logits[:, -1].log_softmax(-1).cpu(), st

    bos, eos = tgt_vocab[BOS], tgt_vocab[EOS]
    if beam_size is None:
        best = greedy_search(step, state, bos, eos, num_steps)
    else:

        def select(st, idx: Tensor):
            return model.decoder.select_state(st, idx.to(device))

        best, _ = beam_search(step, state, bos, eos, num_steps, beam_size, select, alpha)
    model.train(was_training)
    words = [tok for tok in tgt_vocab.to_tokens(list(best.tokens)) if tok != EOS]
    return " ".join(words), best
