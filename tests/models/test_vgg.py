"""VGG：VGG 块减半尺寸；VGG-11 的结构；d2l 在 Fashion-MNIST 上用的 1/4 通道版本。"""

import pytest
import torch
from torch import nn

from dlzh.models import create_vgg, vgg_block


def test_vgg_block_halves_spatial_size():
    block = vgg_block(2, 3, 8)
    assert sum(isinstance(m, nn.Conv2d) for m in block) == 2
    assert block(torch.randn(2, 3, 16, 16)).shape == (2, 8, 8, 8)


def test_vgg11_structure_at_small_input(layer_shapes):
    # 完整宽度的 VGG-11 在 224 上太慢；结构（8 个卷积层、5 个块、通道数）与输入尺寸无关。
    torch.manual_seed(0)
    net = create_vgg(image_size=32).eval()
    assert sum(isinstance(m, nn.Conv2d) for m in net.modules()) == 8
    assert layer_shapes(net, torch.randn(1, 1, 32, 32))[:6] == [
        (64, 16, 16), (128, 8, 8), (256, 4, 4), (512, 2, 2), (512, 1, 1), (512,)
    ]  # fmt: skip


def test_slim_vgg_at_224_follows_d2l(layer_shapes):
    torch.manual_seed(0)
    net = create_vgg(width_divisor=4).eval()
    shapes = layer_shapes(net, torch.randn(1, 1, 224, 224))
    assert shapes[:6] == [
        (16, 112, 112),
        (32, 56, 56),
        (64, 28, 28),
        (128, 14, 14),
        (128, 7, 7),
        (6272,),
    ]
    assert shapes[-1] == (10,)
    assert net[6].out_features == 4096  # d2l 只缩减卷积通道，全连接层仍是 4096 维
    with pytest.raises(ValueError):
        create_vgg(image_size=16)
