"""ResNet：残差块（有无 1x1 卷积）的形状与恒等连接；ResNet-18 的结构和 96x96 上的形状。"""

import torch
import torch.nn.functional as F
from torch import nn

from dlzh.models import Residual, create_resnet18, resnet_block


def test_residual_shapes_as_in_d2l():
    torch.manual_seed(0)
    x = torch.randn(4, 3, 6, 6)
    assert Residual(3, 3)(x).shape == (4, 3, 6, 6)
    blk = Residual(3, 6, use_1x1conv=True, strides=2)
    assert blk(x).shape == (4, 6, 3, 3)
    assert blk.conv3 is not None and blk.conv3.kernel_size == (1, 1)
    assert Residual(3, 3).conv3 is None


def test_residual_with_zeroed_branch_is_relu_of_shortcut():
    # 把主路径最后的批量归一化的 gamma、beta 置零，残差为 0，块退化为 relu(shortcut(x))：
    # 这正是“新加的层至少不会更差”的原因——学成恒等映射只需把残差推向 0。
    torch.manual_seed(0)
    x = torch.randn(2, 4, 8, 8)
    blk = Residual(4, 4)
    nn.init.zeros_(blk.bn2.weight)
    nn.init.zeros_(blk.bn2.bias)
    torch.testing.assert_close(blk(x), F.relu(x))
    down = Residual(4, 8, use_1x1conv=True, strides=2)
    nn.init.zeros_(down.bn2.weight)
    nn.init.zeros_(down.bn2.bias)
    torch.testing.assert_close(down(x), F.relu(down.conv3(x)))


def test_resnet_block_downsamples_except_first():
    assert resnet_block(64, 64, 2, first_block=True)[0].conv3 is None
    first = resnet_block(64, 128, 2)[0]
    assert first.conv3 is not None and first.conv1.stride == (2, 2)


def test_resnet18_structure_and_shapes(layer_shapes):
    torch.manual_seed(0)
    net = create_resnet18()
    weighted = [m for m in net.modules() if isinstance(m, nn.Conv2d | nn.Linear)]
    # 18 层 = 1 个 7x7 卷积 + 16 个 3x3 卷积 + 1 个全连接层（另有 3 个 1x1 卷积在捷径上）
    assert sum(1 for m in weighted if getattr(m, "kernel_size", (3, 3)) != (1, 1)) == 18
    assert layer_shapes(net, torch.randn(2, 1, 96, 96)) == [
        (64, 24, 24), (64, 24, 24), (128, 12, 12), (256, 6, 6), (512, 3, 3),
        (512, 1, 1), (512,), (10,),
    ]  # fmt: skip
    assert isinstance(net[-3], nn.AdaptiveAvgPool2d) and isinstance(net[-1], nn.Linear)
    other = create_resnet18(in_channels=3, num_classes=100)
    assert other(torch.randn(2, 3, 32, 32)).shape == (2, 100)
