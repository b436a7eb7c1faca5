"""转置卷积：从零实现、与卷积矩阵的转置的关系，以及双线性插值的初始化。

卷积把一个窗口里的多个输入元素“汇总”成一个输出元素；转置卷积反过来，把**每一个**输入元素
乘以整个卷积核，“散布”到输出的一块区域上，重叠处相加。这里的实现按这个定义逐元素地写，
测试中与 ``nn.ConvTranspose2d`` 以及“对应卷积的梯度”逐个对照。
"""

from __future__ import annotations

import torch

__all__ = [
    "bilinear_kernel",
    "conv_matrix",
    "scatter_contributions",
    "trans_conv",
    "trans_conv2d",
    "trans_conv_output_size",
]


def trans_conv_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    """转置卷积一条边的输出长度 :math:`(n-1)s + k - 2p`（与 ``nn.ConvTranspose2d`` 相同，不含 output_padding）。"""
    return (size - 1) * stride + kernel - 2 * padding


def scatter_contributions(
    X: torch.Tensor, K: torch.Tensor, stride: int = 1
) -> list[tuple[tuple[int, int], torch.Tensor]]:
    """单通道转置卷积中每个输入元素的“散布”：返回 ``[((i, j), 贡献)]``，贡献与（未裁剪的）输出同形。

    第 (i, j) 个输入元素的贡献是 ``X[i, j] * K``，放在输出的 ``[i*s : i*s+kh, j*s : j*s+kw]`` 处，
    其余位置为 0。把所有贡献相加就是转置卷积的输出（填充为 0 时）。示意图用它画出每一项。
    """
    h, w = X.shape
    kh, kw = K.shape
    out_h = trans_conv_output_size(h, kh, stride)
    out_w = trans_conv_output_size(w, kw, stride)
    parts = []
    for i in range(h):
        for j in range(w):
            Y = torch.zeros(out_h, out_w, dtype=torch.result_type(X, K))
            Y[i * stride : i * stride + kh, j * stride : j * stride + kw] = X[i, j] * K
            parts.append(((i, j), Y))
    return parts


def trans_conv(X: torch.Tensor, K: torch.Tensor, stride: int = 1, padding: int = 0) -> torch.Tensor:
    """单通道二维转置卷积（从零实现）：``X`` 形状 ``(h, w)``，``K`` 形状 ``(kh, kw)``。

    先把每个输入元素散布到 ``(h-1)s+kh`` × ``(w-1)s+kw`` 的输出上并相加；
    填充 ``p`` 在转置卷积里的作用与卷积相反：从输出的四周各**删去** ``p`` 行/列。
    """
    h, w = X.shape
    kh, kw = K.shape
    Y = torch.zeros(
        trans_conv_output_size(h, kh, stride),
        trans_conv_output_size(w, kw, stride),
        dtype=torch.result_type(X, K),
    )  # (H', W')
    for i in range(h):
        for j in range(w):
            Y[i * stride : i * stride + kh, j * stride : j * stride + kw] += X[i, j] * K
    if padding:
        Y = Y[padding:-padding, padding:-padding]
    return Y


def trans_conv2d(
    X: torch.Tensor, weight: torch.Tensor, stride: int = 1, padding: int = 0
) -> torch.Tensor:
    """多通道、小批量的转置卷积（从零实现），权重布局与 ``nn.ConvTranspose2d`` 相同。

    ``X``：``(B, C_in, h, w)``；``weight``：``(C_in, C_out, kh, kw)``。每个位置 (i, j) 上，
    ``B×C_in`` 的输入向量乘以权重得到 ``B×C_out×kh×kw`` 的一块，加到输出的对应窗口上。
    """
    b, _, h, w = X.shape
    _, c_out, kh, kw = weight.shape
    Y = X.new_zeros(
        b, c_out, trans_conv_output_size(h, kh, stride), trans_conv_output_size(w, kw, stride)
    )  # (B, C_out, H', W')
    for i in range(h):
        for j in range(w):
            block = torch.einsum("bc,cokl->bokl", X[:, :, i, j], weight)  # (B, C_out, kh, kw)
            Y[:, :, i * stride : i * stride + kh, j * stride : j * stride + kw] += block
    if padding:
        Y = Y[:, :, padding:-padding, padding:-padding]
    return Y


def conv_matrix(K: torch.Tensor, input_shape: tuple[int, int]) -> torch.Tensor:
    """把“无填充、步幅 1 的互相关”写成矩阵：``corr2d(X, K).reshape(-1) == W @ X.reshape(-1)``。

    ``W`` 的形状是 ``(输出元素数, 输入元素数)``。它的转置 ``W.T`` 把输出形状的张量映射回输入形状，
    这正是同一个卷积核的转置卷积——“转置”一词的来历。
    """
    h, w = input_shape
    kh, kw = K.shape
    oh, ow = h - kh + 1, w - kw + 1
    W = torch.zeros(oh * ow, h * w, dtype=K.dtype)
    for r in range(oh):
        for c in range(ow):
            row = torch.zeros(h, w, dtype=K.dtype)
            row[r : r + kh, c : c + kw] = K
            W[r * ow + c] = row.reshape(-1)
    return W


def bilinear_kernel(in_channels: int, out_channels: int, kernel_size: int) -> torch.Tensor:
    """双线性插值的转置卷积核，形状 ``(in_channels, out_channels, k, k)``（d2l 的写法）。

    只有对角的通道对 (c, c) 非零：每个通道各自上采样，不混合通道。取 ``k = 2s``、
    步幅 ``s``、填充 ``s/2`` 时，转置卷积把高宽放大 ``s`` 倍，且在远离边界的内部与
    ``F.interpolate(mode="bilinear", align_corners=False)`` 完全相同（边界处转置卷积相当于在
    图像外补 0，而 ``interpolate`` 复制边界像素，所以最外的 s/2 圈不同；测试中核对了这一点）。
    """
    factor = (kernel_size + 1) // 2
    center = factor - 1 if kernel_size % 2 == 1 else factor - 0.5
    og = (
        torch.arange(kernel_size).reshape(-1, 1),
        torch.arange(kernel_size).reshape(1, -1),
    )
    filt = (1 - torch.abs(og[0] - center) / factor) * (1 - torch.abs(og[1] - center) / factor)
    weight = torch.zeros(in_channels, out_channels, kernel_size, kernel_size)
    n = min(in_channels, out_channels)
    weight[range(n), range(n), :, :] = filt
    return weight
