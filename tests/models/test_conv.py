"""从零实现的互相关、多通道卷积和汇聚：与 F.conv2d、nn.MaxPool2d、nn.AvgPool2d 逐元素对照。"""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dlzh.models import (
    Conv2DScratch,
    corr2d,
    corr2d_multi_in,
    corr2d_multi_in_out,
    corr2d_multi_in_out_1x1,
    pool2d,
)


def test_corr2d_d2l_example():
    X = torch.arange(9.0).reshape(3, 3)
    K = torch.arange(4.0).reshape(2, 2)
    assert torch.equal(corr2d(X, K), torch.tensor([[19.0, 25.0], [37.0, 43.0]]))


@pytest.mark.parametrize("shape, kernel", [((6, 8), (1, 2)), ((7, 5), (3, 3)), ((4, 4), (4, 1))])
def test_corr2d_matches_conv2d(shape, kernel):
    g = torch.Generator().manual_seed(0)
    X, K = torch.randn(shape, generator=g), torch.randn(kernel, generator=g)
    expected = F.conv2d(X[None, None], K[None, None])[0, 0]  # conv2d 也是互相关，核不翻转
    torch.testing.assert_close(corr2d(X, K), expected)


def test_corr2d_is_differentiable_in_kernel():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(5, 6, generator=g)
    K = torch.randn(2, 3, generator=g, requires_grad=True)
    K_ref = K.detach().clone().requires_grad_()
    corr2d(X, K).pow(2).sum().backward()
    F.conv2d(X[None, None], K_ref[None, None]).pow(2).sum().backward()
    torch.testing.assert_close(K.grad, K_ref.grad)


def test_multi_in_and_multi_out_match_conv2d():
    g = torch.Generator().manual_seed(1)
    X = torch.randn(3, 6, 5, generator=g)  # (c_i, h, w)
    K = torch.randn(4, 3, 2, 3, generator=g)  # (c_o, c_i, kh, kw)
    expected = F.conv2d(X[None], K)[0]  # (c_o, 5, 3)
    torch.testing.assert_close(corr2d_multi_in(X, K[0]), expected[0])
    torch.testing.assert_close(corr2d_multi_in_out(X, K), expected)
    with pytest.raises(ValueError):
        corr2d_multi_in(X, K[0, :2])


def test_1x1_conv_is_a_matrix_multiply():
    g = torch.Generator().manual_seed(2)
    X = torch.randn(3, 4, 5, generator=g)
    K = torch.randn(2, 3, 1, 1, generator=g)
    by_matmul = corr2d_multi_in_out_1x1(X, K)
    assert by_matmul.shape == (2, 4, 5)
    torch.testing.assert_close(by_matmul, corr2d_multi_in_out(X, K))
    torch.testing.assert_close(by_matmul, F.conv2d(X[None], K)[0])


@pytest.mark.parametrize("pool_size", [(2, 2), (3, 2), (1, 3)])
def test_pool2d_matches_torch_pooling(pool_size):
    g = torch.Generator().manual_seed(3)
    X = torch.randn(5, 6, generator=g)
    max_ref = nn.MaxPool2d(pool_size, stride=1)(X[None, None])[0, 0]
    avg_ref = nn.AvgPool2d(pool_size, stride=1)(X[None, None])[0, 0]
    torch.testing.assert_close(pool2d(X, pool_size, "max"), max_ref)
    torch.testing.assert_close(pool2d(X, pool_size, "avg"), avg_ref)
    with pytest.raises(ValueError):
        pool2d(X, pool_size, "min")


def test_conv2d_scratch_matches_nn_conv2d_and_learns_edge_kernel():
    torch.manual_seed(0)
    layer = Conv2DScratch((1, 2))
    ref = nn.Conv2d(1, 1, kernel_size=(1, 2))
    with torch.no_grad():
        ref.weight.copy_(layer.weight[None, None])
        ref.bias.copy_(layer.bias)
    X = torch.ones(6, 8)
    X[:, 2:6] = 0
    torch.testing.assert_close(layer(X), ref(X[None, None])[0, 0])
    assert "kernel_size=(1, 2)" in repr(layer)

    # d2l：由输入和边缘检测的输出学出核 [1, -1]。
    Y = corr2d(X, torch.tensor([[1.0, -1.0]]))
    # 损失是 42 个输出的平方和，偏置方向的曲率为 84，学习率要小于 2/84，否则发散。
    optimizer = torch.optim.SGD(layer.parameters(), lr=0.01)
    for _ in range(40):
        loss = (layer(X) - Y).pow(2).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    torch.testing.assert_close(
        layer.weight.detach(), torch.tensor([[1.0, -1.0]]), atol=0.05, rtol=0
    )
