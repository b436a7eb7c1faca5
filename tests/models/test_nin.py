"""NiN：逐层形状与 d2l 一致；没有全连接层，最后一个块直接输出类别数个通道。"""

import torch
from torch import nn

from dlzh.models import create_nin, nin_block


def test_nin_block_keeps_size_with_1x1_convs():
    block = nin_block(3, 8, kernel_size=3, stride=1, padding=1)
    assert [m.kernel_size for m in block if isinstance(m, nn.Conv2d)] == [(3, 3), (1, 1), (1, 1)]
    assert block(torch.randn(2, 3, 10, 10)).shape == (2, 8, 10, 10)


def test_nin_layer_shapes_follow_d2l(layer_shapes):
    torch.manual_seed(0)
    net = create_nin().eval()
    assert layer_shapes(net, torch.randn(1, 1, 224, 224)) == [
        (96, 54, 54), (96, 26, 26), (256, 26, 26), (256, 12, 12), (384, 12, 12),
        (384, 5, 5), (384, 5, 5), (10, 5, 5), (10, 1, 1), (10,),
    ]  # fmt: skip
    assert not any(isinstance(m, nn.Linear) for m in net.modules())
    assert create_nin(num_classes=4)(torch.randn(2, 1, 96, 96)).shape == (2, 4)
