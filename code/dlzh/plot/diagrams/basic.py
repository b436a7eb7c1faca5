"""全书共用的示意图画法，以及基础部分的图：卷积的滑动窗口、填充和步幅、汇聚、各个经典网络和块、归一化的轴、计算图、动量法的路径。

所有示意图都用同一种方法画：这里的 Python 函数用 Matplotlib 作图，页面里用一个标了
``remove-input`` 的代码单元调用它（例如 ``fig = diagrams.lenet()``），读者只看到图。
这样做的理由：

- 图的“源代码”就在仓库里，改一个数字、一个标签就能重新生成，不会出现找不到原稿的位图；
- 图里的数字尽量是**算出来**的：滑动窗口的输出用 :func:`dlzh.models.conv.corr2d` 计算，
  网络结构图的形状来自对真实模型（``dlzh.models``）的一次前向计算，计算图上的梯度来自 autograd，
  动量法的路径来自 :func:`dlzh.optim.optimize_2d`。模型或实现一改，图随之改变；
- 与其他图共用 :mod:`dlzh.plot.style` 的中文字体和**白色背景**，深色模式下同样清楚。

每个函数返回 :class:`matplotlib.figure.Figure`。方框（``gid="dlzh-box"``）、箭头
（``gid="dlzh-arrow"``）和网格单元（``gid="dlzh-cell"``）带有标记，测试据此数部件。
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Polygon, Rectangle
from torch import nn

from dlzh.plot.style import ensure_style

__all__ = [
    "alexnet",
    "computational_graph",
    "conv_sliding_window",
    "dense_block",
    "inception_block",
    "lenet",
    "mlp_computational_graph",
    "momentum_vs_sgd",
    "network_stack",
    "nin_block",
    "normalization_axes",
    "padding",
    "pooling",
    "residual_block",
    "rnn_unrolled",
    "stride",
    "vgg_block",
]

# 各类层的底色（浅色，黑字在上面清楚；深色模式下图本身仍是白底）。
COLORS = {
    "input": "#ffffff",
    "conv": "#cfe2f3",
    "pool": "#d9ead3",
    "fc": "#fce5cd",
    "norm": "#ead1dc",
    "act": "#fff2cc",
    "op": "#eeeeee",
}
EDGE = "#333333"
HIGHLIGHT = ("#6fa8dc", "#f6b26b")  # 第一个、第二个窗口
GRAD = "#cc0000"  # 反向传播（梯度）用红色


# ---------------------------------------------------------------- 基本部件


def _keeps_rng(func: Callable[..., Figure]) -> Callable[..., Figure]:
    """画图时创建模型和随机张量会消耗全局随机数；页面在图之后的结果不应因为多画了一张图而改变。"""

    @functools.wraps(func)
    def wrapper(*args, **kwargs) -> Figure:
        with torch.random.fork_rng(devices=[]):
            return func(*args, **kwargs)

    return wrapper


def _canvas(xlim: tuple[float, float], ylim: tuple[float, float], scale: float = 0.62):
    """一张不带坐标轴的白底画布，每个数据单位 ``scale`` 英寸：方框不会被拉伸，也没有多余留白。"""
    ensure_style()
    size = (scale * (xlim[1] - xlim[0]), scale * (ylim[1] - ylim[0]))
    fig, ax = plt.subplots(figsize=size)
    fig.subplots_adjust(left=0, right=1, bottom=0, top=1)
    _blank(ax, xlim, ylim)
    return fig, ax


def _blank(ax: Axes, xlim: tuple[float, float], ylim: tuple[float, float]) -> None:
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")


def _box(
    ax: Axes,
    x: float,
    y: float,
    text: str,
    *,
    kind: str = "conv",
    w: float = 3.4,
    h: float = 0.62,
    fontsize: float = 9.5,
) -> FancyBboxPatch:
    """以 (x, y) 为中心的圆角方框和其中的文字。"""
    patch = FancyBboxPatch(
        (x - w / 2, y - h / 2),
        w,
        h,
        boxstyle="round,pad=0,rounding_size=0.12",
        facecolor=COLORS[kind],
        edgecolor=EDGE,
        linewidth=1.1,
        gid="dlzh-box",
    )
    ax.add_patch(patch)
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, zorder=3)
    return patch


def _arrow(
    ax: Axes,
    start: tuple[float, float],
    end: tuple[float, float],
    *,
    color: str = EDGE,
    style: str = "-",
    connection: str = "arc3",
    lw: float = 1.2,
) -> FancyArrowPatch:
    arrow = FancyArrowPatch(
        start,
        end,
        arrowstyle="-|>",
        mutation_scale=11,
        color=color,
        linestyle=style,
        linewidth=lw,
        connectionstyle=connection,
        shrinkA=0,
        shrinkB=0,
        gid="dlzh-arrow",
        zorder=2,
    )
    ax.add_patch(arrow)
    return arrow


def _circle(
    ax: Axes, x: float, y: float, text: str, r: float = 0.28, fontsize: float = 11
) -> Circle:
    circle = Circle((x, y), r, facecolor="white", edgecolor=EDGE, linewidth=1.1, gid="dlzh-box")
    ax.add_patch(circle)
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, zorder=3)
    return circle


def _grid(
    ax: Axes,
    values: np.ndarray,
    x0: float,
    y0: float,
    *,
    title: str = "",
    pad: int = 0,
    highlights: Sequence[tuple[int, int, int, int]] = (),
) -> None:
    """画一个矩阵：左上角在 (x0, y0)，每格边长 1；最外 ``pad`` 圈是填充（灰色的 0）。

    ``highlights`` 的每一项 ``(行, 列, 高, 宽)`` 用 :data:`HIGHLIGHT` 中的颜色依次标出一个窗口。
    """
    rows, cols = values.shape
    for i in range(rows):
        for j in range(cols):
            padded = i < pad or j < pad or i >= rows - pad or j >= cols - pad
            color = "#e6e6e6" if padded else "white"
            for k, (r, c, h, w) in enumerate(highlights):
                if r <= i < r + h and c <= j < c + w:
                    color = HIGHLIGHT[k % len(HIGHLIGHT)]
            ax.add_patch(
                Rectangle(
                    (x0 + j, y0 - i - 1),
                    1,
                    1,
                    facecolor=color,
                    edgecolor=EDGE,
                    linewidth=1.0,
                    gid="dlzh-cell",
                )
            )
            value = values[i, j]
            label = f"{value:g}" if not padded else "0"
            ax.text(x0 + j + 0.5, y0 - i - 0.5, label, ha="center", va="center", fontsize=11)
    if title:
        ax.text(x0 + cols / 2, y0 + 0.35, title, ha="center", va="bottom", fontsize=11)


def _corr2d(x: np.ndarray, k: np.ndarray, stride: tuple[int, int] = (1, 1)) -> np.ndarray:
    """二维互相关（与 :func:`dlzh.models.conv.corr2d` 相同，另加步幅）。"""
    from dlzh.models.conv import corr2d

    full = corr2d(torch.tensor(x, dtype=torch.float64), torch.tensor(k, dtype=torch.float64))
    return full[:: stride[0], :: stride[1]].numpy()


def _conv_figure(
    x: np.ndarray,
    k: np.ndarray,
    *,
    pad: int,
    stride: tuple[int, int],
    caption: str,
    windows_shown: int = 1,
) -> Figure:
    """输入（含填充）互相关卷积核 = 输出，标出前 ``windows_shown`` 个输出元素对应的窗口
    （蓝色、橙色）和第一个元素的算式。"""
    xp = np.pad(x, pad)
    y = _corr2d(xp, k, stride)
    kh, kw = k.shape
    n_out = min(windows_shown, y.size)
    # 第 m 个输出元素（按行展开）对应的窗口左上角。
    corners = [divmod(m, y.shape[1]) for m in range(n_out)]
    windows = [(r * stride[0], c * stride[1], kh, kw) for r, c in corners]
    width = xp.shape[1] + kw + y.shape[1] + 2.7
    height = max(xp.shape[0], 3) + 2.2
    fig, ax = _canvas((-0.3, width), (-height + 1.0, 1.0))
    top = 0.0
    _grid(
        ax,
        xp,
        0,
        top,
        title="输入" + ("（灰色为填充）" if pad else ""),
        pad=pad,
        highlights=windows,
    )
    x1 = xp.shape[1] + 1.2
    ax.text(x1 - 0.6, top - kh / 2, r"$\star$", ha="center", va="center", fontsize=22)
    _grid(ax, k, x1, top, title="卷积核")
    x2 = x1 + kw + 1.2
    ax.text(x2 - 0.6, top - kh / 2, "=", ha="center", va="center", fontsize=16)
    _grid(ax, y, x2, top, title="输出", highlights=[(r, c, 1, 1) for r, c in corners])
    r, c, _, _ = windows[0]
    terms = " + ".join(f"{xp[r + i, c + j]:g}×{k[i, j]:g}" for i in range(kh) for j in range(kw))
    ax.text(
        0,
        -max(xp.shape[0], 3) - 0.6,
        f"{caption}\n蓝色部分：{terms} = {y[0, 0]:g}",
        ha="left",
        va="top",
        fontsize=10,
    )
    return fig


# ---------------------------------------------------------------- 卷积、填充、步幅、汇聚


def conv_sliding_window() -> Figure:
    """二维互相关：3×3 输入与 2×2 卷积核得到 2×2 输出（d2l 的例子），标出第一个窗口。"""
    x = np.arange(9.0).reshape(3, 3)
    k = np.arange(4.0).reshape(2, 2)
    return _conv_figure(
        x, k, pad=0, stride=(1, 1), caption="卷积核从左上角开始，先向右、再向下逐格滑动。"
    )


def padding(pad: int = 1) -> Figure:
    """填充：3×3 输入四周各补 ``pad`` 圈 0，再与 2×2 卷积核做互相关，输出变大。"""
    x = np.arange(9.0).reshape(3, 3)
    k = np.arange(4.0).reshape(2, 2)
    out = 3 + 2 * pad - 2 + 1
    return _conv_figure(
        x, k, pad=pad, stride=(1, 1), caption=f"填充 {pad}：输出从 2×2 变为 {out}×{out}。"
    )


def stride(strides: tuple[int, int] = (3, 2), pad: int = 1) -> Figure:
    """步幅：垂直步幅 ``strides[0]``、水平步幅 ``strides[1]``，窗口每次跳过若干格。"""
    x = np.arange(9.0).reshape(3, 3)
    k = np.arange(4.0).reshape(2, 2)
    return _conv_figure(
        x,
        k,
        pad=pad,
        stride=strides,
        windows_shown=2,
        caption=f"填充 {pad}，垂直步幅 {strides[0]}、水平步幅 {strides[1]}：两个相邻的输出元素"
        f"\n对应的窗口（两种颜色）在水平方向上相隔 {strides[1]} 格。",
    )


def pooling(mode: str = "max") -> Figure:
    """2×2 汇聚窗口在 3×3 输入上滑动（步幅 1）：``mode`` 为 ``"max"`` 或 ``"avg"``。"""
    from dlzh.models.conv import pool2d

    x = np.arange(9.0).reshape(3, 3)
    y = pool2d(torch.tensor(x), (2, 2), mode=mode).numpy()
    name = {"max": "最大汇聚", "avg": "平均汇聚"}[mode]
    fig, ax = _canvas((-0.3, 8.0), (-4.5, 1.0))
    _grid(ax, x, 0, 0, title="输入", highlights=[(0, 0, 2, 2)])
    ax.text(4.0, -1.5, f"2×2\n{name}", ha="center", va="center", fontsize=10)
    _arrow(ax, (3.3, -2.1), (4.8, -2.1))
    _grid(ax, y, 5.5, 0, title="输出", highlights=[(0, 0, 1, 1)])
    window = x[:2, :2].ravel()
    formula = (
        f"max({', '.join(f'{v:g}' for v in window)})"
        if mode == "max"
        else f"({' + '.join(f'{v:g}' for v in window)}) / 4"
    )
    ax.text(0, -3.6, f"蓝色部分：{formula} = {y[0, 0]:g}", ha="left", va="top", fontsize=10)
    return fig


# ---------------------------------------------------------------- 网络结构


def _describe(layer: nn.Module) -> tuple[str, str] | None:
    """一层的中文说明和类别；激活函数、暂退法、归一化返回 ``None``，由调用者并入前一层。"""

    def pair(v):
        return v if isinstance(v, tuple) else (v, v)

    if isinstance(layer, nn.Conv2d):
        k, s, p = pair(layer.kernel_size), pair(layer.stride), pair(layer.padding)
        text = f"{k[0]}×{k[1]} 卷积，{layer.out_channels} 通道"
        if p[0]:
            text += f"，填充 {p[0]}"
        if s[0] > 1:
            text += f"，步幅 {s[0]}"
        return text, "conv"
    if isinstance(layer, (nn.MaxPool2d, nn.AvgPool2d)):
        k, s = pair(layer.kernel_size), pair(layer.stride)
        name = "最大汇聚" if isinstance(layer, nn.MaxPool2d) else "平均汇聚"
        return f"{k[0]}×{k[1]} {name}，步幅 {s[0]}", "pool"
    if isinstance(layer, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
        return "全局平均汇聚", "pool"
    if isinstance(layer, nn.Linear):
        return f"全连接层，{layer.out_features} 个输出", "fc"
    if isinstance(layer, nn.Flatten):
        return "展平", "op"
    return None


_SUFFIX = {
    nn.ReLU: "ReLU",
    nn.Sigmoid: "sigmoid",
    nn.Tanh: "tanh",
    nn.Dropout: "暂退法",
    nn.BatchNorm1d: "批量归一化",
    nn.BatchNorm2d: "批量归一化",
}


def _shape_text(shape: torch.Size) -> str:
    return "×".join(str(d) for d in shape[1:])


@_keeps_rng
def network_stack(
    net: nn.Sequential, input_shape: Sequence[int], *, title: str = "", width: float = 6.2
) -> Figure:
    """把一个 ``nn.Sequential`` 画成自下而上的一列方框，右侧标出每块输出的形状。

    形状不是手写的：用一个全零输入做一次前向计算，逐层记录输出形状。激活函数、暂退法和
    批量归一化并入它前面那一层的方框（“3×3 卷积，…+ ReLU”），以免图太长。
    """
    x = torch.zeros(1, *input_shape)
    stages: list[list] = []  # [说明, 类别, 形状]
    with torch.no_grad():
        for layer in net:
            x = layer(x)
            described = _describe(layer)
            if described is None:
                suffix = next((v for t, v in _SUFFIX.items() if isinstance(layer, t)), None)
                if suffix is None:
                    raise ValueError(
                        f"不知道如何画 {type(layer).__name__} 层 / unsupported layer: "
                        "在 dlzh.plot.diagrams._describe 中为它加一条说明"
                    )
                if stages:
                    stages[-1][0] += f" + {suffix}"
                    stages[-1][2] = x.shape
                continue
            stages.append([described[0], described[1], x.shape])
    rows = [("输入", "input", torch.Size([1, *input_shape])), *map(tuple, stages)]
    step = 0.95
    top = step * len(rows) + (0.5 if title else 0.0)
    fig, ax = _canvas((-width / 2 - 0.2, width / 2 + 2.0), (-0.5, top), scale=0.55)
    for i, (text, kind, shape) in enumerate(rows):
        y = i * step
        _box(ax, 0, y, text, kind=kind, w=width, h=0.6, fontsize=8.5)
        ax.text(
            width / 2 + 0.2,
            y,
            _shape_text(shape),
            ha="left",
            va="center",
            fontsize=8.5,
            color="#555555",
        )
        if i:
            _arrow(ax, (0, y - step + 0.3), (0, y - 0.3))
    ax.text(
        width / 2 + 0.2,
        len(rows) * step - 0.45,
        "输出形状",
        ha="left",
        va="center",
        fontsize=8.5,
        color="#555555",
    )
    if title:
        ax.text(0, top - 0.3, title, ha="center", va="center", fontsize=11)
    return fig


@_keeps_rng
def lenet() -> Figure:
    """LeNet（d2l 的版本：sigmoid 与平均汇聚，输入 28×28）的结构和每层输出形状。"""
    from dlzh.models.lenet import create_lenet

    return network_stack(create_lenet(), (1, 28, 28), title="LeNet")


@_keeps_rng
def alexnet() -> Figure:
    """AlexNet（d2l 的版本：单通道 224×224 输入，10 类）的结构和每层输出形状。"""
    from dlzh.models.alexnet import create_alexnet

    return network_stack(create_alexnet(), (1, 224, 224), title="AlexNet")


def _column(
    ax: Axes,
    x: float,
    items: Sequence[tuple[str, str]],
    y0: float,
    step: float = 0.95,
    w: float = 3.4,
) -> list[float]:
    """自下而上一列方框，相邻两个之间画箭头；返回每个方框中心的纵坐标。"""
    ys = []
    for i, (text, kind) in enumerate(items):
        y = y0 + i * step
        _box(ax, x, y, text, kind=kind, w=w)
        if i:
            _arrow(ax, (x, y - step + 0.31), (x, y - 0.31))
        ys.append(y)
    return ys


def vgg_block(num_convs: int = 2) -> Figure:
    """VGG 块：``num_convs`` 个“3×3 卷积（填充 1）+ ReLU”，再接一个 2×2、步幅 2 的最大汇聚层。"""
    items = [("输入", "input")]
    items += [("3×3 卷积，填充 1 + ReLU", "conv")] * num_convs
    items += [("2×2 最大汇聚，步幅 2", "pool"), ("输出", "input")]
    fig, ax = _canvas((-1.9, 4.4), (-0.5, len(items) * 0.95 + 0.2))
    ys = _column(ax, 0, items, 0)
    ax.text(0, ys[-1] + 0.75, "VGG 块", ha="center", va="center", fontsize=11)
    # 右侧的大括号说明：这几个卷积层构成一个块，块可以重复。
    top, bottom = ys[num_convs] + 0.3, ys[1] - 0.3
    ax.plot([2.0, 2.2, 2.2, 2.0], [bottom, bottom, top, top], color=EDGE, lw=1.0)
    ax.text(
        2.35, (top + bottom) / 2, f"{num_convs} 个卷积层\n（个数可变）", va="center", fontsize=9
    )
    ax.text(2.35, ys[-2], "高、宽减半", va="center", fontsize=9)
    return fig


def nin_block() -> Figure:
    """NiN 块：一个普通卷积层后接两个 1×1 卷积层（都带 ReLU），相当于逐像素的全连接层。"""
    items = [
        ("输入", "input"),
        ("k×k 卷积 + ReLU", "conv"),
        ("1×1 卷积 + ReLU", "conv"),
        ("1×1 卷积 + ReLU", "conv"),
        ("输出", "input"),
    ]
    fig, ax = _canvas((-1.9, 4.4), (-0.5, len(items) * 0.95 + 0.2))
    ys = _column(ax, 0, items, 0)
    ax.text(0, ys[-1] + 0.75, "NiN 块", ha="center", va="center", fontsize=11)
    top, bottom = ys[3] + 0.3, ys[2] - 0.3
    ax.plot([2.0, 2.2, 2.2, 2.0], [bottom, bottom, top, top], color=EDGE, lw=1.0)
    ax.text(2.35, (top + bottom) / 2, "在每个像素上\n作用的全连接层", va="center", fontsize=9)
    return fig


@_keeps_rng
def inception_block(
    in_channels: int = 192,
    c1: int = 64,
    c2: tuple[int, int] = (96, 128),
    c3: tuple[int, int] = (16, 32),
    c4: int = 32,
) -> Figure:
    """Inception 块：四条并行路径，输出在通道维上拼接。

    默认参数是 GoogLeNet 第三个模块中的第一个 Inception 块；各路径和拼接后的通道数由
    :class:`dlzh.models.googlenet.Inception` 的一次前向计算得到。
    """
    from dlzh.models.googlenet import Inception

    block = Inception(in_channels, c1, c2, c3, c4).eval()
    x = torch.zeros(1, in_channels, 8, 8)
    with torch.no_grad():
        paths = [
            block.p1_1(x),
            block.p2_2(block.p2_1(x)),
            block.p3_2(block.p3_1(x)),
            block.p4_2(block.p4_1(x)),
        ]
        out = block(x)
    widths = [p.shape[1] for p in paths]
    fig, ax = _canvas((-6.6, 6.6), (-1.0, 6.7))
    _box(ax, 0, 0, f"输入：{in_channels} 通道", kind="input", w=3.0)
    branches = [
        [(f"1×1 卷积，{widths[0]} 通道", "conv")],
        [(f"1×1 卷积，{c2[0]} 通道", "conv"), (f"3×3 卷积，填充 1，{widths[1]} 通道", "conv")],
        [(f"1×1 卷积，{c3[0]} 通道", "conv"), (f"5×5 卷积，填充 2，{widths[2]} 通道", "conv")],
        [("3×3 最大汇聚，填充 1", "pool"), (f"1×1 卷积，{widths[3]} 通道", "conv")],
    ]
    xs = [-4.95, -1.65, 1.65, 4.95]
    concat_y, out_y = 4.35, 5.55
    for x, items in zip(xs, branches, strict=True):
        ys = [1.5 + i * 1.3 for i in range(len(items))]
        for i, ((text, kind), y) in enumerate(zip(items, ys, strict=True)):
            _box(ax, x, y, text, kind=kind, w=3.1, fontsize=8.5)
            if i:
                _arrow(ax, (x, ys[i - 1] + 0.31), (x, y - 0.31))
        _arrow(ax, (0, 0.31), (x, ys[0] - 0.31))
        _arrow(ax, (x, ys[-1] + 0.31), (x * 0.3, concat_y - 0.31))
    total = "+".join(str(w) for w in widths)
    _box(ax, 0, concat_y, f"通道维上拼接：{total}={out.shape[1]} 通道", kind="op", w=5.2)
    _box(ax, 0, out_y, "输出", kind="input", w=2.4)
    _arrow(ax, (0, concat_y + 0.31), (0, out_y - 0.31))
    ax.text(
        0,
        -0.55,
        "各路径的卷积后都接 ReLU；填充使四条路径输出的高和宽相同",
        ha="center",
        va="top",
        fontsize=9,
    )
    ax.text(0, 6.35, "Inception 块", ha="center", va="center", fontsize=11)
    return fig


def residual_block() -> Figure:
    """残差块：左边输入直接加到输出上（恒等映射），右边用 1×1 卷积把输入变成相同形状再相加。"""
    ensure_style()
    fig, axes = plt.subplots(1, 2, figsize=(8.4, 5.2))
    for ax, shortcut in zip(axes, (False, True), strict=True):
        _blank(ax, (-2.6, 3.4), (-0.7, 7.6))
        items = [
            ("输入 x", "input"),
            ("3×3 卷积", "conv"),
            ("批量归一化", "norm"),
            ("ReLU", "act"),
            ("3×3 卷积", "conv"),
            ("批量归一化", "norm"),
        ]
        ys = _column(ax, 0, items, 0, step=0.95, w=3.0)
        plus_y = ys[-1] + 0.95
        _arrow(ax, (0, ys[-1] + 0.31), (0, plus_y - 0.28))
        _circle(ax, 0, plus_y, "+")
        _box(ax, 0, plus_y + 0.95, "ReLU", kind="act", w=3.0)
        _arrow(ax, (0, plus_y + 0.28), (0, plus_y + 0.95 - 0.31))
        # 跨层连接：从输入向右、向上，再向左进入加号。
        side = 2.35
        ax.plot([1.5, side], [ys[0], ys[0]], color=EDGE, lw=1.2)
        if shortcut:
            _box(ax, side, ys[3], "1×1 卷积", kind="conv", w=1.7)
            _arrow(ax, (side, ys[0]), (side, ys[3] - 0.31))
            ax.plot([side, side], [ys[3] + 0.31, plus_y], color=EDGE, lw=1.2)
            ax.set_title("用 1×1 卷积变换输入的残差块", fontsize=10.5)
        else:
            ax.plot([side, side], [ys[0], plus_y], color=EDGE, lw=1.2)
            ax.text(side + 0.15, ys[3], "恒等映射", ha="left", va="center", fontsize=9)
            ax.set_title("残差块：输出 = ReLU(g(x) + x)", fontsize=10.5)
        _arrow(ax, (side, plus_y), (0.28, plus_y))
    fig.tight_layout()
    return fig


@_keeps_rng
def dense_block(num_convs: int = 2, in_channels: int = 3, growth_rate: int = 10) -> Figure:
    """稠密块：每个卷积块的输出都在通道维上拼接到它的输入上；通道数来自真实的前向计算。"""
    from dlzh.models.densenet import DenseBlock

    block = DenseBlock(num_convs, in_channels, growth_rate).eval()
    channels = [in_channels]
    x = torch.zeros(1, in_channels, 8, 8)
    with torch.no_grad():
        for conv in block.net:
            x = torch.cat((x, conv(x)), dim=1)
            channels.append(x.shape[1])
    assert channels[-1] == block.out_channels  # 图和模型必须一致
    step = 2.5
    width = 1.6 + step * num_convs * 2
    fig, ax = _canvas((-1.3, width - 0.5), (-1.6, 1.7))
    _box(ax, 0, 0, f"输入\n{channels[0]} 通道", kind="input", w=1.9, h=1.0)
    x_prev = 0.0
    for i in range(num_convs):
        xc = x_prev + step
        xk = xc + step
        _box(
            ax,
            xc,
            0,
            "卷积块：\n批量归一化、ReLU、\n3×3 卷积",
            kind="conv",
            w=2.1,
            h=1.2,
            fontsize=8,
        )
        _box(
            ax,
            xk,
            0,
            f"通道维拼接\n{channels[i]}+{growth_rate}={channels[i + 1]} 通道",
            kind="op",
            w=2.1,
            h=1.0,
            fontsize=8.5,
        )
        _arrow(ax, (x_prev + 1.05 - (0.1 if i == 0 else 0), 0), (xc - 1.05, 0))
        _arrow(ax, (xc + 1.05, 0), (xk - 1.05, 0))
        # 跨过卷积块的连接：卷积块的输入原样送到拼接处（蓝色）。
        low = -1.05 - 0.12 * i
        ax.plot([x_prev - 0.3, x_prev - 0.3, xk - 0.3], [-0.5, low, low], color="#1c4587", lw=1.2)
        _arrow(ax, (xk - 0.3, low), (xk - 0.3, -0.5), color="#1c4587")
        x_prev = xk
    ax.text(
        width / 2 - 0.9,
        1.35,
        f"稠密块：{num_convs} 个卷积块，增长率 {growth_rate}（蓝线：卷积块的输入直接送去拼接）",
        ha="center",
        va="center",
        fontsize=10,
    )
    return fig


# ---------------------------------------------------------------- 归一化的轴


def _cuboid(
    ax: Axes,
    x0: float,
    x1: float,
    y0: float,
    y1: float,
    z0: float,
    z1: float,
    color: str,
    alpha: float = 1.0,
) -> None:
    """斜二测画法：x 向右（通道 C），y 向上（H, W），z 向右上方（批量 N，越大越靠后）。

    只画从正面、顶面和右侧能看见的三个面。
    """
    dx, dy = 0.5, 0.4  # z 方向每单位在纸面上的位移

    def p(x, y, z):
        return (x + dx * z, y + dy * z)

    faces = [
        [p(x0, y0, z0), p(x1, y0, z0), p(x1, y1, z0), p(x0, y1, z0)],  # 正面 z = z0
        [p(x0, y1, z0), p(x1, y1, z0), p(x1, y1, z1), p(x0, y1, z1)],  # 顶面 y = y1
        [p(x1, y0, z0), p(x1, y0, z1), p(x1, y1, z1), p(x1, y1, z0)],  # 右面 x = x1
    ]
    for face in faces:
        ax.add_patch(
            Polygon(
                face,
                closed=True,
                facecolor=color,
                edgecolor=EDGE,
                linewidth=0.8,
                alpha=alpha,
                gid="dlzh-cell",
            )
        )


def normalization_axes(n: int = 4, c: int = 6, hw: int = 4, groups: int = 3) -> Figure:
    """批量归一化、层归一化、实例归一化、组归一化各在哪些元素上求均值和方差。

    每个立方体是一个 (N, C, H·W) 形状的激活张量：横轴是通道 C，纵轴是空间位置 H, W
    （拉成一维），纵深是批量中的样本 N。蓝色的元素共用一组均值和方差。
    """
    ensure_style()
    fig, axes = plt.subplots(1, 4, figsize=(11.0, 3.3))
    g = c // groups
    specs = [
        ("批量归一化", (0, 1), (0, n)),  # 一个通道、所有样本
        ("层归一化", (0, c), (0, 1)),  # 一个样本、所有通道
        ("实例归一化", (0, 1), (0, 1)),  # 一个样本、一个通道
        (f"组归一化（{groups} 组）", (0, g), (0, 1)),  # 一个样本、一组通道
    ]
    for ax, (name, (c0, c1), (n0, n1)) in zip(axes, specs, strict=True):
        _blank(ax, (-1.4, c + 0.5 * n + 0.6), (-1.4, hw + 0.4 * n + 1.0))
        # 先画整个张量的网格（白色），再把共用统计量的部分涂成蓝色。
        for ci in range(c):
            for ni in range(n - 1, -1, -1):
                for hi in range(hw):
                    inside = c0 <= ci < c1 and n0 <= ni < n1
                    visible = ni == 0 or hi == hw - 1 or ci == c - 1
                    if visible:
                        _cuboid(
                            ax,
                            ci,
                            ci + 1,
                            hi,
                            hi + 1,
                            ni,
                            ni + 1,
                            HIGHLIGHT[0] if inside else "white",
                        )
        ax.text(c / 2, -0.45, "C（通道）", ha="center", va="top", fontsize=9)
        ax.text(-0.25, hw / 2, "H, W", ha="right", va="center", fontsize=9, rotation=90)
        ax.text(
            c + 0.5 * n * 0.5 + 0.35,
            0.4 * n * 0.5 - 0.1,
            "N（批量）",
            ha="left",
            va="center",
            fontsize=9,
            rotation=38,
        )
        ax.set_title(name, fontsize=11)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- 计算图


def computational_graph(x: float = 2.0, w: float = 3.0, b: float = 1.0) -> Figure:
    """表达式 L = (w·x + b)² 的计算图：黑色箭头是前向计算（标出数值），红色虚线是反向传播
    （标出 ∂L/∂·）。所有数值都由 autograd 算出。"""
    tx = torch.tensor(x, requires_grad=True)
    tw = torch.tensor(w, requires_grad=True)
    tb = torch.tensor(b, requires_grad=True)
    u = tw * tx
    v = u + tb
    loss = v**2
    for t in (u, v):
        t.retain_grad()
    loss.backward()
    values = {"x": tx, "w": tw, "b": tb, "u": u, "v": v}

    fig, ax = _canvas((-0.8, 13.2), (-2.9, 3.4))
    nodes = {  # 名称: (x, y)
        "x": (0.2, 2.0),
        "w": (0.2, 0.0),
        "b": (4.4, -0.9),
        "mul": (2.4, 1.0),
        "u": (4.4, 1.0),
        "add": (6.5, 1.0),
        "v": (8.5, 1.0),
        "sq": (10.4, 1.0),
        "L": (12.3, 1.0),
    }
    ops = {"mul": "×", "add": "+", "sq": "(·)²"}
    for name, (px, py) in nodes.items():
        if name in ops:
            _circle(ax, px, py, ops[name], r=0.42)
        else:
            _box(
                ax, px, py, name, kind="input" if name in "xwb" else "op", w=0.9, h=0.6, fontsize=11
            )
            value = loss if name == "L" else values[name]
            ax.text(px, py + 0.45, f"{value.item():g}", ha="center", va="bottom", fontsize=9)
            grad = 1.0 if name == "L" else values[name].grad.item()
            ax.text(
                px,
                py - 0.45,
                f"∂L/∂{name} = {grad:g}",
                ha="center",
                va="top",
                fontsize=8.5,
                color=GRAD,
            )
    edges = [
        ("x", "mul"),
        ("w", "mul"),
        ("mul", "u"),
        ("u", "add"),
        ("b", "add"),
        ("add", "v"),
        ("v", "sq"),
        ("sq", "L"),
    ]
    for a, z in edges:
        (ax0, ay0), (ax1, ay1) = nodes[a], nodes[z]
        vec = np.array([ax1 - ax0, ay1 - ay0])
        unit = vec / np.linalg.norm(vec)
        start = np.array([ax0, ay0]) + unit * (0.45 if a not in ops else 0.42)
        end = np.array([ax1, ay1]) - unit * (0.45 if z not in ops else 0.42)
        _arrow(ax, tuple(start), tuple(end))
    # 反向传播：从 L 出发，逆着前向箭头走（画在主干下方）。
    _arrow(ax, (12.3, 0.05), (8.9, 0.05), color=GRAD, style="--", connection="arc3,rad=-0.25")
    _arrow(ax, (8.1, 0.05), (4.8, 0.05), color=GRAD, style="--", connection="arc3,rad=-0.25")
    ax.text(6.4, 3.0, "前向计算：L = (w·x + b)²，黑字为各节点的值", ha="center", fontsize=10)
    ax.text(
        6.4,
        -2.6,
        "反向传播（红色虚线）：由链式法则从 L 出发逐个算出红字的偏导数",
        ha="center",
        fontsize=10,
        color=GRAD,
    )
    return fig


@_keeps_rng
def mlp_computational_graph(n: int = 8, d: int = 5, h: int = 4, q: int = 3) -> Figure:
    """d2l 中带权重衰减的单隐藏层多层感知机的计算图（不含偏置）。

    方框是变量（右下角是形状，由一次真实的前向计算得到），圆圈是运算；黑色实线是前向计算，
    红色虚线是反向传播的方向：从目标函数 J 出发，沿前向边逆行，到达两个权重矩阵。
    """
    x = torch.randn(n, d)
    w1 = torch.randn(h, d)
    w2 = torch.randn(q, h)
    z = x @ w1.T
    hid = torch.relu(z)
    o = hid @ w2.T
    shapes = {
        "X": x.shape,
        "W1": w1.shape,
        "Z": z.shape,
        "H": hid.shape,
        "W2": w2.shape,
        "O": o.shape,
        "y": torch.Size([n]),
    }
    fig, ax = _canvas((-0.8, 16.0), (-2.4, 4.3), scale=0.55)
    var = {  # 变量节点
        "X": (0.0, 0.0),
        "W1": (1.6, 1.8),
        "Z": (3.2, 0.0),
        "H": (6.4, 0.0),
        "W2": (8.0, 1.8),
        "O": (9.6, 0.0),
        "y": (11.2, 1.5),
        "L": (12.8, 0.0),
        "s": (12.8, 3.2),
        "J": (15.2, 0.0),
    }
    ops = {  # 运算节点
        "mul1": ((1.6, 0.0), "×"),
        "phi": ((4.8, 0.0), r"$\phi$"),
        "mul2": ((8.0, 0.0), "×"),
        "loss": ((11.2, 0.0), r"$\ell$"),
        "reg": ((9.6, 3.2), r"$\|\cdot\|^2$"),
        "add": ((14.0, 0.0), "+"),
    }
    shown = {"W1": "$\\mathbf{W}^{(1)}$", "W2": "$\\mathbf{W}^{(2)}$"}
    for name, (px, py) in var.items():
        _box(
            ax,
            px,
            py,
            shown.get(name, f"$\\mathbf{{{name}}}$" if name in "XZHO" else f"${name}$"),
            kind="input" if name in ("X", "y") else "op",
            w=1.0,
            h=0.62,
            fontsize=10.5,
        )
        if name in shapes:
            shape = "×".join(str(v) for v in shapes[name])
            if name == "y":  # y 的下方是通往 ℓ 的箭头，形状写在右边
                ax.text(px + 0.6, py, shape, ha="left", va="center", fontsize=8, color="#555555")
            else:
                ax.text(px, py - 0.42, shape, ha="center", va="top", fontsize=8, color="#555555")
    for (px, py), label in ops.values():
        _circle(ax, px, py, label, r=0.36, fontsize=8 if "cdot" in label else 11)

    def anchor(name: str, towards: tuple[float, float]) -> tuple[float, float]:
        """节点边界上朝向 ``towards`` 的点：方框取半宽/半高，圆取半径。"""
        center, radius = (ops[name][0], 0.36) if name in ops else (var[name], None)
        vec = np.array(towards) - np.array(center)
        if radius is not None:
            return tuple(np.array(center) + vec / np.linalg.norm(vec) * radius)
        scale = min(
            0.5 / abs(vec[0]) if vec[0] else np.inf, 0.31 / abs(vec[1]) if vec[1] else np.inf
        )
        return tuple(np.array(center) + vec * scale)

    def pos(name: str) -> tuple[float, float]:
        return ops[name][0] if name in ops else var[name]

    edges = [
        ("X", "mul1"), ("W1", "mul1"), ("mul1", "Z"), ("Z", "phi"), ("phi", "H"),
        ("H", "mul2"), ("W2", "mul2"), ("mul2", "O"), ("O", "loss"), ("y", "loss"),
        ("loss", "L"), ("W1", "reg"), ("W2", "reg"), ("reg", "s"), ("L", "add"),
        ("s", "add"), ("add", "J"),
    ]  # fmt: skip
    for a, b in edges:
        _arrow(ax, anchor(a, pos(b)), anchor(b, pos(a)))
    # 反向传播：J -> L -> O -> H -> Z，以及到两个权重（画在主干下方的红色虚线）。
    back = [("J", "L"), ("L", "O"), ("O", "H"), ("H", "Z"), ("Z", "X")]
    for a, b in back[:-1]:
        (xa, ya), (xb, yb) = var[a], var[b]
        _arrow(
            ax,
            (xa - 0.2, ya - 0.75),
            (xb + 0.2, yb - 0.75),
            color=GRAD,
            style="--",
            connection="arc3,rad=-0.3",
        )
    ax.text(
        7.6,
        4.0,
        r"前向计算（黑色实线）：$Z = XW^{(1)\top}$，$H = \phi(Z)$，$O = HW^{(2)\top}$，"
        r"$L = \ell(O, y)$，$J = L + s$",
        ha="center",
        va="center",
        fontsize=9.5,
    )
    ax.text(
        7.6,
        -1.9,
        r"反向传播（红色虚线）：从 $J$ 出发逆着前向边计算梯度，依次得到 $\partial J/\partial O$、"
        r"$\partial J/\partial H$、$\partial J/\partial Z$，"
        "\n"
        r"再由它们和正则项 $s$ 得到 $\partial J/\partial W^{(2)}$、$\partial J/\partial W^{(1)}$",
        ha="center",
        va="center",
        fontsize=9.5,
        color=GRAD,
    )
    return fig


# ---------------------------------------------------------------- 动量法


def momentum_vs_sgd(
    lr_sgd: float = 0.4, lr_momentum: float = 0.6, beta: float = 0.5, steps: int = 20
) -> Figure:
    """在 f(x₁, x₂) = 0.1x₁² + 2x₂² 上比较梯度下降和动量法的路径（由 :mod:`dlzh.optim` 算出）。"""
    from dlzh.optim import MomentumSGD, ill_conditioned_quadratic, optimize_2d

    f = ill_conditioned_quadratic
    start = (-5.0, -2.0)
    paths = {
        f"梯度下降，η = {lr_sgd}": optimize_2d(
            lambda p: MomentumSGD(p, lr=lr_sgd, momentum=0.0), f, start, steps
        ),
        f"动量法，η = {lr_momentum}，β = {beta}": optimize_2d(
            lambda p: MomentumSGD(p, lr=lr_momentum, momentum=beta), f, start, steps
        ),
    }
    ensure_style()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    g1, g2 = np.meshgrid(np.linspace(-5.5, 1.5, 200), np.linspace(-3.0, 3.0, 200))
    ax.contour(
        g1,
        g2,
        f(torch.tensor(g1), torch.tensor(g2)).numpy(),
        levels=12,
        colors="#bbbbbb",
        linewidths=0.8,
    )
    for (name, path), color, marker in zip(
        paths.items(), ("#e69138", "#3d85c6"), ("o", "s"), strict=True
    ):
        final = f(path[-1, 0], path[-1, 1]).item()
        ax.plot(
            path[:, 0],
            path[:, 1],
            marker=marker,
            markersize=3.5,
            color=color,
            lw=1.3,
            label=f"{name}（{steps} 步后 f = {final:.1e}）",
        )
    ax.plot(0, 0, marker="*", color="black", markersize=10)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_xlim(-5.5, 1.5)
    ax.set_ylim(-3.0, 3.0)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), fontsize=8.5, ncol=1)
    ax.set_title("$f(x_1, x_2) = 0.1x_1^2 + 2x_2^2$：从 (-5, -2) 出发的两条路径", fontsize=10)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- 循环神经网络


@_keeps_rng
def rnn_unrolled(
    num_steps: int = 3,
    batch_size: int = 2,
    num_inputs: int = 28,
    num_hiddens: int = 32,
    num_outputs: int = 28,
) -> Figure:
    """循环神经网络按时间展开：每个时间步的输入 X_t、隐状态 H_t 和输出 O_t。

    横向箭头把 H_{t-1} 传给 H_t，这正是“循环”；各时间步共用同一组参数（只在第一步标出）。
    方框旁的形状来自一个真实的 :class:`dlzh.models.rnn.RecurrentScratch` 加输出层的前向计算。
    """
    from dlzh.models.rnn import RecurrentScratch

    rnn = RecurrentScratch("rnn_tanh", num_inputs, num_hiddens)
    head = nn.Linear(num_hiddens, num_outputs)
    with torch.no_grad():
        xs = torch.zeros(num_steps, batch_size, num_inputs)  # (T, n, d)
        hs, h_last = rnn(xs)  # (T, n, h)
        outs = head(hs)  # (T, n, q)
    shapes = {"X": xs[0].shape, "H": hs[0].shape, "O": outs[0].shape, "H0": h_last[0].shape}

    gap = 3.2
    right = gap * num_steps + 2.0
    fig, ax = _canvas((-1.0, right), (-1.1, 4.6))
    ys = {"X": 0.0, "H": 2.0, "O": 4.0}
    kinds = {"X": "input", "H": "fc", "O": "act"}
    _box(ax, 0.0, ys["H"], "$\\mathbf{H}_0$", kind="input", w=1.2, h=0.7, fontsize=11)
    ax.text(
        0.0, ys["H"] - 0.55, "×".join(map(str, shapes["H0"])), ha="center", va="top", fontsize=8.5
    )
    for t in range(1, num_steps + 1):
        x = gap * t
        for name, y in ys.items():
            _box(
                ax,
                x,
                y,
                f"$\\mathbf{{{name}}}_{{{t}}}$",
                kind=kinds[name],
                w=1.2,
                h=0.7,
                fontsize=11,
            )
            ax.text(
                x + 0.68,
                y + (0.42 if name == "H" else 0.0),
                "×".join(map(str, shapes[name])),
                ha="left",
                va="bottom" if name == "H" else "center",
                fontsize=8.5,
            )
        _arrow(ax, (x, ys["X"] + 0.35), (x, ys["H"] - 0.35))
        _arrow(ax, (x, ys["H"] + 0.35), (x, ys["O"] - 0.35))
        _arrow(ax, (x - gap + 0.6, ys["H"]), (x - 0.6, ys["H"]), color="#3d85c6", lw=1.6)
        if t == 1:  # 参数在各时间步共享：只标一次
            ax.text(x - 0.12, 1.0, "$\\mathbf{W}_{xh}$", ha="right", va="center", fontsize=9)
            ax.text(x - 0.12, 3.0, "$\\mathbf{W}_{hq}$", ha="right", va="center", fontsize=9)
            ax.text(
                x - gap / 2,
                ys["H"] + 0.15,
                "$\\mathbf{W}_{hh}$",
                ha="center",
                va="bottom",
                fontsize=9,
                color="#3d85c6",
            )
    ax.text(
        (right - 1.0) / 2,
        -0.85,
        "各时间步共用 $\\mathbf{W}_{xh}$、$\\mathbf{W}_{hh}$、$\\mathbf{W}_{hq}$；"
        "蓝色箭头把隐状态传给下一个时间步",
        ha="center",
        fontsize=9,
    )
    return fig
