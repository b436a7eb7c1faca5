"""FedAvg 论文（McMahan 等，2017）在 MNIST 上用的两个模型：2NN 与 CNN。

论文给出的参数量分别是 199,210 与 1,663,370；这里的层配置正好得到这两个数（测试中检查），
第二个卷积后的 7×7 来自两次“填充 2 的 5×5 卷积 + 2×2 最大汇聚”。
"""

from __future__ import annotations

from torch import nn

__all__ = ["mnist_2nn", "mnist_cnn"]


def mnist_2nn(hidden: int = 200) -> nn.Sequential:
    """两个 200 单元 ReLU 隐藏层的多层感知机（论文的“2NN”）。"""
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(28 * 28, hidden),
        nn.ReLU(),
        nn.Linear(hidden, hidden),
        nn.ReLU(),
        nn.Linear(hidden, 10),
    )


def mnist_cnn() -> nn.Sequential:
    """两个 5×5 卷积（32、64 通道，各接 2×2 最大汇聚）、512 单元全连接层和输出层（论文的“CNN”）。"""
    return nn.Sequential(
        nn.Conv2d(1, 32, kernel_size=5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, kernel_size=5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64 * 7 * 7, 512),
        nn.ReLU(),
        nn.Linear(512, 10),
    )
