"""Transformer 编码器、解码器堆叠及其掩码的示意图。

画法与 :mod:`dlzh.plot.diagrams.basic` 相同：返回 ``Figure``，白色背景，方框/箭头/网格单元带
``gid`` 供测试计数。图里的数来自真实的模型和张量：层数、头数、宽度读自一个
:class:`dlzh.models.Seq2SeqTransformer`，输出形状来自它的一次前向计算；掩码的格子由
:func:`dlzh.models.causal_mask` 和 :func:`dlzh.models.padding_mask` 算出。
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch, Rectangle

from dlzh.plot.diagrams.basic import EDGE, _arrow, _blank, _box, _canvas, _circle, _keeps_rng
from dlzh.plot.style import ensure_style

__all__ = ["transformer_masks", "transformer_norm_placement", "transformer_stack"]

MASKED = "#bcbcbc"  # 被掩蔽（不许注意）的格子
ALLOWED = "#cfe2f3"  # 可以注意的格子
RESIDUAL = "#3d85c6"  # 残差连接
BOX_W = 3.6  # 层内方框的宽度


def _residual(ax: Axes, x_from: float, y_from: float, y_to: float, side: float) -> None:
    """从 ``y_from`` 处的主干向旁边引出、再回到 ``y_to`` 处“加法和层归一化”方框的残差连接。"""
    ax.plot([x_from, side, side], [y_from, y_from, y_to], color=RESIDUAL, lw=1.2, zorder=1)
    edge = x_from + (BOX_W / 2 if side > x_from else -BOX_W / 2)
    _arrow(ax, (side, y_to), (edge, y_to), color=RESIDUAL)


def _stack(
    ax: Axes,
    x: float,
    items: Sequence[tuple[str, str]],
    y0: float,
    step: float,
    side: float,
) -> list[float]:
    """一个编码器层或解码器层：子层与“加法和层归一化”交替，各带一条残差连接。"""
    ys = []
    for i, (text, kind) in enumerate(items):
        y = y0 + i * step
        _box(ax, x, y, text, kind=kind, w=BOX_W, h=0.56, fontsize=8.5)
        if i:
            _arrow(ax, (x, y - step + 0.28), (x, y - 0.28))
        ys.append(y)
    for i in range(0, len(items), 2):  # 子层 i 的输入（方框下方）加到第 i+1 个方框上
        _residual(ax, x, ys[i] - step / 2, ys[i + 1], side)
    return ys


@_keeps_rng
def transformer_stack(
    d_model: int = 32,
    nhead: int = 4,
    num_layers: int = 2,
    dim_feedforward: int = 64,
    src_len: int = 6,
    tgt_len: int = 5,
    vocab_size: int = 100,
) -> Figure:
    """编码器（左）与解码器（右）：各由 ``num_layers`` 个相同的层堆叠而成（图中“N×”的框）。

    编码器层：多头自注意力（源填充掩码）、逐位置前馈网络；解码器层：带因果掩码的多头自注意力、
    编码器-解码器注意力（查询来自解码器，键和值是编码器的输出）、逐位置前馈网络。每个子层都有
    残差连接（蓝线）和层归一化（这里画的是原论文的后归一化）。默认是 d2l 的小模型；标注的
    层数、头数和形状都读自按这些参数建出的 :class:`dlzh.models.Seq2SeqTransformer` 和它的一次前向计算。
    """
    from dlzh.models import Seq2SeqTransformer

    model = Seq2SeqTransformer(
        vocab_size, vocab_size, 0, d_model, nhead, num_layers, num_layers, dim_feedforward, 0.0
    ).eval()
    with torch.no_grad():
        src = torch.randint(1, vocab_size, (1, src_len))  # (1, S)
        tgt = torch.randint(1, vocab_size, (1, tgt_len))  # (1, T)
        memory, _ = model.encode(src)  # (1, S, d)
        logits = model(src, tgt)  # (1, T, V)
    n_enc = len(model.transformer.encoder.layers)
    n_dec = len(model.transformer.decoder.layers)
    heads = model.transformer.encoder.layers[0].self_attn.num_heads
    ffn = model.transformer.encoder.layers[0].linear1.out_features

    step = 0.85
    fig, ax = _canvas((-3.5, 11.6), (-1.9, 8.1), scale=0.56)
    xe, xd = 0.0, 8.0
    enc_items = [
        (f"多头自注意力（{heads} 头）", "conv"),
        ("加法和层归一化", "norm"),
        (f"逐位置前馈网络（{d_model}→{ffn}→{d_model}）", "fc"),
        ("加法和层归一化", "norm"),
    ]
    dec_items = [
        (f"带掩码的多头自注意力（{heads} 头）", "conv"),
        ("加法和层归一化", "norm"),
        ("编码器-解码器注意力", "conv"),
        ("加法和层归一化", "norm"),
        (f"逐位置前馈网络（{d_model}→{ffn}→{d_model}）", "fc"),
        ("加法和层归一化", "norm"),
    ]
    # 输入：词元 -> 嵌入（乘 sqrt(d)）+ 位置编码
    for x, label, n_tok in ((xe, "源序列", src_len), (xd, "目标序列（右移一位）", tgt_len)):
        ax.text(x, -0.95, f"{label}：{n_tok} 个词元", ha="center", va="center", fontsize=9)
        _box(ax, x, 0.0, f"嵌入 ×√{d_model} + 位置编码", kind="pool", w=BOX_W, h=0.56, fontsize=9)
        _arrow(ax, (x, -0.75), (x, -0.28))
    enc_y0, dec_y0 = 1.6, 1.6
    ye = _stack(ax, xe, enc_items, enc_y0, step, side=xe - 2.2)
    yd = _stack(ax, xd, dec_items, dec_y0, step, side=xd + 2.2)
    _arrow(ax, (xe, 0.28), (xe, ye[0] - 0.28))
    _arrow(ax, (xd, 0.28), (xd, yd[0] - 0.28))
    # N× 的虚线框
    for x, ys, n, where in ((xe, ye, n_enc, -1), (xd, yd, n_dec, 1)):
        top, bottom = ys[-1] + 0.55, ys[0] - 0.72
        frame = FancyBboxPatch(
            (x - 2.5, bottom),
            5.0,
            top - bottom,
            boxstyle="round,pad=0,rounding_size=0.2",
            facecolor="none",
            edgecolor="#666666",
            linestyle="--",
            linewidth=1.0,
            gid="dlzh-box",
        )
        ax.add_patch(frame)
        ax.text(
            x + where * 2.65,
            (top + bottom) / 2,
            f"{n}×",
            ha="left" if where > 0 else "right",
            va="center",
            fontsize=12,
        )
    # 编码器输出送给解码器每一层的编码器-解码器注意力（图中只画一条）
    top_e = ye[-1] + 0.28
    bend = top_e + 0.9
    ax.text(xe, bend + 0.15, f"编码器输出 {tuple(memory.shape)}", ha="center", fontsize=9)
    ax.plot([xe, xe, 4.0, 4.0], [top_e, bend, bend, yd[2]], color=EDGE, lw=1.2)
    _arrow(ax, (4.0, yd[2]), (xd - BOX_W / 2, yd[2]))
    ax.text(4.15, yd[2] + 0.12, "键、值", ha="left", va="bottom", fontsize=8.5)
    # 掩码说明：写在进入第一个子层的箭头旁
    for x, text in ((xe, "源填充掩码"), (xd, "因果掩码 + 目标填充掩码")):
        ax.text(x + 0.12, 0.58, text, ha="left", va="center", fontsize=8, color="#555555")
    # 输出层
    y_out = yd[-1] + 1.2
    _box(ax, xd, y_out, "全连接层（输出层）", kind="act", w=BOX_W, h=0.56, fontsize=9)
    _arrow(ax, (xd, yd[-1] + 0.28), (xd, y_out - 0.28))
    ax.text(
        xd,
        y_out + 0.5,
        f"对数几率 {tuple(logits.shape)}",
        ha="center",
        va="bottom",
        fontsize=9,
    )
    ax.text(xe, -1.6, "编码器", ha="center", va="center", fontsize=11)
    ax.text(xd, -1.6, "解码器", ha="center", va="center", fontsize=11)
    return fig


def _mask_grid(
    ax: Axes,
    blocked: torch.Tensor,
    title: str,
    row_label: str,
    col_label: str,
) -> None:
    """``blocked`` 为 ``True`` 的格子画成灰色（不许注意），其余浅蓝（可以注意）。"""
    rows, cols = blocked.shape
    _blank(ax, (-1.1, cols + 0.2), (-rows - 1.3, 1.3))
    for i in range(rows):
        for j in range(cols):
            ax.add_patch(
                Rectangle(
                    (j, -i - 1),
                    1,
                    1,
                    facecolor=MASKED if blocked[i, j] else ALLOWED,
                    edgecolor=EDGE,
                    linewidth=0.8,
                    gid="dlzh-cell",
                )
            )
        ax.text(-0.2, -i - 0.5, str(i + 1), ha="right", va="center", fontsize=8)
    for j in range(cols):
        ax.text(j + 0.5, 0.15, str(j + 1), ha="center", va="bottom", fontsize=8)
    ax.text(cols / 2, 0.75, col_label, ha="center", va="bottom", fontsize=8.5)
    ax.text(-0.95, -rows / 2, row_label, ha="center", va="center", fontsize=8.5, rotation=90)
    n_blocked = int(blocked.sum())
    ax.text(
        cols / 2,
        -rows - 0.45,
        f"{title}\n被掩蔽 {n_blocked}/{blocked.numel()} 格",
        ha="center",
        va="top",
        fontsize=9,
    )


def transformer_masks(num_steps: int = 5, valid_lens: Sequence[int] = (5, 3)) -> Figure:
    """Transformer 的三种掩码，灰色 = 不许注意（``True``），浅蓝 = 可以注意。

    左：因果掩码 :func:`dlzh.models.causal_mask` ``(T, T)``，对角线以上是“未来”的位置；
    中：一个批量的键填充掩码 :func:`dlzh.models.padding_mask`，由有效长度 ``valid_lens`` 算出；
    右：解码器自注意力对最后一个样本实际使用的掩码，两者取“或”（任一个不许就不许）。
    """
    from dlzh.models import causal_mask, padding_mask

    causal = causal_mask(num_steps)  # (T, T)
    pad = padding_mask(torch.tensor(list(valid_lens)), num_steps)  # (B, T)
    combined = causal | pad[-1][None, :]  # (T, T)：同一个样本的每个查询共用一行键填充掩码
    ensure_style()
    width = [num_steps + 1.3, num_steps + 1.3, num_steps + 1.3]
    fig, axes = plt.subplots(1, 3, figsize=(9.6, 3.6), gridspec_kw={"width_ratios": width})
    _mask_grid(axes[0], causal, "因果掩码", "查询位置", "键位置")
    _mask_grid(
        axes[1],
        pad,
        "填充掩码（有效长度 " + "、".join(map(str, valid_lens)) + "）",
        "样本",
        "键位置",
    )
    _mask_grid(axes[2], combined, f"两者合并（有效长度 {valid_lens[-1]}）", "查询位置", "键位置")
    fig.subplots_adjust(left=0.02, right=0.98, top=0.95, bottom=0.09, wspace=0.15)
    fig.text(0.5, 0.02, "灰色：不许注意（掩码为 True）；浅蓝：可以注意", ha="center", fontsize=9)
    return fig


def transformer_norm_placement() -> Figure:
    """后归一化（原论文）与前归一化（GPT-2、ViT 等）的一个子层，并排对照。

    后归一化：``x ← LayerNorm(x + F(x))``，残差路径上有层归一化；前归一化：
    ``x ← x + F(LayerNorm(x))``，残差路径是恒等映射，堆叠的末尾再加一个层归一化。
    """
    ensure_style()
    fig, axes = plt.subplots(1, 2, figsize=(7.0, 4.4))
    for ax, pre in zip(axes, (False, True), strict=True):
        _blank(ax, (-1.8, 2.9), (-0.5, 4.8))
        step = 1.1
        names = (
            [("输入 x", "input"), ("层归一化", "norm"), ("子层 F", "conv")]
            if pre
            else [("输入 x", "input"), ("子层 F", "conv")]
        )
        ys = []
        for i, (text, kind) in enumerate(names):
            y = i * step
            _box(ax, 0, y, text, kind=kind, w=2.6, h=0.6, fontsize=9.5)
            if i:
                _arrow(ax, (0, y - step + 0.3), (0, y - 0.3))
            ys.append(y)
        plus_y = ys[-1] + step
        _arrow(ax, (0, ys[-1] + 0.3), (0, plus_y - 0.28))
        _circle(ax, 0, plus_y, "+")
        # 残差连接：从输入引到加号
        side = 1.9
        ax.plot([1.3, side, side], [ys[0], ys[0], plus_y], color=RESIDUAL, lw=1.4)
        _arrow(ax, (side, plus_y), (0.28, plus_y), color=RESIDUAL)
        if pre:
            out_y = plus_y + step
            _arrow(ax, (0, plus_y + 0.28), (0, out_y - 0.3))
            _box(ax, 0, out_y, "输出", kind="input", w=2.6, h=0.6, fontsize=9.5)
            ax.text(side + 0.1, ys[1], "恒等映射", ha="left", va="center", fontsize=9)
            ax.set_title("前归一化：x + F(LN(x))\n堆叠末尾再加一个层归一化", fontsize=10)
        else:
            out_y = plus_y + step
            _arrow(ax, (0, plus_y + 0.28), (0, out_y - 0.3))
            _box(ax, 0, out_y, "层归一化", kind="norm", w=2.6, h=0.6, fontsize=9.5)
            _box(ax, 0, out_y + step, "输出", kind="input", w=2.6, h=0.6, fontsize=9.5)
            _arrow(ax, (0, out_y + 0.3), (0, out_y + step - 0.3))
            ax.set_title("后归一化（原论文）：LN(x + F(x))\n残差路径经过层归一化", fontsize=10)
    fig.subplots_adjust(left=0.02, right=0.98, top=0.86, bottom=0.02, wspace=0.1)
    return fig
