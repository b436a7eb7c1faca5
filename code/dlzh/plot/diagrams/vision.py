"""计算机视觉的其他示意图：转置卷积对每个输入元素的“散布”、全卷积网络（FCN）。

画法与 :mod:`dlzh.plot.diagrams.basic` 相同：返回 ``Figure``，白色背景，方框/箭头带 ``gid`` 供测试计数。
"""

from __future__ import annotations

import torch
from matplotlib.figure import Figure

from dlzh.plot.diagrams.basic import _arrow, _box, _canvas, _grid, _keeps_rng, _shape_text

__all__ = ["fcn", "transposed_conv_scatter"]


def transposed_conv_scatter(
    X: tuple[tuple[float, ...], ...] = ((0.0, 1.0), (2.0, 3.0)),
    K: tuple[tuple[float, ...], ...] = ((0.0, 1.0), (2.0, 3.0)),
    stride: int = 1,
) -> Figure:
    """转置卷积：输入的每个元素乘以整个卷积核，放到输出的对应位置（蓝色），各项相加得到输出。

    每一项和输出都由 :func:`dlzh.vision.transposed.scatter_contributions` 与
    :func:`dlzh.vision.transposed.trans_conv` 算出（d2l 的 2×2 例子）。
    """
    from dlzh.vision.transposed import scatter_contributions, trans_conv

    Xt = torch.tensor(X, dtype=torch.float64)
    Kt = torch.tensor(K, dtype=torch.float64)
    parts = scatter_contributions(Xt, Kt, stride)
    Y = trans_conv(Xt, Kt, stride).numpy()
    oh, ow = Y.shape
    kh, kw = Kt.shape
    gap = 1.3
    width = Xt.shape[1] + kw + 2 * gap + (len(parts) + 1) * (ow + gap)
    height = max(oh, Xt.shape[0]) + 2.6
    fig, ax = _canvas((-0.3, width), (-height + 1.2, 1.0), scale=0.5)
    _grid(ax, Xt.numpy(), 0, 0, title="输入")
    x = Xt.shape[1] + gap
    _grid(ax, Kt.numpy(), x, 0, title="卷积核")
    x += kw + gap
    for n, ((i, j), part) in enumerate(parts):
        window = (i * stride, j * stride, kh, kw)
        _grid(
            ax,
            part.numpy(),
            x,
            0,
            title=f"输入[{i},{j}]={Xt[i, j].item():g} 的贡献",
            highlights=[window],
        )
        sign = "+" if n < len(parts) - 1 else "="
        ax.text(x + ow + gap / 2, -oh / 2, sign, ha="center", va="center", fontsize=16)
        x += ow + gap
    _grid(ax, Y, x, 0, title="输出")
    ax.text(
        0,
        -max(oh, Xt.shape[0]) - 0.5,
        f"步幅 {stride}：每个输入元素乘以整个 {kh}×{kw} 卷积核，放到输出中从 (i·{stride}, j·{stride}) "
        f"开始的窗口（蓝色）；重叠处相加，输出为 {oh}×{ow}。",
        ha="left",
        va="top",
        fontsize=10,
    )
    return fig


@_keeps_rng
def fcn(input_shape: tuple[int, int, int] = (3, 320, 480), num_classes: int = 21) -> Figure:
    """FCN（d2l 的结构）：ResNet-18 的卷积部分 -> 1×1 卷积 -> 步幅 32 的转置卷积；形状来自一次前向计算。"""
    from dlzh.models.fcn import create_fcn, resnet18_backbone

    # 只要形状：在 meta 设备上建模型、做前向计算，不分配内存也不做真正的计算。
    with torch.device("meta"):
        backbone, _ = resnet18_backbone(pretrained=False)
        net = create_fcn(backbone, 512, num_classes, upsample=32).eval()
        x = torch.zeros(1, *input_shape)
    shapes = [x.shape]
    with torch.no_grad():
        for layer in net:
            x = layer(x)
            shapes.append(x.shape)
    up = net[2]
    rows = [
        ("输入图像", "input"),
        ("CNN 主干：ResNet-18 去掉全局平均汇聚和全连接层", "conv"),
        (f"1×1 卷积：通道数变为类别数 {num_classes}", "conv"),
        (
            f"转置卷积（核 {up.kernel_size[0]}×{up.kernel_size[1]}，步幅 {up.stride[0]}，"
            f"填充 {up.padding[0]}）：高宽放大 {up.stride[0]} 倍",
            "op",
        ),
    ]
    step, w = 1.0, 8.4
    fig, ax = _canvas((-w / 2 - 0.2, w / 2 + 3.2), (-0.6, step * len(rows) + 0.4), scale=0.55)
    for k, ((text, kind), shape) in enumerate(zip(rows, shapes, strict=True)):
        y = k * step
        _box(ax, 0, y, text, kind=kind, w=w, h=0.6, fontsize=9)
        ax.text(
            w / 2 + 0.2, y, _shape_text(shape), ha="left", va="center", fontsize=9, color="#555555"
        )
        if k:
            _arrow(ax, (0, y - step + 0.3), (0, y - 0.3))
    top = step * len(rows)
    ax.text(
        w / 2 + 0.2, top - 0.35, "输出形状", ha="left", va="center", fontsize=9, color="#555555"
    )
    ax.text(
        0,
        top,
        f"输出：每个像素 {num_classes} 个类别的预测，高宽与输入相同 {_shape_text(shapes[-1])}",
        ha="center",
        va="center",
        fontsize=9.5,
    )
    return fig
