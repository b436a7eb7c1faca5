"""转置卷积：从零实现 == nn.ConvTranspose2d == 对应卷积的梯度；卷积矩阵的转置；双线性初始化。"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dlzh.models.conv import corr2d
from dlzh.vision.transposed import (
    bilinear_kernel,
    conv_matrix,
    scatter_contributions,
    trans_conv,
    trans_conv2d,
    trans_conv_output_size,
)


def test_d2l_example():
    X = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
    K = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
    expected = torch.tensor([[0.0, 0.0, 1.0], [0.0, 4.0, 6.0], [4.0, 12.0, 9.0]])
    assert torch.equal(trans_conv(X, K), expected)
    assert torch.equal(sum(p for _, p in scatter_contributions(X, K)), expected)


@pytest.mark.parametrize(("stride", "padding"), [(1, 0), (1, 1), (2, 0), (2, 1), (3, 1)])
def test_single_channel_matches_conv_transpose2d(stride, padding):
    g = torch.Generator().manual_seed(stride * 10 + padding)
    X = torch.randn(4, 5, generator=g, dtype=torch.float64)
    K = torch.randn(3, 3, generator=g, dtype=torch.float64)
    tconv = nn.ConvTranspose2d(1, 1, 3, stride=stride, padding=padding, bias=False).double()
    tconv.weight.data = K.reshape(1, 1, 3, 3)
    ref = tconv(X.reshape(1, 1, 4, 5))[0, 0]
    ours = trans_conv(X, K, stride=stride, padding=padding)
    assert ours.shape == ref.shape
    assert ours.shape[0] == trans_conv_output_size(4, 3, stride, padding)
    torch.testing.assert_close(ours, ref)


@pytest.mark.parametrize(("stride", "padding"), [(1, 0), (2, 1), (4, 2)])
def test_multi_channel_matches_functional(stride, padding):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(2, 3, 5, 4, generator=g, dtype=torch.float64)
    W = torch.randn(3, 2, 4, 4, generator=g, dtype=torch.float64)
    ref = F.conv_transpose2d(X, W, stride=stride, padding=padding)
    torch.testing.assert_close(trans_conv2d(X, W, stride, padding), ref)


@pytest.mark.parametrize(("stride", "padding"), [(1, 0), (2, 0), (2, 1), (3, 2)])
def test_equals_gradient_of_the_matching_convolution(stride, padding):
    # 卷积 Y = conv(X, W)；对任意 G，<Y, G> 对 X 的梯度就是 G 的转置卷积（同一个 W、步幅、填充）。
    g = torch.Generator().manual_seed(1)
    W = torch.randn(2, 3, 3, 3, generator=g, dtype=torch.float64)  # conv：(C_out=2, C_in=3)
    n = (5 - 1) * stride + 3 - 2 * padding  # 取让卷积恰好覆盖的输入大小
    X = torch.randn(1, 3, n, n, generator=g, dtype=torch.float64, requires_grad=True)
    Y = F.conv2d(X, W, stride=stride, padding=padding)
    assert Y.shape[-1] == 5
    G = torch.randn(Y.shape, generator=g, dtype=torch.float64)
    (grad,) = torch.autograd.grad((Y * G).sum(), X)
    # 转置卷积的权重布局 (C_in, C_out) 正好是卷积权重 (2, 3) 的“输入通道=2”。
    ours = trans_conv2d(G, W, stride, padding)
    torch.testing.assert_close(ours, grad)


def test_conv_matrix_and_its_transpose():
    g = torch.Generator().manual_seed(2)
    X = torch.randn(3, 4, generator=g, dtype=torch.float64)
    K = torch.randn(2, 2, generator=g, dtype=torch.float64)
    W = conv_matrix(K, (3, 4))
    assert W.shape == (2 * 3, 12)
    torch.testing.assert_close(W @ X.reshape(-1), corr2d(X, K).reshape(-1))
    Y = torch.randn(2, 3, generator=g, dtype=torch.float64)
    torch.testing.assert_close((W.T @ Y.reshape(-1)).reshape(3, 4), trans_conv(Y, K))


@pytest.mark.parametrize("s", [2, 4, 8, 32])
def test_bilinear_kernel_equals_interpolate_in_the_interior(s):
    X = torch.rand(1, 3, 6, 7, generator=torch.Generator().manual_seed(s))
    Y = F.conv_transpose2d(X, bilinear_kernel(3, 3, 2 * s), stride=s, padding=s // 2)
    R = F.interpolate(X, scale_factor=s, mode="bilinear", align_corners=False)
    assert Y.shape == R.shape == (1, 3, 6 * s, 7 * s)
    m = s // 2
    torch.testing.assert_close(Y[..., m:-m, m:-m], R[..., m:-m, m:-m], atol=1e-5, rtol=0)
    # 最外 s/2 圈不同：转置卷积相当于在图像外补 0，interpolate 复制边界像素。
    assert (Y[..., 0, :] - R[..., 0, :]).abs().max() > 1e-3


def test_bilinear_kernel_does_not_mix_channels():
    W = bilinear_kernel(3, 3, 4)
    assert W[0, 1].abs().sum() == 0 and W[1, 1].sum() > 0
    torch.testing.assert_close(W[0, 0], W[2, 2])
