"""GoogLeNet：Inception 块的通道拼接；整网在 96x96 上的逐模块形状与 d2l 一致。"""

import torch
import torch.nn.functional as F

from dlzh.models import Inception, create_googlenet


def test_inception_concatenates_four_paths():
    torch.manual_seed(0)
    block = Inception(192, 64, (96, 128), (16, 32), 32)
    x = torch.randn(2, 192, 12, 12)
    y = block(x)
    assert y.shape == (2, 256, 12, 12) and block.out_channels == 256
    # 前 c1 个通道就是路径 1（1x1 卷积 + ReLU）的输出；最后 c4 个通道是路径 4 的输出。
    torch.testing.assert_close(y[:, :64], F.relu(block.p1_1(x)))
    torch.testing.assert_close(y[:, -32:], F.relu(block.p4_2(block.p4_1(x))))


def test_googlenet_shapes_follow_d2l(layer_shapes):
    torch.manual_seed(0)
    net = create_googlenet()
    assert layer_shapes(net, torch.randn(2, 1, 96, 96)) == [
        (64, 24, 24), (192, 12, 12), (480, 6, 6), (832, 3, 3), (1024,), (10,)
    ]  # fmt: skip
