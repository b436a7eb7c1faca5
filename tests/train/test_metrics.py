"""dlzh.train.metrics：预测类别只有一个定义，训练准确率和测试准确率因此一致。"""

from __future__ import annotations

import torch
from torch import nn

from dlzh.data import TensorLoader
from dlzh.train import accuracy, correct_count, evaluate, fit, predict_labels


def test_predict_labels_for_each_output_kind():
    multi = torch.tensor([[0.1, 2.0, -1.0], [3.0, 0.0, 0.0]])
    assert predict_labels(multi).tolist() == [1, 0]
    single_column = torch.tensor([[2.0], [-0.5], [0.0]])  # 一个对数几率：z > 0 为正类
    assert predict_labels(single_column).tolist() == [1, 0, 0]
    assert predict_labels(single_column.squeeze(1)).tolist() == [1, 0, 0]
    assert predict_labels(torch.tensor([2, 0, 1])).tolist() == [2, 0, 1]  # 已经是类别下标


def test_correct_count_stays_on_device_and_accepts_float_binary_labels():
    logits = torch.tensor([[1.5], [-2.0], [0.3], [-0.1]])
    labels = torch.tensor([[1.0], [0.0], [0.0], [0.0]])  # BCEWithLogitsLoss 的 (B, 1) 浮点标签
    count = correct_count(logits, labels)
    assert isinstance(count, torch.Tensor) and count.ndim == 0 and int(count) == 3
    assert accuracy(logits, labels) == 0.75


def test_probability_targets_count_their_most_likely_class():
    logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    mixed = torch.tensor([[0.7, 0.3, 0.0], [0.6, 0.0, 0.4]])  # MixUp 之后的 (B, C) 目标
    assert int(correct_count(logits, mixed)) == 1


def test_single_logit_model_has_equal_train_and_test_accuracy():
    """单个对数几率的二分类：lr=0 时训练准确率与在同一数据上评估的准确率必须相同。

    以前训练时用 argmax(dim=1)（只有一列时永远是 0），评估时把对数几率直接转成整数比较，
    两者各算各的，都不对。
    """
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 2, generator=g)
    y = (x[:, 0] - 0.5 * x[:, 1] > 0).float().unsqueeze(1)  # (64, 1)
    torch.manual_seed(0)
    model = nn.Linear(2, 1)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[1.0, -0.4]]))  # 接近真实边界：准确率明显高于 0.5
        model.bias.zero_()
    loader = TensorLoader(x, y, 16)
    history = fit(
        model,
        loader,
        1,
        optimizer=torch.optim.SGD(model.parameters(), lr=0.0),
        loss_fn=nn.BCEWithLogitsLoss(),
        test_iter=loader,
        verbose=False,
    )
    expected = ((model(x) > 0).float() == y).float().mean().item()
    assert expected > 0.8
    assert history.last["train_acc"] == history.last["test_acc"] == expected
    assert evaluate(model, loader)["accuracy"] == expected
