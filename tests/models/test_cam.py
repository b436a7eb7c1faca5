"""类激活映射：einsum 定义、“CAM 的平均值 = 对数几率 - 偏置”这一恒等式，
以及在一个合成定位任务上训练后，CAM 的峰值确实落在目标上。"""

import pytest
import torch
from torch import nn

from dlzh.data import TensorLoader
from dlzh.models import (
    class_activation_map,
    compute_cam,
    create_densenet,
    create_googlenet,
    create_nin,
    create_resnet18,
    split_gap_model,
    upsample_cam,
)
from dlzh.train import fit

PATCH = 6


def _tiny_gap_net(num_classes: int = 2) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),  # (B, 16, 32, 32)
        nn.ReLU(),
        nn.MaxPool2d(2),  # (B, 16, 16, 16)：让 CAM 的分辨率低于图像，检验上采样
        nn.Conv2d(16, 32, 3, padding=1),  # (B, 32, 16, 16)
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),  # (B, 32, 1, 1)
        nn.Flatten(),  # (B, 32)
        nn.Linear(32, num_classes),  # (B, num_classes)
    )


def _striped_patches(n: int, seed: int):
    """32x32 的暗背景图像（弱噪声），随机位置放一个 6x6 的条纹块：
    类别 0 是横条纹，类别 1 是竖条纹。返回图像、标签和块左上角的行列坐标。

    类别由块的**内容**决定而不是位置：卷积 + 全局平均汇聚对平移近似不变，
    “块在左半边还是右半边”这种只靠位置区分的任务，它只能借助边缘填充勉强学习。
    """
    g = torch.Generator().manual_seed(seed)
    images = 0.05 * torch.randn(n, 1, 32, 32, generator=g)
    labels = torch.randint(0, 2, (n,), generator=g)
    rows = torch.randint(0, 32 - PATCH + 1, (n,), generator=g)
    cols = torch.randint(0, 32 - PATCH + 1, (n,), generator=g)
    stripes = (torch.arange(PATCH) % 2 == 0).float()  # (6,)
    horizontal = stripes[:, None].expand(PATCH, PATCH)  # 隔行亮
    vertical = stripes[None, :].expand(PATCH, PATCH)  # 隔列亮
    for i in range(n):
        r, c = int(rows[i]), int(cols[i])
        images[i, 0, r : r + PATCH, c : c + PATCH] += horizontal if labels[i] == 0 else vertical
    return images, labels, rows, cols


def test_class_activation_map_matches_definition():
    g = torch.Generator().manual_seed(0)
    features = torch.randn(3, 5, 4, 6, generator=g)
    weight = torch.randn(7, 5, generator=g)
    class_idx = torch.tensor([0, 6, 3])
    cam = class_activation_map(features, weight, class_idx)
    assert cam.shape == (3, 4, 6)
    for b in range(3):
        expected = sum(weight[class_idx[b], c] * features[b, c] for c in range(5))
        torch.testing.assert_close(cam[b], expected)


def test_cam_mean_equals_logit_minus_bias():
    # CAM 成立的原因：平均汇聚与全连接层都是线性的，可以交换次序。
    torch.manual_seed(0)
    model = _tiny_gap_net(num_classes=5).eval()
    x = torch.randn(4, 1, 32, 32)
    features_net, fc = split_gap_model(model)
    features = features_net(x)  # (4, 32, 16, 16)
    logits = model(x)  # (4, 5)
    for k in range(5):
        cam = class_activation_map(features, fc.weight, torch.full((4,), k))
        torch.testing.assert_close(
            cam.mean(dim=(1, 2)), logits[:, k] - fc.bias[k], atol=1e-5, rtol=1e-5
        )


def test_upsample_cam_is_normalized_per_image():
    cam = torch.zeros(3, 4, 4)
    cam[0, 1, 2] = 5.0
    cam[1] = torch.arange(16.0).reshape(4, 4) - 100.0
    up = upsample_cam(cam, (32, 32))
    assert up.shape == (3, 32, 32)
    for b in range(2):
        assert up[b].min().item() == pytest.approx(0.0) and up[b].max().item() == pytest.approx(1.0)
    assert torch.equal(up[2], torch.zeros(32, 32))  # 常数图没有“热点”
    peak = int(up[0].argmax())
    assert (peak // 32) // 8 == 1 and (peak % 32) // 8 == 2  # 峰值仍在原来那个格子里


@pytest.mark.parametrize("create", [create_resnet18, create_googlenet, create_densenet])
def test_split_gap_model_reproduces_book_networks(create):
    torch.manual_seed(0)
    model = create().eval()
    x = torch.randn(2, 1, 32, 32)
    features_net, fc = split_gap_model(model)
    features = features_net(x)  # (2, C, h, w)
    assert features.dim() == 4 and fc.weight.shape == (10, features.shape[1])
    torch.testing.assert_close(fc(features.mean(dim=(2, 3))), model(x), atol=1e-5, rtol=1e-5)
    assert fc is [m for m in model.modules() if isinstance(m, nn.Linear)][-1]  # 共享，不是复制


def test_split_gap_model_rejects_other_structures():
    with pytest.raises(ValueError):
        split_gap_model(create_nin())  # NiN 以汇聚层结尾，没有全连接层
    with pytest.raises(ValueError):
        split_gap_model(nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2, 2)))


def test_cam_localizes_the_object_after_training():
    # 只有两个类别时，网络也可能靠“没有横条纹”来判定竖条纹（负证据），这时竖条纹类的 CAM
    # 在目标处反而最小。16/32 个通道、学习率 0.003 训练 6 轮时，两类都学到了正向特征：
    # 在 30 组不同的种子上，准确率和 CAM 命中率都是 100%。
    torch.manual_seed(0)
    train_x, train_y, _, _ = _striped_patches(384, seed=0)
    test_x, test_y, rows, cols = _striped_patches(100, seed=1)
    model = _tiny_gap_net()
    loader = TensorLoader(train_x, train_y, 32, shuffle=True, seed=0)
    history = fit(
        model,
        loader,
        6,
        optimizer=torch.optim.Adam(model.parameters(), lr=0.003),
        device="cpu",
        verbose=False,
    )
    assert history.last["train_acc"] > 0.9
    model.train()  # compute_cam 应临时切到评估模式并恢复原模式
    cams, predicted = compute_cam(model, test_x)
    assert model.training
    assert cams.shape == (100, 32, 32)
    assert (predicted == test_y).float().mean().item() >= 0.9
    peak = cams.flatten(1).argmax(dim=1)  # (100,)
    peak_row, peak_col = peak // 32, peak % 32
    margin = 3
    inside = (
        (peak_row >= rows - margin)
        & (peak_row <= rows + PATCH - 1 + margin)
        & (peak_col >= cols - margin)
        & (peak_col <= cols + PATCH - 1 + margin)
    )
    assert inside.float().mean().item() >= 0.9
