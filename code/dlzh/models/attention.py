"""注意力机制：掩蔽 softmax、加性注意力与缩放点积注意力、Nadaraya-Watson 核回归、多头注意力、
正弦位置编码。

注意力汇聚的一般形式是 ``f(q) = sum_i softmax(a(q, k_i)) v_i``：查询 ``q`` 与每个键 ``k_i``
算一个评分 ``a``，softmax 把评分变成非负、和为 1 的注意力权重，再对值 ``v_i`` 加权平均。
各种注意力只在评分函数上不同。本模块的层在视觉（ViT）和扩散模型部分会被复用，所以
:class:`MultiHeadAttention` 的接口和掩码约定与 ``torch.nn.MultiheadAttention``（``batch_first=True``）
相同，测试把同一组权重复制进两者，逐元素对照输出。

掩码约定（与 PyTorch 一致）：布尔掩码中 ``True`` 表示“不许注意”（填充位置、未来位置）；
浮点掩码直接加到评分上（``-inf`` 即不许注意）。只有 :func:`masked_softmax` 和
:func:`sequence_mask` 用相反的 ``True`` = “有效”，因为它们描述的是有效长度。
"""

from __future__ import annotations

import math
import re

import torch
import torch.nn.functional as F
from torch import nn


def sequence_mask(valid_lens: torch.Tensor, max_len: int) -> torch.Tensor:
    """有效长度 -> 布尔掩码：``mask[..., j] = j < valid_lens[...]``，形状 ``valid_lens.shape + (max_len,)``。

    ``True`` 表示有效位置。例如 ``valid_lens = [2, 3]``、``max_len = 4`` 得到
    ``[[T, T, F, F], [T, T, T, F]]``。
    """
    positions = torch.arange(max_len, device=valid_lens.device)  # (max_len,)
    return positions < valid_lens.unsqueeze(-1)  # (..., max_len)


def padding_mask(valid_lens: torch.Tensor, max_len: int) -> torch.Tensor:
    """``torch.nn`` 约定的键填充掩码 ``(B, max_len)``：``True`` 表示填充位置、不许注意。"""
    return ~sequence_mask(valid_lens, max_len)


def causal_mask(size: int, device: torch.device | str | None = None) -> torch.Tensor:
    """因果（后续位置）掩码 ``(size, size)``：``True`` 在对角线以上，第 t 个位置看不到 t 之后的位置。

    解码器训练时整句一起输入，靠它保证“预测第 t 个词元时只用到前 t 个词元”，与逐个生成时一致。
    与 ``nn.Transformer.generate_square_subsequent_mask`` 相同，只是用布尔值代替 ``-inf``。
    """
    return torch.ones(size, size, dtype=torch.bool, device=device).triu(diagonal=1)


def masked_softmax(
    scores: torch.Tensor,
    valid_lens: torch.Tensor | None = None,
    *,
    keep: torch.Tensor | None = None,
) -> torch.Tensor:
    """在最后一维上做 softmax，但只在有效位置上：被掩蔽的位置权重**恰好**为 0。

    ``scores`` 形状 ``(B, Q, K)``（或更多前导维）。``valid_lens`` 为 ``(B,)`` 时每个样本的所有
    查询共用一个有效长度；为 ``(B, Q)`` 时每个查询（每行）各有一个。``keep`` 是可与 ``scores``
    广播的布尔掩码，``True`` 表示保留，可与 ``valid_lens`` 同时使用。

    d2l 把被掩蔽的评分换成 ``-1e6``，权重只是很小而不是 0，且一整行都被掩蔽时得到均匀权重
    （注意到了填充）。这里先用本 dtype 的最小值代替评分（``exp`` 下溢为精确的 0，且不产生
    ``nan``），再把被掩蔽位置的权重置为 0：一整行都被掩蔽时，这一行的权重全为 0。
    """
    if valid_lens is not None:
        valid_lens = valid_lens.to(scores.device)
        if valid_lens.dim() == 1:  # (B,) -> (B, 1, ..., 1)，对所有查询广播
            valid_lens = valid_lens.reshape(-1, *([1] * (scores.dim() - 2)))
        lens_keep = sequence_mask(valid_lens, scores.shape[-1])  # (B, Q, K)
        keep = lens_keep if keep is None else keep & lens_keep
    if keep is None:
        return scores.softmax(dim=-1)
    keep = keep & ~torch.isneginf(scores)  # 加性浮点掩码给出的 -inf 也算被掩蔽
    filled = scores.masked_fill(~keep, torch.finfo(scores.dtype).min)
    return torch.where(keep, filled.softmax(dim=-1), 0.0)


class AdditiveAttention(nn.Module):
    """加性注意力：``a(q, k) = w_v^T tanh(W_q q + W_k k)``，查询和键可以有不同的长度（特征数）。

    这是 Bahdanau 注意力用的评分函数。把查询和键先映射到同一个 ``num_hiddens`` 维空间再相加，
    所以不要求二者维数相同；代价是每一对 (查询, 键) 都要算一次 tanh，比点积慢。
    """

    def __init__(self, key_size: int, query_size: int, num_hiddens: int, dropout: float = 0.0):
        super().__init__()
        self.W_k = nn.Linear(key_size, num_hiddens, bias=False)
        self.W_q = nn.Linear(query_size, num_hiddens, bias=False)
        self.w_v = nn.Linear(num_hiddens, 1, bias=False)
        self.dropout = nn.Dropout(dropout)
        self.attention_weights: torch.Tensor | None = None

    def forward(
        self,
        queries: torch.Tensor,
        keys: torch.Tensor,
        values: torch.Tensor,
        valid_lens: torch.Tensor | None = None,
    ) -> torch.Tensor:
        q, k = self.W_q(queries), self.W_k(keys)  # (B, Q, h), (B, K, h)
        features = torch.tanh(q.unsqueeze(2) + k.unsqueeze(1))  # 广播成 (B, Q, K, h)
        scores = self.w_v(features).squeeze(-1)  # (B, Q, K)
        self.attention_weights = masked_softmax(scores, valid_lens)  # 留给页面画热图
        return self.dropout(self.attention_weights) @ values  # (B, Q, dv)


class DotProductAttention(nn.Module):
    """缩放点积注意力：``a(q, k) = q^T k / sqrt(d)``，要求查询和键的长度都是 ``d``。

    若 q、k 的分量独立、均值 0、方差 1，点积的方差是 ``d``；除以 ``sqrt(d)`` 让评分的方差保持
    为 1，否则 d 大时 softmax 饱和成近似独热，梯度几乎为 0。
    """

    def __init__(self, dropout: float = 0.0):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.attention_weights: torch.Tensor | None = None

    def forward(
        self,
        queries: torch.Tensor,
        keys: torch.Tensor,
        values: torch.Tensor,
        valid_lens: torch.Tensor | None = None,
    ) -> torch.Tensor:
        d = queries.shape[-1]
        scores = queries @ keys.transpose(-2, -1) / math.sqrt(d)  # (B, Q, K)
        self.attention_weights = masked_softmax(scores, valid_lens)
        return self.dropout(self.attention_weights) @ values  # (B, Q, dv)


def nadaraya_watson(
    x_train: torch.Tensor, y_train: torch.Tensor, x_query: torch.Tensor, bandwidth: float = 1.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Nadaraya-Watson 核回归（高斯核）：``f(x) = sum_i softmax(-(x - x_i)^2 / (2 h^2)) y_i``。

    它（1964 年）可以看作一种注意力汇聚：查询是 ``x``，键是训练输入 ``x_i``，值是训练输出 ``y_i``。
    它没有要学习的参数（非参数），带宽 ``h`` 越小，权重越集中在最近的训练样本上。
    返回 ``(预测 (n_query,), 注意力权重 (n_query, n_train))``。
    """
    diff = x_query.reshape(-1, 1) - x_train.reshape(1, -1)  # (n_query, n_train)
    weights = (-(diff**2) / (2 * bandwidth**2)).softmax(dim=-1)  # (n_query, n_train)
    return weights @ y_train.reshape(-1), weights


class NadarayaWatsonRegression(nn.Module):
    """带参数的 Nadaraya-Watson 核回归：评分 ``-((x - x_i) w)^2 / 2``，``w`` 可学习。

    ``w`` 就是 ``1 / h``：学习 ``w`` 等于从数据中选带宽。前向时每个查询对所有键（训练输入）
    做注意力汇聚；训练时 d2l 让每个训练样本只注意**其他**训练样本，否则它会把全部权重放在
    自己身上（完全拟合噪声），这由调用者用 ``keys``/``values`` 去掉自身来实现。
    """

    def __init__(self, w: float = 1.0) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.tensor(float(w)))
        self.attention_weights: torch.Tensor | None = None

    def forward(self, queries: torch.Tensor, keys: torch.Tensor, values: torch.Tensor):
        # queries (n,), keys/values (n, m)（每个查询一组键值）或 (m,)（所有查询共用）
        diff = (queries.unsqueeze(-1) - keys) * self.w  # (n, m)
        self.attention_weights = (-(diff**2) / 2).softmax(dim=-1)  # (n, m)
        return (self.attention_weights * values).sum(dim=-1)  # (n,)


class MultiHeadAttention(nn.Module):
    """多头注意力，接口和掩码约定与 ``nn.MultiheadAttention(batch_first=True)`` 相同。

    把查询、键、值各用一个线性层投影到 ``embed_dim`` 维，再切成 ``num_heads`` 个
    ``head_dim = embed_dim / num_heads`` 维的“头”，每个头独立做缩放点积注意力：不同的头可以
    学习关注不同的东西（相邻词元、语法关系……），总计算量与一个 ``embed_dim`` 维的头相当。
    各头的输出拼接后经 ``out_proj`` 线性层混合。

    与 PyTorch 的区别只在参数的存放方式：PyTorch 把三个输入投影打包成一个
    ``in_proj_weight (3E, E)``，这里是三个独立的 ``nn.Linear``（``q_proj``/``k_proj``/``v_proj``），
    读起来更直接。:func:`convert_torch_attention_state` 在两种存放方式之间转换。

    ``forward`` 返回 ``(输出 (B, L, E), 注意力权重)``；权重是 dropout 之前的，``need_weights=False``
    时为 ``None``，``average_attn_weights=True`` 时在头上平均为 ``(B, L, S)``，否则 ``(B, H, L, S)``。
    一整行都被掩蔽的查询得到全 0 的权重和输出（PyTorch 此时给出 ``nan``）。

    ``fused=True``（默认）时，不需要权重的调用交给 ``F.scaled_dot_product_attention``：结果相同
    （测试对照了两条路径），但更快、更省显存；``fused=False`` 时总走上面逐步写出的那条路径。

    Transformer 的层调用它时不要权重（``need_weights=False``）；要画热图时，把 ``keep_weights``
    设为 ``True``（或用 :func:`keep_attention_weights`），每次前向后 ``attention_weights`` 保存
    各头的权重 ``(B, H, L, S)``（已 detach）。
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        kdim: int | None = None,
        vdim: int | None = None,
        fused: bool = True,
    ) -> None:
        super().__init__()
        if embed_dim % num_heads != 0:
            raise ValueError(
                f"embed_dim={embed_dim} 不能被 num_heads={num_heads} 整除；请让每个头的维数为整数 / "
                "embed_dim must be divisible by num_heads"
            )
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.head_dim = embed_dim // num_heads
        self.q_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.k_proj = nn.Linear(kdim or embed_dim, embed_dim, bias=bias)
        self.v_proj = nn.Linear(vdim or embed_dim, embed_dim, bias=bias)
        self.out_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.dropout = nn.Dropout(dropout)
        self.fused = fused
        self.keep_weights = False
        self.attention_weights: torch.Tensor | None = None

    def _split_heads(self, x: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape
        return x.reshape(b, t, self.num_heads, self.head_dim).transpose(1, 2)  # (B, H, T, d)

    def forward(
        self,
        query: torch.Tensor,
        key: torch.Tensor,
        value: torch.Tensor,
        key_padding_mask: torch.Tensor | None = None,
        need_weights: bool = True,
        attn_mask: torch.Tensor | None = None,
        average_attn_weights: bool = True,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``query (B, L, E)``，``key (B, S, kdim)``，``value (B, S, vdim)``。

        ``key_padding_mask (B, S)``：``True``（或 ``-inf``）的键是填充，任何查询都不注意它。
        ``attn_mask (L, S)`` 或 ``(B * H, L, S)``：``True``（或 ``-inf``）表示该查询不许注意该键，
        例如 :func:`causal_mask`。
        """
        b, seq_q, seq_k = query.shape[0], query.shape[1], key.shape[1]
        q = self._split_heads(self.q_proj(query))  # (B, H, L, d)
        k = self._split_heads(self.k_proj(key))  # (B, H, S, d)
        v = self._split_heads(self.v_proj(value))  # (B, H, S, d)
        keep, bias = self._merge_masks(key_padding_mask, attn_mask, b, seq_q, seq_k, q.dtype)

        if self.fused and not need_weights and not self.keep_weights:
            # 不要权重时用 PyTorch 的融合实现（GPU 上是 FlashAttention 等内核）：算的是同一个式子，
            # 但不在内存里展开 (B, H, L, S) 的权重矩阵。它的布尔掩码 True 表示“可以注意”。
            mask = (
                keep
                if bias is None
                else bias
                if keep is None
                else bias.masked_fill(~keep, -math.inf)
            )
            out = F.scaled_dot_product_attention(
                q, k, v, attn_mask=mask, dropout_p=self.dropout.p if self.training else 0.0
            )  # (B, H, L, d)
            weights = None
        else:
            scores = q @ k.transpose(-2, -1) / math.sqrt(self.head_dim)  # (B, H, L, S)
            if bias is not None:
                scores = scores + bias
                if (
                    keep is None
                ):  # 只有浮点掩码：让 -inf 也按掩蔽处理，整行被掩蔽时得到 0 而不是 nan
                    keep = torch.ones((), dtype=torch.bool, device=scores.device)
            weights = masked_softmax(scores, keep=keep)  # (B, H, L, S)
            if self.keep_weights:
                self.attention_weights = weights.detach()
            out = self.dropout(weights) @ v  # (B, H, L, d)

        out = out.transpose(1, 2).reshape(b, seq_q, self.embed_dim)  # 拼接各头 (B, L, E)
        out = self.out_proj(out)  # (B, L, E)
        if not need_weights or weights is None:
            return out, None
        return out, weights.mean(dim=1) if average_attn_weights else weights

    def _merge_masks(
        self,
        key_padding_mask: torch.Tensor | None,
        attn_mask: torch.Tensor | None,
        b: int,
        seq_q: int,
        seq_k: int,
        dtype: torch.dtype,
    ) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """把两种掩码合并成可与 ``(B, H, L, S)`` 广播的 (布尔“保留”掩码, 加性浮点掩码)。"""
        attn_shape = (1, 1, seq_q, seq_k)
        if attn_mask is not None and attn_mask.dim() == 3:  # (B * H, L, S)，批量在外、头在内
            attn_shape = (b, self.num_heads, seq_q, seq_k)
        keep: torch.Tensor | None = None
        bias: torch.Tensor | None = None
        for mask, shape in ((key_padding_mask, (b, 1, 1, seq_k)), (attn_mask, attn_shape)):
            if mask is None:
                continue
            if mask.dtype == torch.bool:
                mask_keep = ~mask.reshape(shape)
                keep = mask_keep if keep is None else keep & mask_keep
            else:
                additive = mask.to(dtype).reshape(shape)
                bias = additive if bias is None else bias + additive
        return keep, bias


def keep_attention_weights(model: nn.Module, keep: bool = True) -> list[MultiHeadAttention]:
    """让 ``model`` 中所有 :class:`MultiHeadAttention` 在前向时保存注意力权重（或停止保存）。

    返回这些层（按 ``model.modules()`` 的顺序，即定义的顺序），前向之后读各层的
    ``attention_weights``。训练时不要打开：每层多存一份 ``(B, H, L, S)`` 的张量。
    """
    layers = [m for m in model.modules() if isinstance(m, MultiHeadAttention)]
    for layer in layers:
        layer.keep_weights = keep
        if not keep:
            layer.attention_weights = None
    return layers


def convert_torch_attention_state(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """把含有 ``nn.MultiheadAttention`` 的 ``state_dict`` 转成 :class:`MultiHeadAttention` 的存放方式。

    ``<前缀>in_proj_weight (3E, E)`` 按行三等分为 ``q_proj``/``k_proj``/``v_proj`` 的权重，
    ``in_proj_bias`` 同理；``kdim``/``vdim`` 与 ``embed_dim`` 不同时 PyTorch 存的是
    ``q_proj_weight`` 等三个矩阵。其他键原样保留，所以可以直接转换整个模型的 ``state_dict``。
    """
    converted: dict[str, torch.Tensor] = {}
    for name, tensor in state.items():
        if m := re.fullmatch(r"(.*)in_proj_(weight|bias)", name):
            prefix, kind = m.groups()
            for part, chunk in zip(("q", "k", "v"), tensor.chunk(3, dim=0), strict=True):
                converted[f"{prefix}{part}_proj.{kind}"] = chunk
        elif m := re.fullmatch(r"(.*)([qkv])_proj_weight", name):
            converted[f"{m.group(1)}{m.group(2)}_proj.weight"] = tensor
        else:
            converted[name] = tensor
    return converted


def sinusoidal_positions(
    max_len: int, num_hiddens: int, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """正弦位置编码矩阵 ``P (max_len, num_hiddens)``。

    ``P[t, 2i] = sin(t / 10000^(2i/d))``，``P[t, 2i+1] = cos(t / 10000^(2i/d))``。每一对列是一个
    频率不同的“时钟”：低维频率高、变化快，高维频率低、变化慢，像二进制计数的各位。
    """
    if num_hiddens % 2 != 0:
        raise ValueError(
            f"num_hiddens={num_hiddens} 必须是偶数：正弦和余弦成对出现 / "
            "num_hiddens must be even (sine and cosine come in pairs)"
        )
    t = torch.arange(max_len, dtype=torch.float64).unsqueeze(1)  # (max_len, 1)
    freqs = 10000.0 ** (-torch.arange(0, num_hiddens, 2, dtype=torch.float64) / num_hiddens)
    angles = t * freqs  # (max_len, d/2)
    pe = torch.empty(max_len, num_hiddens, dtype=torch.float64)
    pe[:, 0::2], pe[:, 1::2] = torch.sin(angles), torch.cos(angles)
    return pe.to(dtype)  # 用 float64 计算再转换：t 很大时角度的舍入误差更小


def position_shift_matrix(offset: int, num_hiddens: int) -> torch.Tensor:
    """相对位置的线性映射 ``M (d, d)``：对所有位置 t，``P[t + offset] = P[t] @ M.T``。

    对频率 ``w`` 的一对 ``(sin wt, cos wt)``，和角公式给出
    ``sin w(t+k) = cos(wk) sin wt + sin(wk) cos wt``、``cos w(t+k) = -sin(wk) sin wt + cos(wk) cos wt``：
    一个只依赖偏移 ``k`` 而不依赖 ``t`` 的旋转。所以 ``M`` 是由 2x2 旋转块组成的块对角矩阵，
    模型可以用线性变换表达“往后 k 个位置”，这是选择正弦编码的理由之一。
    """
    freqs = 10000.0 ** (-torch.arange(0, num_hiddens, 2, dtype=torch.float64) / num_hiddens)
    c, s = torch.cos(offset * freqs), torch.sin(offset * freqs)  # (d/2,)
    m = torch.zeros(num_hiddens, num_hiddens, dtype=torch.float64)
    idx = torch.arange(0, num_hiddens, 2)
    m[idx, idx], m[idx, idx + 1] = c, s  # 新的 sin 分量
    m[idx + 1, idx], m[idx + 1, idx + 1] = -s, c  # 新的 cos 分量
    return m


class PositionalEncoding(nn.Module):
    """把正弦位置编码加到输入上：``dropout(X + P[:T])``，``X (B, T, d)``。

    自注意力对输入的顺序不敏感（打乱词元，输出只是相应地打乱），位置信息要另外加进去。
    ``P`` 存为不参与训练、也不进 ``state_dict`` 的缓冲区：它由公式决定，不必保存。
    """

    def __init__(self, num_hiddens: int, dropout: float = 0.0, max_len: int = 1000) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.register_buffer("P", sinusoidal_positions(max_len, num_hiddens), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] > self.P.shape[0]:
            raise ValueError(
                f"序列长度 {x.shape[1]} 超过了位置编码的 max_len={self.P.shape[0]}；请增大 max_len / "
                "sequence longer than max_len of the positional encoding"
            )
        return self.dropout(x + self.P[: x.shape[1]].to(x.dtype))  # (B, T, d)
