"""参数初始化：d2l 训练卷积网络前使用的 Xavier 初始化，以及为 ReLU 推导的 Kaiming 初始化。

d2l 的卷积网络各节在训练前都对全连接层和卷积层的权重做 Xavier 均匀初始化（偏置保持
PyTorch 的默认值），书中给出的参考结果就是在这种初始化下得到的。本包的 ``create_*``
卷积网络工厂默认调用 :func:`init_xavier_`，这样书页的结果可以与 d2l 对照。
"""

from __future__ import annotations

from torch import nn


def init_xavier_(model: nn.Module) -> nn.Module:
    """原地把 ``model`` 中所有 ``nn.Linear`` 与 ``nn.Conv2d`` 的权重设为 Xavier 均匀分布。

    Xavier 初始化让每层输出和梯度的方差大致保持不变（方差取 ``2 / (fan_in + fan_out)``），
    对 sigmoid 这类在 0 附近近似线性的激活函数尤其重要：LeNet 用 sigmoid，
    初始化过大或过小都会让梯度消失。返回 ``model`` 本身，便于链式调用。
    """
    for module in model.modules():
        if isinstance(module, nn.Linear | nn.Conv2d):
            nn.init.xavier_uniform_(module.weight)
    return model


def init_kaiming_(model: nn.Module) -> nn.Module:
    """原地把 ``model`` 中所有 ``nn.Linear`` 与 ``nn.Conv2d`` 的权重设为 Kaiming 正态分布。

    Xavier 初始化按“没有激活函数”推导方差，而 ReLU 把一半的输入置零，信号每过一层二阶矩约减半；
    Kaiming 初始化取方差 ``2 / fan_in``，正好补偿这个因子 2。没有批量归一化的深层 ReLU 网络
    （VGG、GoogLeNet）用 Xavier 初始化时，训练开始会在损失约为 ln 10 的平台上停留一段；
    更新次数很少的 quick 档位用它跳过这段平台。偏置保持默认值。返回 ``model`` 本身。
    """
    for module in model.modules():
        if isinstance(module, nn.Linear | nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
    return model
