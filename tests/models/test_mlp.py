"""多层感知机与从零实现的 ReLU、暂退法：对照 torch.relu，并检查暂退法的统计性质。"""

import pytest
import torch
from torch import nn

from dlzh.models import DropoutScratch, create_mlp, dropout_layer, relu


def test_relu_matches_torch_including_gradient():
    x = torch.randn(64, generator=torch.Generator().manual_seed(0), requires_grad=True)
    y = x.detach().clone().requires_grad_()
    relu(x).sum().backward()
    torch.relu(y).sum().backward()
    torch.testing.assert_close(relu(x), torch.relu(y))
    torch.testing.assert_close(x.grad, y.grad)


def test_dropout_edge_cases():
    x = torch.randn(4, 5, generator=torch.Generator().manual_seed(0))
    assert torch.equal(dropout_layer(x, 0.0), x)
    assert torch.equal(dropout_layer(x, 1.0), torch.zeros_like(x))
    with pytest.raises(ValueError):
        dropout_layer(x, 1.5)
    with pytest.raises(ValueError):
        DropoutScratch(-0.1)


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_dropout_zero_fraction_and_expectation(p):
    g = torch.Generator().manual_seed(1)
    x = torch.rand(1000, generator=g) + 0.5  # 全部非零，便于数零
    samples = torch.stack([dropout_layer(x, p, generator=g) for _ in range(400)])  # (400, 1000)
    zero_fraction = (samples == 0).float().mean().item()
    assert zero_fraction == pytest.approx(p, abs=0.01)
    # 保留下来的元素恰好被放大为 x / (1 - p)。
    kept = samples != 0
    torch.testing.assert_close(samples[kept], (x / (1 - p)).expand_as(samples)[kept])
    # 倒置暂退法保持期望：400 次采样的平均值逐元素接近 x。单次采样的相对标准差是
    # sqrt(p / (1 - p))，平均 n 次后再除以 sqrt(n)；正态误差的平均绝对值约为 0.8 个标准差。
    mean = samples.mean(dim=0)
    sigma = (p / (1 - p) / len(samples)) ** 0.5
    assert ((mean - x) / x).abs().mean().item() < 1.2 * sigma
    assert mean.mean().item() == pytest.approx(x.mean().item(), rel=0.01)


def test_dropout_scratch_respects_train_and_eval_mode():
    torch.manual_seed(0)
    layer = DropoutScratch(0.5)
    x = torch.ones(10_000)
    out = layer(x)
    assert set(out.unique().tolist()) == {0.0, 2.0}
    layer.eval()
    assert torch.equal(layer(x), x)
    assert "p=0.5" in repr(layer)


def test_create_mlp_shapes_and_structure():
    torch.manual_seed(0)
    net = create_mlp()
    assert net(torch.randn(2, 1, 28, 28)).shape == (2, 10)
    linears = [m for m in net if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(784, 256), (256, 10)]
    # d2l 的初始化：权重 N(0, 0.01^2)。
    assert linears[0].weight.std().item() == pytest.approx(0.01, rel=0.05)

    deep = create_mlp(hidden=(256, 256), dropout=(0.2, 0.5))
    assert [m.p for m in deep if isinstance(m, nn.Dropout)] == [0.2, 0.5]
    assert deep(torch.randn(3, 784)).shape == (3, 10)
    with pytest.raises(ValueError):
        create_mlp(hidden=(256, 256), dropout=(0.5,))


def test_mlp_with_scratch_dropout_matches_nn_dropout_in_eval_mode():
    torch.manual_seed(0)
    net = create_mlp(hidden=(64, 32), dropout=(0.2, 0.5), dropout_module=DropoutScratch)
    assert sum(isinstance(m, DropoutScratch) for m in net) == 2
    plain = create_mlp(hidden=(64, 32), dropout=(0.2, 0.5))  # nn.Dropout 版本
    plain.load_state_dict(net.state_dict())  # 暂退层没有参数，两个网络的 state_dict 相同
    plain.eval()
    x = torch.randn(8, 1, 28, 28)
    net.eval()
    torch.testing.assert_close(net(x), plain(x))
    net.train()
    assert not torch.allclose(net(x), plain(x))
