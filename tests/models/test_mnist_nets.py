"""dlzh.models.mnist_nets：FedAvg 论文的两个模型，参数量与论文给出的数一致。"""

from __future__ import annotations

import torch

from dlzh.models.mnist_nets import mnist_2nn, mnist_cnn


def _count(model):
    return sum(p.numel() for p in model.parameters())


def test_parameter_counts_match_the_paper():
    assert _count(mnist_2nn()) == 199_210
    assert _count(mnist_cnn()) == 1_663_370


def test_both_models_map_mnist_images_to_ten_logits():
    x = torch.zeros(3, 1, 28, 28)
    assert mnist_2nn()(x).shape == (3, 10)
    assert mnist_cnn()(x).shape == (3, 10)
