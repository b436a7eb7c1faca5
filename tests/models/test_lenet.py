"""LeNet 与批量归一化 LeNet：形状、结构，以及注入从零实现的批量归一化后与 nn 版本逐元素一致。"""

import torch
from torch import nn

from dlzh.models import BatchNormScratch, create_lenet, create_lenet_bn


def test_lenet_shapes_follow_d2l():
    torch.manual_seed(0)
    net = create_lenet()
    x = torch.randn(2, 1, 28, 28)
    shapes = []
    for layer in net:
        x = layer(x)
        shapes.append(tuple(x.shape[1:]))
    assert shapes == [
        (6, 28, 28), (6, 28, 28), (6, 14, 14),
        (16, 10, 10), (16, 10, 10), (16, 5, 5),
        (400,), (120,), (120,), (84,), (84,), (10,),
    ]  # fmt: skip
    assert sum(isinstance(m, nn.Sigmoid) for m in net) == 4
    assert sum(isinstance(m, nn.AvgPool2d) for m in net) == 2
    assert create_lenet(in_channels=3, num_classes=5)(torch.randn(2, 3, 28, 28)).shape == (2, 5)


def test_lenet_bn_uses_torch_batch_norm_by_default():
    torch.manual_seed(0)
    net = create_lenet_bn()
    assert [type(m) for m in net if "BatchNorm" in type(m).__name__] == [
        nn.BatchNorm2d, nn.BatchNorm2d, nn.BatchNorm1d, nn.BatchNorm1d
    ]  # fmt: skip
    assert net(torch.randn(2, 1, 28, 28)).shape == (2, 10)


def test_lenet_bn_with_scratch_norm_matches_torch():
    torch.manual_seed(0)
    ref = create_lenet_bn()
    ours = create_lenet_bn(norm_layer=BatchNormScratch)
    assert sum(isinstance(m, BatchNormScratch) for m in ours) == 4
    ours.load_state_dict(ref.state_dict())  # 参数和缓冲区的名字、形状都相同
    opt_ref = torch.optim.SGD(ref.parameters(), lr=0.5)
    opt_ours = torch.optim.SGD(ours.parameters(), lr=0.5)
    g = torch.Generator().manual_seed(1)
    for _ in range(3):  # 训练几步：输出、梯度更新和滑动统计量都应一致
        x, y = torch.randn(8, 1, 28, 28, generator=g), torch.randint(0, 10, (8,), generator=g)
        for net, opt in [(ref, opt_ref), (ours, opt_ours)]:
            loss = nn.functional.cross_entropy(net(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
    for (name, a), b in zip(ref.state_dict().items(), ours.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5, msg=name)
    ref.eval()
    ours.eval()
    x = torch.randn(4, 1, 28, 28, generator=g)
    torch.testing.assert_close(ours(x), ref(x), atol=1e-5, rtol=1e-5)
