"""Xavier 初始化：权重落在 Xavier 均匀分布的范围内，方差符合公式。"""

import math

import pytest
import torch
from torch import nn

from dlzh.models import init_xavier_


def test_init_xavier_sets_linear_and_conv_weights():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(16, 32, 3), nn.Flatten(), nn.Linear(512, 256))
    bias_before = net[2].bias.detach().clone()
    assert init_xavier_(net) is net
    for module, fan_in, fan_out in [(net[0], 16 * 9, 32 * 9), (net[2], 512, 256)]:
        bound = math.sqrt(6 / (fan_in + fan_out))
        w = module.weight.detach()
        assert w.abs().max().item() <= bound
        # 均匀分布 U(-a, a) 的标准差是 a / sqrt(3)。
        assert w.std().item() == pytest.approx(bound / math.sqrt(3), rel=0.05)
    assert torch.equal(net[2].bias, bias_before)  # 偏置保持默认值
