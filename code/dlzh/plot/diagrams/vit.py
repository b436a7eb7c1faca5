"""Vision Transformer 的示意图：图像分块、类别词元与位置嵌入、前归一化的编码器块。

画法与 :mod:`dlzh.plot.diagrams.basic` 相同：返回 ``Figure``，白色背景，方框/箭头带 ``gid`` 供测试计数。
图里的数（块数、序列长度、每一步的形状）都来自真实的 :class:`dlzh.models.vit.VisionTransformer`
的一次前向计算（用前向钩子记录形状），模型的配置一改，图随之改变。
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from dlzh.models.vit import VisionTransformer, create_vit
from dlzh.plot.diagrams.basic import EDGE, _arrow, _blank, _box, _canvas, _circle, _keeps_rng
from dlzh.plot.style import ensure_style

__all__ = ["vit_architecture", "vit_patches"]

PATCH_COLORS = ("#cfe2f3", "#fce5cd", "#d9ead3", "#ead1dc", "#fff2cc", "#d9d2e9")


def vit_patches(image: torch.Tensor, patch_size: int, *, max_shown: int = 8) -> Figure:
    """左：一张 ``(C, H, W)`` 的图像按 ``patch_size`` 切成网格并编号；右：按行优先的顺序排成词元序列。

    块的顺序与 :class:`dlzh.models.vit.PatchEmbedding` 的 ``flatten(2)`` 相同（先行后列），
    右边的每个小图就是那个块的像素，最前面是不对应任何块的类别词元。
    """
    if image.dim() != 3:
        raise ValueError(
            f"image 应为 (C, H, W)，收到形状 {tuple(image.shape)} / expected (C, H, W)"
        )
    c, h, w = image.shape
    if h % patch_size or w % patch_size:
        raise ValueError(
            f"图像 {h}×{w} 不能被块大小 {patch_size} 整除 / image size not divisible by patch size"
        )
    rows, cols = h // patch_size, w // patch_size
    n = rows * cols
    pixels = image.permute(1, 2, 0).squeeze(-1).clamp(0, 1).numpy()
    cmap = "gray" if c == 1 else None
    ensure_style()
    shown = min(n, max_shown)
    fig = plt.figure(figsize=(3.2 + 0.95 * (shown + 2), 3.4))
    ax_img = fig.add_axes((0.02, 0.08, 3.0 / (3.2 + 0.95 * (shown + 2)), 0.78))
    ax_img.imshow(pixels, cmap=cmap, extent=(0, w, h, 0), vmin=0, vmax=1)
    ax_img.set_xticks([])
    ax_img.set_yticks([])
    for i in range(rows):
        for j in range(cols):
            ax_img.add_patch(
                Rectangle(
                    (j * patch_size, i * patch_size),
                    patch_size,
                    patch_size,
                    fill=False,
                    edgecolor="#e69138",
                    linewidth=1.4,
                    gid="dlzh-cell",
                )
            )
            ax_img.text(
                j * patch_size + 1, i * patch_size + 1, str(i * cols + j + 1),
                color="#e69138", fontsize=7, ha="left", va="top",
            )  # fmt: skip
    ax_img.set_title(
        f"{h}×{w} 的图像，{patch_size}×{patch_size} 的块：{rows}×{cols} = {n} 块", fontsize=9.5
    )
    # 右侧：序列。每个位置一个小坐标轴显示块的像素；类别词元画成方框。
    span = 0.95 * (shown + 2)  # 序列部分的数据坐标宽度：类别词元、各块、省略号
    left0 = 3.3 / (3.2 + span)
    ax_seq = fig.add_axes((left0, 0.0, 1 - left0, 1.0))
    _blank(ax_seq, (0, span), (0, 3.4))
    ax_seq.set_aspect("auto")
    _box(ax_seq, 0.45, 1.9, "类别\n词元", kind="fc", w=0.8, h=0.8, fontsize=8.5)
    ax_seq.text(0.45, 1.25, "0", ha="center", va="top", fontsize=8.5)
    order = [*range(shown - 1), n - 1] if n > shown else list(range(n))
    for k, idx in enumerate(order):
        i, j = divmod(idx, cols)
        patch = pixels[i * patch_size : (i + 1) * patch_size, j * patch_size : (j + 1) * patch_size]
        x = 0.95 * (k + 1) + (0.95 if n > shown and k == shown - 1 else 0.0)
        frac = (1 - left0) / span  # 数据坐标 -> 画布比例
        ax = fig.add_axes((left0 + (x + 0.05) * frac, 1.5 / 3.4, 0.8 * frac, 0.8 / 3.4))
        ax.imshow(patch, cmap=cmap, vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_edgecolor(PATCH_COLORS[idx % len(PATCH_COLORS)])
            spine.set_linewidth(2)
        ax_seq.text(x + 0.45, 1.25, str(idx + 1), ha="center", va="top", fontsize=8.5)
    if n > shown:
        ax_seq.text(0.95 * shown + 0.45, 1.9, "…", ha="center", va="center", fontsize=14)
    ax_seq.text(
        0.95 * (shown + 1) / 2 + 0.2, 0.55,
        f"序列长度 1 + {n} = {n + 1}：每块展平成 {c}×{patch_size}×{patch_size} = "
        f"{c * patch_size * patch_size} 维，再线性投影",
        ha="center", va="center", fontsize=9,
    )  # fmt: skip
    ax_seq.text(
        0.95 * (shown + 1) / 2 + 0.2, 3.0, "按行优先排成词元序列", ha="center", fontsize=9.5
    )
    return fig


def _trace_shapes(model: VisionTransformer, x: torch.Tensor) -> dict[str, tuple[int, ...]]:
    """用前向钩子记录各部分的输出形状（去掉批量维）。"""
    shapes: dict[str, tuple[int, ...]] = {}
    hooks = [
        model.patch_embed.register_forward_hook(
            lambda m, i, o: shapes.__setitem__("patches", tuple(o.shape[1:]))
        ),
        model.blocks.register_forward_hook(
            lambda m, i, o: shapes.__setitem__("blocks", tuple(o.shape[1:]))
        ),
        model.head.register_forward_hook(
            lambda m, i, o: shapes.__setitem__("head", tuple(o.shape[1:]))
        ),
    ]
    try:
        with torch.no_grad():
            model.eval()(x)
    finally:
        for hook in hooks:
            hook.remove()
    return shapes


@_keeps_rng
def vit_architecture(model: VisionTransformer | None = None, in_channels: int = 1) -> Figure:
    """ViT 的整体结构（自下而上）：切块与线性投影 → 拼上类别词元、加位置嵌入 → L 个前归一化的
    编码器块 → 层归一化 → 类别词元的输出经全连接层分类。右侧的形状来自一次真实的前向计算。

    默认画 d2l 在 Fashion-MNIST 上用的配置（96×96 单通道输入，块 16，512 维，8 个头，2 块）。
    """
    if model is None:
        model = create_vit(96, 16, 2, 8, 512, 2048, num_classes=10, in_channels=in_channels)
    conv = model.patch_embed.proj
    p, c = conv.kernel_size[0], conv.in_channels
    size = model.image_size
    shapes = _trace_shapes(model, torch.zeros(1, c, size, size))
    n, d = shapes["patches"]
    seq = shapes["blocks"][0]
    block = model.blocks[0]
    heads = block.attn.num_heads
    mlp_dim = block.mlp[0].out_features
    num_layers = len(model.blocks)

    fig, ax = _canvas((-4.6, 5.4), (-0.6, 10.6), scale=0.56)
    w = 5.0
    rows = [
        (0.0, f"输入图像 {c}×{size}×{size}", "input", f"{c}×{size}×{size}"),
        (1.1, f"切块 + 线性投影（{p}×{p} 卷积，步幅 {p}）", "conv", f"{n}×{d}"),
    ]
    for y, text, kind, shape in rows:
        _box(ax, 0, y, text, kind=kind, w=w)
        ax.text(w / 2 + 0.75, y, shape, ha="left", va="center", fontsize=8.5, color="#555555")
    _arrow(ax, (0, 0.31), (0, 1.1 - 0.31))
    # 词元行：类别词元 + 前几个块词元，上面一行是位置嵌入。
    y_tok = 2.35
    labels = ["*", "1", "2", "3", "…", str(n)]
    for k, lab in enumerate(labels):
        x = -2.25 + 0.9 * k
        _box(ax, x, y_tok, lab, kind="fc" if k == 0 else "conv", w=0.7, h=0.55, fontsize=9)
        _box(ax, x, y_tok + 0.85, str(k if k < 4 else (n if k == 5 else "…")), kind="norm",
             w=0.7, h=0.5, fontsize=8.5)  # fmt: skip
        if lab != "…":
            ax.text(x, y_tok + 0.42, "+", ha="center", va="center", fontsize=10)
    _arrow(ax, (0, 1.1 + 0.31), (0, y_tok - 0.3))
    ax.text(-3.0, y_tok, "类别词元 *", ha="right", va="center", fontsize=8.5)
    ax.text(-3.0, y_tok + 0.85, "位置嵌入", ha="right", va="center", fontsize=8.5)
    ax.text(w / 2 + 0.75, y_tok + 0.4, f"{seq}×{d}\n（1 + {n} 个词元）", ha="left", va="center",
            fontsize=8.5, color="#555555")  # fmt: skip
    # 编码器块：层归一化 → 多头注意力 → ⊕ → 层归一化 → MLP → ⊕，两条残差连接画在右侧。
    y0 = 4.05
    frame = Rectangle((-3.0, y0 - 0.45), 6.0, 5.05, fill=False, edgecolor=EDGE, linestyle="--",
                      linewidth=1.1, gid="dlzh-box")  # fmt: skip
    ax.add_patch(frame)
    ax.text(-3.15, y0 + 2.1, f"× {num_layers}", ha="right", va="center", fontsize=11)
    _arrow(ax, (0, y_tok + 1.1), (0, y0 - 0.31 + 0.05))
    inner = [
        (y0, "层归一化", "norm"),
        (y0 + 0.9, f"多头注意力（{heads} 个头）", "conv"),
        (y0 + 2.25, "层归一化", "norm"),
        (y0 + 3.15, f"MLP：{d} → {mlp_dim} → {d}，GELU", "fc"),
    ]
    for y, text, kind in inner:
        _box(ax, 0, y, text, kind=kind, w=3.6, h=0.55, fontsize=8.8)
    plus = [y0 + 1.6, y0 + 3.95]
    _arrow(ax, (0, y0 + 0.28), (0, y0 + 0.9 - 0.28))
    _arrow(ax, (0, y0 + 0.9 + 0.28), (0, plus[0] - 0.25))
    _arrow(ax, (0, plus[0] + 0.25), (0, y0 + 2.25 - 0.28))
    _arrow(ax, (0, y0 + 2.25 + 0.28), (0, y0 + 3.15 - 0.28))
    _arrow(ax, (0, y0 + 3.15 + 0.28), (0, plus[1] - 0.25))
    for y_from, y_plus in ((y0 - 0.4, plus[0]), (plus[0] + 0.3, plus[1])):
        side = 2.4
        ax.plot([0, side, side], [y_from, y_from, y_plus], color=EDGE, lw=1.2)
        _arrow(ax, (side, y_plus), (0.25, y_plus))
        _circle(ax, 0, y_plus, "+", r=0.25)
    ax.text(w / 2 + 0.75, y0 + 2.1, f"{seq}×{d}\n形状不变", ha="left", va="center", fontsize=8.5,
            color="#555555")  # fmt: skip
    y_ln = y0 + 5.1
    _arrow(ax, (0, plus[1] + 0.25), (0, y_ln - 0.3))
    _box(ax, 0, y_ln, "层归一化，取类别词元的输出", kind="norm", w=w)
    ax.text(w / 2 + 0.75, y_ln, f"{d}", ha="left", va="center", fontsize=8.5, color="#555555")
    y_head = y_ln + 1.0
    _arrow(ax, (0, y_ln + 0.31), (0, y_head - 0.31))
    _box(ax, 0, y_head, f"全连接层，{shapes['head'][0]} 个类别", kind="fc", w=w)
    ax.text(w / 2 + 0.75, y_head, f"{shapes['head'][0]}", ha="left", va="center", fontsize=8.5,
            color="#555555")  # fmt: skip
    ax.text(w / 2 + 0.75, y_head + 0.6, "输出形状", ha="left", va="center", fontsize=8.5,
            color="#555555")  # fmt: skip
    return fig
