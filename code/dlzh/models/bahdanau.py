"""Bahdanau 注意力：解码器的每一步都重新“看”一遍编码器的全部输出。

不含注意力的序列到序列模型把整个源序列压缩进编码器最后的隐状态（一个定长的上下文变量），
句子一长，信息就丢了。Bahdanau 等人（2014）让上下文变量随解码的每一步而变：以解码器上一步的
隐状态为查询，编码器各时间步的输出同时作为键和值，用加性注意力汇聚出这一步的上下文变量。
于是生成某个目标词元时，可以把权重放在与它对齐的源词元上（画出注意力权重就能看到这种对齐）。

:class:`BahdanauDecoder` 与 :mod:`dlzh.models.seq2seq` 的解码器接口相同（``init_state``、
``forward(tokens, state)``、``select_state``），所以可以与同一个编码器、``EncoderDecoder``、
训练步骤和 ``translate``（贪心搜索与束搜索）一起使用。
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from dlzh.models.attention import AdditiveAttention

BahdanauState = tuple[Tensor, Tensor, Tensor | None]
"""``(编码器输出 (B, S, H), 解码器隐状态 (层数, B, H), 源的有效长度 (B,) 或 None)``。"""


class BahdanauDecoder(nn.Module):
    """带加性注意力的 GRU 解码器（d2l 的 ``Seq2SeqAttentionDecoder``）。

    每个时间步：查询 = 解码器最后一层上一步的隐状态 ``(B, 1, H)``；上下文 = 对编码器输出的
    注意力汇聚 ``(B, 1, H)``；GRU 的输入 = ``[上下文, 词嵌入]``。源序列的填充位置由有效长度
    掩蔽，权重恰好为 0。前向之后 ``attention_weights`` 保存各步的权重 ``(B, T, S)``，供画热图。
    """

    def __init__(
        self,
        vocab_size: int,
        embed_size: int,
        num_hiddens: int,
        num_layers: int,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.attention = AdditiveAttention(num_hiddens, num_hiddens, num_hiddens, dropout)
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.rnn = nn.GRU(embed_size + num_hiddens, num_hiddens, num_layers, dropout=dropout)
        self.dense = nn.Linear(num_hiddens, vocab_size)
        self.attention_weights: Tensor | None = None

    def init_state(
        self, enc_outputs: tuple[Tensor, Tensor], enc_valid_lens: Tensor | None = None, *args
    ) -> BahdanauState:
        """编码器给出 ``(各步输出 (S, B, H), 最终隐状态 (层数, B, H))``。

        ``enc_valid_lens`` 为 None 时注意所有源位置（包括填充）；训练时 ``EncoderDecoder`` 会把
        ``X_valid_len`` 传进来。
        """
        outputs, hidden = enc_outputs
        return outputs.transpose(0, 1), hidden, enc_valid_lens  # 编码器输出转成 (B, S, H)

    def forward(self, tokens: Tensor, state: BahdanauState) -> tuple[Tensor, BahdanauState]:
        """``tokens (B, T)`` -> 对数几率 ``(B, T, vocab_size)`` 和新的状态。"""
        enc_outputs, hidden, valid_lens = state
        x = self.embedding(tokens).transpose(0, 1)  # (T, B, E)
        outputs, weights = [], []
        for x_t in x:  # 逐个时间步：这一步的上下文取决于上一步的隐状态，无法并行
            query = hidden[-1].unsqueeze(1)  # (B, 1, H)
            context = self.attention(query, enc_outputs, enc_outputs, valid_lens)  # (B, 1, H)
            rnn_in = torch.cat([context, x_t.unsqueeze(1)], dim=-1)  # (B, 1, H + E)
            out, hidden = self.rnn(rnn_in.transpose(0, 1), hidden)  # (1, B, H)
            outputs.append(out)
            weights.append(self.attention.attention_weights)  # (B, 1, S)
        self.attention_weights = torch.cat(weights, dim=1).detach()  # (B, T, S)
        logits = self.dense(torch.cat(outputs, dim=0)).transpose(0, 1)  # (B, T, V)
        return logits, (enc_outputs, hidden, valid_lens)

    @staticmethod
    def select_state(state: BahdanauState, idx: Tensor) -> BahdanauState:
        """按下标挑出（可重复）批量中的行，束搜索用它复制和重排候选的状态。"""
        enc_outputs, hidden, valid_lens = state
        idx = idx.to(enc_outputs.device)
        return (
            enc_outputs.index_select(0, idx),
            hidden.index_select(1, idx),
            None if valid_lens is None else valid_lens.index_select(0, idx),
        )
