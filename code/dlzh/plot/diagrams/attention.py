"""注意力机制的示意图：查询、键、值与注意力汇聚，多头注意力，卷积/循环/自注意力的连接方式。

画法与 :mod:`dlzh.plot.diagrams.basic` 相同：返回 ``Figure``，白色背景，方框/箭头带 ``gid`` 供测试计数。
图里的数由真实的计算给出：注意力汇聚图的权重来自 :func:`dlzh.models.attention.nadaraya_watson`，
多头注意力图的头数、每个头的维数和各处的形状来自一个 :class:`dlzh.models.attention.MultiHeadAttention`
的一次前向计算。
"""

from __future__ import annotations

import torch
from matplotlib.figure import Figure

from dlzh.plot.diagrams.basic import _arrow, _box, _canvas, _circle, _keeps_rng

__all__ = ["attention_patterns", "attention_pooling", "multihead_attention"]


def _shape(shape) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ")"


@_keeps_rng
def attention_pooling(
    query: float = 2.0, keys: tuple[float, ...] = (0.5, 1.6, 2.3, 3.8), bandwidth: float = 1.0
) -> Figure:
    """注意力汇聚：查询与每个键算评分，softmax 变成权重，再对值加权求和。

    用高斯核的 Nadaraya-Watson 回归做一个算出来的例子：键是训练输入 ``x_i``，值是
    ``y_i = 2 sin x_i + x_i^0.8``，评分 ``a(q, k) = -(q - k)^2 / (2 h^2)``。
    """
    from dlzh.models.attention import nadaraya_watson

    k = torch.tensor(keys, dtype=torch.float64)
    v = 2 * torch.sin(k) + k**0.8
    out, weights = nadaraya_watson(k, v, torch.tensor([query], dtype=torch.float64), bandwidth)
    scores = -((query - k) ** 2) / (2 * bandwidth**2)
    m = len(keys)
    height = 1.3 * m + 1.6
    fig, ax = _canvas((-0.2, 17.6), (-height + 0.6, 1.4), scale=0.55)
    ys = [-1.3 * i for i in range(m)]
    mid = sum(ys) / m
    _box(ax, 1.0, mid, f"查询 q\n= {query:g}", kind="input", w=1.8, h=1.0)
    ax.text(4.0, 0.9, "键", ha="center", fontsize=10)
    ax.text(6.9, 0.9, "评分 a(q, k)", ha="center", fontsize=10)
    ax.text(10.6, 0.9, "注意力权重", ha="center", fontsize=10)
    ax.text(13.0, 0.9, "值", ha="center", fontsize=10)
    _box(ax, 8.75, mid, "soft\nmax", kind="act", w=0.9, h=1.3 * (m - 1) + 0.8)
    for i, y in enumerate(ys):
        _box(ax, 4.0, y, f"k{i + 1} = {keys[i]:g}", kind="conv", w=1.9)
        _box(ax, 6.9, y, f"{scores[i].item():.2f}", kind="op", w=1.5)
        _box(ax, 10.6, y, f"α{i + 1} = {weights[0, i].item():.2f}", kind="norm", w=2.0)
        _box(ax, 13.0, y, f"v{i + 1} = {v[i].item():.2f}", kind="fc", w=2.0)
        _arrow(ax, (1.9, mid), (6.15, y), connection="arc3,rad=0")
        _arrow(ax, (4.95, y), (6.15, y))
        _arrow(ax, (7.65, y), (8.3, y))
        _arrow(ax, (9.2, y), (9.6, y))
        _arrow(ax, (14.0, y), (15.1, mid))
    _box(ax, 16.1, mid, f"$\\sum_i \\alpha_i v_i$\n= {out.item():.2f}", kind="input", w=1.9, h=1.0)
    ax.text(
        0.0,
        -height + 0.85,
        f"高斯核：a(q, k) = −(q − k)²/2，权重和为 {weights.sum().item():.2f}；"
        "离查询最近的键得到最大的权重。",
        ha="left",
        va="center",
        fontsize=9.5,
    )
    return fig


@_keeps_rng
def multihead_attention(embed_dim: int = 16, num_heads: int = 4, seq_len: int = 5) -> Figure:
    """多头注意力：每个头各有一组线性投影和缩放点积注意力，各头的输出拼接后经输出层混合。

    头数、每个头的维数和形状来自一个真实的 :class:`~dlzh.models.attention.MultiHeadAttention`：
    对 ``(1, seq_len, embed_dim)`` 的输入做一次自注意力，读出各头的权重和输出的形状。
    """
    from dlzh.models.attention import MultiHeadAttention

    mha = MultiHeadAttention(embed_dim, num_heads).eval()
    x = torch.randn(1, seq_len, embed_dim)  # (B, L, E)
    mha.keep_weights = True
    with torch.no_grad():
        out, _ = mha(x, x, x)  # (B, L, E)
    per_head = mha.attention_weights  # (B, H, L, S)
    heads, d = per_head.shape[1], mha.head_dim
    shown = list(range(heads)) if heads <= 5 else [0, 1, None, heads - 1]
    rows = len(shown)
    top = 0.0
    ys = [top - 1.2 * i for i in range(rows)]
    mid = sum(ys) / rows
    fig, ax = _canvas((-0.2, 19.3), (ys[-1] - 1.7, 1.3), scale=0.55)
    ax.text(6.0, 0.9, "线性投影（每个头各一组）", ha="center", fontsize=10)
    ax.text(10.5, 0.9, "注意力（每个头独立）", ha="center", fontsize=10)
    _box(ax, 1.4, mid, f"查询、键、值\n{_shape(x.shape)}", kind="input", w=2.6, h=1.1)
    for y, h in zip(ys, shown, strict=True):
        if h is None:
            ax.text(6.0, y, "⋮", ha="center", va="center", fontsize=14)
            ax.text(10.5, y, "⋮", ha="center", va="center", fontsize=14)
            continue
        _box(ax, 6.0, y, f"头 {h + 1}：全连接层 {embed_dim}→{d}", kind="fc", w=3.6)
        _box(ax, 10.5, y, f"缩放点积注意力 → {_shape((1, seq_len, d))}", kind="act", w=4.2)
        _arrow(ax, (2.7, mid), (4.2, y), connection="arc3,rad=0")
        _arrow(ax, (7.8, y), (8.4, y))
        _arrow(ax, (12.6, y), (13.5, mid))
    _box(ax, 14.3, mid, f"拼接\n{heads}×{d}={heads * d}", kind="op", w=1.6, h=1.1)
    _box(ax, 16.6, mid, f"全连接层\n{heads * d}→{out.shape[-1]}", kind="fc", w=2.0, h=1.1)
    _arrow(ax, (15.1, mid), (15.6, mid))
    _arrow(ax, (17.6, mid), (18.1, mid))
    ax.text(18.2, mid, "输出", ha="left", va="center", fontsize=10)
    ax.text(
        0.0,
        ys[-1] - 1.2,
        f"{heads} 个头，每个头 {d} 维（{embed_dim} / {heads}）；"
        f"各头的注意力权重 {_shape(per_head.shape)}，输出 {_shape(out.shape)}。",
        ha="left",
        va="center",
        fontsize=9.5,
    )
    return fig


def attention_patterns(n: int = 5, kernel_size: int = 3) -> Figure:
    """卷积、循环和自注意力怎样把 ``n`` 个输入连到 ``n`` 个输出（每条箭头是一次直接的信息传递）。

    卷积：每个输出只连到 ``kernel_size`` 个相邻输入；循环：输出沿时间链式传递，
    第 1 个输入要走 ``n - 1`` 步才到最后一个输出；自注意力：每个输出直接连到所有输入。
    """
    half = kernel_size // 2
    gap, panel = 1.1, 1.1 * (n - 1) + 2.2
    fig, ax = _canvas((-0.6, 3 * panel - 0.4), (-0.9, 3.3), scale=0.6)
    titles = ["卷积神经网络", "循环神经网络", "自注意力"]
    counts = []
    for p, title in enumerate(titles):
        x0 = p * panel
        xs = [x0 + gap * i for i in range(n)]
        ax.text(x0 + gap * (n - 1) / 2, 2.9, title, ha="center", fontsize=10.5)
        for i, x in enumerate(xs):
            _circle(ax, x, 0.0, f"x{i + 1}", r=0.33, fontsize=9)
            _circle(ax, x, 2.0, f"y{i + 1}", r=0.33, fontsize=9)
        edges = []
        if p == 0:
            edges = [(j, i) for i in range(n) for j in range(i - half, i + half + 1) if 0 <= j < n]
        elif p == 2:
            edges = [(j, i) for i in range(n) for j in range(n)]
        else:
            edges = [(i, i) for i in range(n)]
            for i in range(n - 1):  # 隐状态沿时间传递
                _arrow(ax, (xs[i] + 0.33, 2.0), (xs[i + 1] - 0.33, 2.0), color="#cc0000")
        for j, i in edges:
            _arrow(ax, (xs[j], 0.33), (xs[i], 1.67), lw=0.8)
        counts.append(len(edges) + (n - 1 if p == 1 else 0))
        ax.text(
            x0 + gap * (n - 1) / 2,
            -0.7,
            f"{counts[-1]} 条连接",
            ha="center",
            va="center",
            fontsize=9.5,
        )
    return fig
