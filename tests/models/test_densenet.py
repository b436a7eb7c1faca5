"""DenseNet：稠密块拼接输入、过渡层减半；整网在 96x96 上的通道数与 d2l 一致。"""

import torch
from torch import nn

from dlzh.models import DenseBlock, create_densenet, transition_block


def test_dense_block_concatenates_as_in_d2l():
    torch.manual_seed(0)
    blk = DenseBlock(2, 3, 10)
    x = torch.randn(4, 3, 8, 8)
    y = blk(x)
    assert y.shape == (4, 23, 8, 8) and blk.out_channels == 23
    torch.testing.assert_close(y[:, :3], x)  # 输入原样保留在输出的前几个通道
    assert transition_block(23, 10)(y).shape == (4, 10, 4, 4)


def test_densenet_channels_and_shapes(layer_shapes):
    torch.manual_seed(0)
    net = create_densenet()
    dense = [m for m in net if isinstance(m, DenseBlock)]
    assert [b.out_channels for b in dense] == [192, 224, 240, 248]
    shapes = layer_shapes(net, torch.randn(2, 1, 96, 96))
    assert shapes[:8] == [
        (64, 24, 24), (192, 24, 24), (96, 12, 12), (224, 12, 12),
        (112, 6, 6), (240, 6, 6), (120, 3, 3), (248, 3, 3),
    ]  # fmt: skip
    assert shapes[-1] == (10,)
    assert isinstance(net[-3], nn.AdaptiveAvgPool2d) and isinstance(net[-2], nn.Flatten)
    assert net[-1].in_features == 248
