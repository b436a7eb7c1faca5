"""Xavier 与 Kaiming 初始化：权重的分布符合公式；Kaiming 初始化让深层 ReLU 网络的信号不衰减。"""

import math

import pytest
import torch
from torch import nn

from dlzh.models import init_kaiming_, init_xavier_


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


def test_init_kaiming_sets_variance_two_over_fan_in():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(16, 64, 3), nn.Flatten(), nn.Linear(1024, 512))
    bias_before = net[2].bias.detach().clone()
    assert init_kaiming_(net) is net
    for module, fan_in in [(net[0], 16 * 9), (net[2], 1024)]:
        assert module.weight.detach().std().item() == pytest.approx(math.sqrt(2 / fan_in), rel=0.05)
    assert torch.equal(net[2].bias, bias_before)  # 偏置保持默认值


def test_init_kaiming_keeps_deep_relu_signal_where_xavier_decays():
    """20 层 ReLU 网络：Kaiming 初始化下输出的尺度与输入同一量级，Xavier 下衰减约 2^(-10) 倍。"""
    torch.manual_seed(0)
    x = torch.randn(512, 256)

    def output_std(init):
        layers = [m for _ in range(20) for m in (nn.Linear(256, 256), nn.ReLU())]
        net = init(nn.Sequential(*layers))
        for m in net:
            if isinstance(m, nn.Linear):
                nn.init.zeros_(m.bias)
        with torch.no_grad():
            return net(x).std().item()

    assert 0.3 < output_std(init_kaiming_) < 3.0
    assert output_std(init_xavier_) < 0.01
