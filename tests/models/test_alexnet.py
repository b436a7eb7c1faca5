"""AlexNet：逐层输出形状与 d2l 打印的一致（224x224 单通道输入），宽度缩减与其他输入尺寸。"""

import pytest
import torch
from torch import nn

from dlzh.models import create_alexnet


def test_alexnet_layer_shapes_follow_d2l(layer_shapes):
    torch.manual_seed(0)
    net = create_alexnet().eval()
    shapes = layer_shapes(net, torch.randn(1, 1, 224, 224))
    convs_and_pools = [
        s for s, m in zip(shapes, net, strict=True) if isinstance(m, nn.Conv2d | nn.MaxPool2d)
    ]
    assert convs_and_pools == [
        (96, 54, 54), (96, 26, 26), (256, 26, 26), (256, 12, 12),
        (384, 12, 12), (384, 12, 12), (256, 12, 12), (256, 5, 5),
    ]  # fmt: skip
    assert shapes[-1] == (10,)
    assert (6400,) in shapes and (4096,) in shapes
    assert sum(isinstance(m, nn.Dropout) for m in net) == 2


def test_alexnet_width_divisor_and_image_size():
    torch.manual_seed(0)
    net = create_alexnet(width_divisor=4, image_size=112, num_classes=7)
    first = net[0]
    assert first.out_channels == 24
    assert net(torch.randn(2, 1, 112, 112)).shape == (2, 7)
    with pytest.raises(ValueError):
        create_alexnet(image_size=32)
