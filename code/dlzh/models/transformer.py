"""Transformer（《Attention Is All You Need》）：编码器层、解码器层、各自的堆叠、带词嵌入的
序列到序列模型，以及贪心解码。

每层由两三个子层组成（自注意力、编码器-解码器注意力、逐位置前馈网络），每个子层外面包着
残差连接和层归一化。层归一化放在哪里有两种做法：

- 后归一化（post-norm，原论文）：``x = norm(x + sublayer(x))``。残差路径上有层归一化，
  深层网络初期梯度不稳，需要学习率预热（warm-up）。
- 前归一化（pre-norm，GPT-2、ViT 等）：``x = x + sublayer(norm(x))``，最后再加一个层归一化。
  残差路径是恒等映射，训练更稳，对预热的依赖小。

``norm_first`` 在两者间切换。层的参数名与 ``torch.nn.Transformer`` 相同（``self_attn``、
``multihead_attn``、``linear1``、``norm1``……），只有注意力的投影按 :class:`MultiHeadAttention`
存放，所以 ``convert_torch_attention_state`` 转换后可以严格地 ``load_state_dict``，测试据此对照。
"""

from __future__ import annotations

import copy
import math

import torch
import torch.nn.functional as F
from torch import nn

from dlzh.models.attention import (
    MultiHeadAttention,
    PositionalEncoding,
    causal_mask,
    padding_mask,
)


class TransformerEncoderLayer(nn.Module):
    """编码器层：多头自注意力 + 逐位置前馈网络，各带残差连接和层归一化。输入输出都是 ``(B, S, E)``。

    逐位置前馈网络 ``linear2(dropout(relu(linear1(x))))`` 对每个位置用同一个两层 MLP，
    位置之间的信息只通过注意力交换。
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        norm_first: bool = False,
        layer_norm_eps: float = 1e-5,
    ) -> None:
        super().__init__()
        self.norm_first = norm_first
        self.self_attn = MultiHeadAttention(d_model, nhead, dropout=dropout)
        self.linear1 = nn.Linear(d_model, dim_feedforward)
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.norm1 = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.norm2 = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.dropout = nn.Dropout(dropout)  # 前馈网络内部
        self.dropout1 = nn.Dropout(dropout)  # 子层输出，加回残差之前
        self.dropout2 = nn.Dropout(dropout)

    def _sa(self, x, attn_mask, key_padding_mask):
        y, _ = self.self_attn(x, x, x, key_padding_mask, need_weights=False, attn_mask=attn_mask)
        return self.dropout1(y)

    def _ff(self, x):
        return self.dropout2(self.linear2(self.dropout(F.relu(self.linear1(x)))))

    def forward(
        self,
        src: torch.Tensor,
        src_mask: torch.Tensor | None = None,
        src_key_padding_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        x = src  # (B, S, E)
        if self.norm_first:
            x = x + self._sa(self.norm1(x), src_mask, src_key_padding_mask)
            return x + self._ff(self.norm2(x))
        x = self.norm1(x + self._sa(x, src_mask, src_key_padding_mask))
        return self.norm2(x + self._ff(x))


class TransformerDecoderLayer(nn.Module):
    """解码器层：带掩码的自注意力、编码器-解码器注意力（查询来自解码器，键和值来自编码器输出
    ``memory``）、逐位置前馈网络。输入 ``tgt (B, T, E)``、``memory (B, S, E)``，输出 ``(B, T, E)``。
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        norm_first: bool = False,
        layer_norm_eps: float = 1e-5,
    ) -> None:
        super().__init__()
        self.norm_first = norm_first
        self.self_attn = MultiHeadAttention(d_model, nhead, dropout=dropout)
        self.multihead_attn = MultiHeadAttention(d_model, nhead, dropout=dropout)
        self.linear1 = nn.Linear(d_model, dim_feedforward)
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.norm1 = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.norm2 = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.norm3 = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.dropout = nn.Dropout(dropout)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)
        self.dropout3 = nn.Dropout(dropout)

    def _sa(self, x, attn_mask, key_padding_mask):
        y, _ = self.self_attn(x, x, x, key_padding_mask, need_weights=False, attn_mask=attn_mask)
        return self.dropout1(y)

    def _mha(self, x, memory, attn_mask, key_padding_mask):
        y, _ = self.multihead_attn(
            x, memory, memory, key_padding_mask, need_weights=False, attn_mask=attn_mask
        )
        return self.dropout2(y)

    def _ff(self, x):
        return self.dropout3(self.linear2(self.dropout(F.relu(self.linear1(x)))))

    def forward(
        self,
        tgt: torch.Tensor,
        memory: torch.Tensor,
        tgt_mask: torch.Tensor | None = None,
        memory_mask: torch.Tensor | None = None,
        tgt_key_padding_mask: torch.Tensor | None = None,
        memory_key_padding_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        x = tgt  # (B, T, E)
        if self.norm_first:
            x = x + self._sa(self.norm1(x), tgt_mask, tgt_key_padding_mask)
            x = x + self._mha(self.norm2(x), memory, memory_mask, memory_key_padding_mask)
            return x + self._ff(self.norm3(x))
        x = self.norm1(x + self._sa(x, tgt_mask, tgt_key_padding_mask))
        x = self.norm2(x + self._mha(x, memory, memory_mask, memory_key_padding_mask))
        return self.norm3(x + self._ff(x))


class TransformerEncoder(nn.Module):
    """``num_layers`` 个相同结构的编码器层，可选最后的层归一化 ``norm``。

    各层是 ``layer`` 的深拷贝：参数各自独立，但初始值相同（与 ``nn.TransformerEncoder`` 一样），
    :class:`Transformer` 随后用 Xavier 初始化把它们重新随机化。
    """

    def __init__(
        self, layer: TransformerEncoderLayer, num_layers: int, norm: nn.Module | None = None
    ):
        super().__init__()
        self.layers = nn.ModuleList(copy.deepcopy(layer) for _ in range(num_layers))
        self.norm = norm

    def forward(self, src, mask=None, src_key_padding_mask=None) -> torch.Tensor:
        x = src
        for layer in self.layers:
            x = layer(x, mask, src_key_padding_mask)  # (B, S, E)
        return x if self.norm is None else self.norm(x)


class TransformerDecoder(nn.Module):
    """``num_layers`` 个解码器层；每层都注意同一个编码器输出 ``memory``。"""

    def __init__(
        self, layer: TransformerDecoderLayer, num_layers: int, norm: nn.Module | None = None
    ):
        super().__init__()
        self.layers = nn.ModuleList(copy.deepcopy(layer) for _ in range(num_layers))
        self.norm = norm

    def forward(
        self,
        tgt,
        memory,
        tgt_mask=None,
        memory_mask=None,
        tgt_key_padding_mask=None,
        memory_key_padding_mask=None,
    ) -> torch.Tensor:
        x = tgt
        for layer in self.layers:
            x = layer(
                x, memory, tgt_mask, memory_mask, tgt_key_padding_mask, memory_key_padding_mask
            )  # (B, T, E)
        return x if self.norm is None else self.norm(x)


class Transformer(nn.Module):
    """编码器-解码器 Transformer，输入输出都是已嵌入的序列（与 ``nn.Transformer(batch_first=True)`` 相同）。

    ``final_norm``：两个堆叠的末尾是否各加一个层归一化。前归一化必须加（否则最后一层的输出
    没有归一化）；原论文的后归一化不需要（每层已以层归一化结束）。默认随 ``norm_first``；
    ``nn.Transformer`` 无论哪种都加，与它对照时传 ``final_norm=True``。
    """

    def __init__(
        self,
        d_model: int = 512,
        nhead: int = 8,
        num_encoder_layers: int = 6,
        num_decoder_layers: int = 6,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        norm_first: bool = False,
        final_norm: bool | None = None,
        layer_norm_eps: float = 1e-5,
    ) -> None:
        super().__init__()
        final_norm = norm_first if final_norm is None else final_norm
        args = (d_model, nhead, dim_feedforward, dropout, norm_first, layer_norm_eps)
        enc_norm = nn.LayerNorm(d_model, eps=layer_norm_eps) if final_norm else None
        dec_norm = nn.LayerNorm(d_model, eps=layer_norm_eps) if final_norm else None
        self.encoder = TransformerEncoder(
            TransformerEncoderLayer(*args), num_encoder_layers, enc_norm
        )
        self.decoder = TransformerDecoder(
            TransformerDecoderLayer(*args), num_decoder_layers, dec_norm
        )
        self.d_model, self.nhead = d_model, nhead
        for p in self.parameters():  # 与 nn.Transformer 相同：矩阵用 Xavier 均匀初始化
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)

    def forward(
        self,
        src: torch.Tensor,
        tgt: torch.Tensor,
        src_mask: torch.Tensor | None = None,
        tgt_mask: torch.Tensor | None = None,
        memory_mask: torch.Tensor | None = None,
        src_key_padding_mask: torch.Tensor | None = None,
        tgt_key_padding_mask: torch.Tensor | None = None,
        memory_key_padding_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        memory = self.encoder(src, src_mask, src_key_padding_mask)  # (B, S, E)
        return self.decoder(
            tgt, memory, tgt_mask, memory_mask, tgt_key_padding_mask, memory_key_padding_mask
        )  # (B, T, E)


class Seq2SeqTransformer(nn.Module):
    """完整的翻译模型：词嵌入（乘 ``sqrt(d_model)``）+ 正弦位置编码 + :class:`Transformer` + 输出层。

    乘 ``sqrt(d_model)`` 是因为嵌入按 ``1/sqrt(d_model)`` 的尺度初始化（这个尺度适合与输出层共用，
    见 ``tie_output``），放大后与取值在 ``[-1, 1]`` 的位置编码量级相当，两者都不会淹没对方。``forward`` 接受词元索引和
    填充词元的索引 ``pad_id``，自己构造填充掩码与因果掩码，返回对数几率 ``(B, T, tgt_vocab)``。
    """

    def __init__(
        self,
        src_vocab: int,
        tgt_vocab: int,
        pad_id: int,
        d_model: int = 512,
        nhead: int = 8,
        num_encoder_layers: int = 6,
        num_decoder_layers: int = 6,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        norm_first: bool = False,
        max_len: int = 1000,
        tie_output: bool = False,
    ) -> None:
        super().__init__()
        self.pad_id, self.d_model = pad_id, d_model
        self.src_embed = nn.Embedding(src_vocab, d_model)
        self.tgt_embed = nn.Embedding(tgt_vocab, d_model)
        self.pos = PositionalEncoding(d_model, dropout, max_len)
        self.transformer = Transformer(
            d_model, nhead, num_encoder_layers, num_decoder_layers, dim_feedforward, dropout,
            norm_first,
        )  # fmt: skip
        self.generator = nn.Linear(d_model, tgt_vocab)
        for emb in (self.src_embed, self.tgt_embed):
            nn.init.normal_(emb.weight, std=d_model**-0.5)
        if tie_output:  # 输出层与目标词嵌入共用一个矩阵（原论文的做法），少 V*d 个参数
            self.generator.weight = self.tgt_embed.weight

    def _embed(self, embedding: nn.Embedding, tokens: torch.Tensor) -> torch.Tensor:
        return self.pos(embedding(tokens) * math.sqrt(self.d_model))  # (B, T, E)

    def encode(
        self, src: torch.Tensor, src_valid_len: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """编码源序列，返回 ``(memory (B, S, E), 源的填充掩码 (B, S))``。

        填充位置由 ``src_valid_len (B,)`` 给出（d2l 的做法），没给时取 ``src == pad_id`` 的位置。
        """
        if src_valid_len is None:
            src_pad = src == self.pad_id  # (B, S)
        else:
            src_pad = padding_mask(src_valid_len.to(src.device), src.shape[1])  # (B, S)
        memory = self.transformer.encoder(self._embed(self.src_embed, src), None, src_pad)
        return memory, src_pad

    def decode(self, tgt: torch.Tensor, memory: torch.Tensor, src_pad: torch.Tensor):
        """给定目标序列的前缀 ``tgt (B, T)``，返回每个位置下一个词元的对数几率 ``(B, T, V)``。"""
        mask = causal_mask(tgt.shape[1], tgt.device)  # (T, T)
        y = self.transformer.decoder(
            self._embed(self.tgt_embed, tgt), memory, mask, None, tgt == self.pad_id, src_pad
        )  # (B, T, E)
        return self.generator(y)

    def forward(
        self, src: torch.Tensor, tgt_in: torch.Tensor, src_valid_len: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``src (B, S)``、``tgt_in (B, T)``（以 ``<bos>`` 开头的目标序列，即强制教学的输入）。

        调用方式 ``model(X, 解码器输入, X_valid_len)`` 与循环神经网络一章的编码器-解码器相同，
        所以可以用同一个训练步骤训练。
        """
        memory, src_pad = self.encode(src, src_valid_len)
        return self.decode(tgt_in, memory, src_pad)  # (B, T, tgt_vocab)

    @torch.no_grad()
    def init_state(
        self, src: torch.Tensor, src_valid_len: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """逐词解码的初始状态：``(编码器输出, 源的填充掩码, 已生成的前缀（空）)``。

        与 :meth:`step`、:meth:`select_state` 一起交给 :mod:`dlzh.text.decoding` 的贪心搜索和
        束搜索（与循环神经网络一章的解码器用同一套搜索代码）。调用前先 ``model.eval()``。
        """
        memory, src_pad = self.encode(src, src_valid_len)
        prefix = torch.empty(src.shape[0], 0, dtype=torch.long, device=src.device)  # (k, 0)
        return memory, src_pad, prefix

    @torch.no_grad()
    def step(self, tokens: torch.Tensor, state: tuple) -> tuple[torch.Tensor, tuple]:
        """走一步：把上一个词元 ``tokens (k,)`` 接到前缀后面，返回下一个词元的对数概率 ``(k, V)``（在 CPU 上）。

        解码器没有循环神经网络那样的隐状态，“状态”就是整个前缀：每步把前缀重新送进解码器。
        """
        memory, src_pad, prefix = state
        prefix = torch.cat([prefix, tokens.to(prefix.device).reshape(-1, 1)], dim=1)  # (k, t + 1)
        logits = self.decode(prefix, memory, src_pad)[:, -1]  # (k, V)
        return logits.log_softmax(dim=-1).cpu(), (memory, src_pad, prefix)

    @staticmethod
    def select_state(state: tuple, idx: torch.Tensor) -> tuple:
        """按下标挑出（可重复）状态的行，束搜索用它复制和重排候选。"""
        idx = idx.to(state[0].device)
        return tuple(t.index_select(0, idx) for t in state)


@torch.no_grad()
def greedy_decode(
    model: Seq2SeqTransformer,
    src: torch.Tensor,
    bos_id: int,
    eos_id: int,
    max_len: int,
    src_valid_len: torch.Tensor | None = None,
) -> torch.Tensor:
    """贪心解码：每步取对数几率最大的词元，直到全部序列生成 ``<eos>`` 或长度达到 ``max_len``。

    每步把整个前缀重新送进解码器（不缓存键值），简单且与训练时的计算完全相同；因果掩码保证
    前缀的输出不随后面的词元改变。返回 ``(B, <= max_len + 1)``，以 ``<bos>`` 开头；已结束的
    序列之后用 ``pad_id`` 填充。
    """
    was_training = model.training
    model.eval()
    memory, src_pad = model.encode(src, src_valid_len)
    out = torch.full((src.shape[0], 1), bos_id, dtype=torch.long, device=src.device)
    done = torch.zeros(src.shape[0], dtype=torch.bool, device=src.device)
    for _ in range(max_len):
        next_tok = model.decode(out, memory, src_pad)[:, -1].argmax(dim=-1)  # (B,)
        next_tok = next_tok.masked_fill(done, model.pad_id)
        out = torch.cat([out, next_tok.unsqueeze(1)], dim=1)  # (B, T + 1)
        done |= next_tok == eos_id
        if done.all():
            break
    model.train(was_training)
    return out


def transformer_lr(step: int, d_model: int, warmup_steps: int = 4000) -> float:
    """原论文的学习率：``d_model^-0.5 * min(step^-0.5, step * warmup^-1.5)``（``step`` 从 1 计）。

    前 ``warmup_steps`` 步线性增大，之后按 ``1/sqrt(step)`` 衰减，峰值在 ``step = warmup_steps``。
    后归一化的 Transformer 训练初期梯度大，没有预热容易发散。可放进
    ``torch.optim.lr_scheduler.LambdaLR``（优化器的 ``lr`` 设为 1，``LambdaLR`` 的步数从 0 计，
    所以传 ``step + 1``）。
    """
    step = max(step, 1)
    return d_model**-0.5 * min(step**-0.5, step * warmup_steps**-1.5)
