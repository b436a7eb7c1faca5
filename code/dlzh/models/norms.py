"""从零实现的归一化层：批量归一化、层归一化、实例归一化、组归一化。

四者做的是同一件事：减去均值、除以标准差，再用可学习的 ``weight``（gamma）和 ``bias``
（beta）做仿射变换。区别只在**在哪些轴上**求均值和方差。以卷积特征图 ``(B, C, H, W)`` 为例：

- 批量归一化：对每个通道，在 ``(B, H, W)`` 上统计，依赖小批量中的其他样本；
- 层归一化：对每个样本，在 ``(C, H, W)``（或最后几维）上统计；
- 实例归一化：对每个样本的每个通道，在 ``(H, W)`` 上统计；
- 组归一化：把通道分成若干组，对每个样本的每组在 ``(C/G, H, W)`` 上统计。

参数和缓冲区的名字、形状与 ``torch.nn`` 中对应的层相同，所以可以用
``load_state_dict`` 把 PyTorch 层的状态复制过来，测试据此逐元素对照。
方差都用**有偏**估计（除以 n）做归一化，这与 PyTorch 一致。
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

NormLayer = Callable[[int, int], nn.Module]
"""归一化层的工厂：``norm_layer(num_features, num_dims)``，``num_dims`` 为 2 或 4。"""


def torch_batch_norm(num_features: int, num_dims: int) -> nn.Module:
    """按输入维数返回 PyTorch 的批量归一化层：4 维用 ``BatchNorm2d``，2 维用 ``BatchNorm1d``。"""
    if num_dims == 4:
        return nn.BatchNorm2d(num_features)
    if num_dims == 2:
        return nn.BatchNorm1d(num_features)
    raise ValueError(f"num_dims 只能是 2 或 4，收到 {num_dims} / num_dims must be 2 or 4")


class BatchNormScratch(nn.Module):
    """从零实现的批量归一化，与 ``nn.BatchNorm1d``（``num_dims=2``）/ ``nn.BatchNorm2d``
    （``num_dims=4``）在训练和评估模式下的输出、滑动统计量都一致。

    训练模式用当前小批量的均值和（有偏）方差归一化，同时更新滑动平均：
    ``running = (1 - momentum) * running + momentum * batch_stat``。注意 PyTorch 的
    ``momentum`` 是**新值**的权重（d2l 从零实现里的 0.9 是旧值的权重，二者互补），
    且 ``running_var`` 用的是**无偏**方差（除以 n - 1），而归一化本身用有偏方差。
    评估模式用滑动平均：预测单个样本时没有“小批量”可统计，输出也不应依赖同批的其他样本。

    是否处于训练模式由 ``self.training`` 决定（``model.train()`` / ``model.eval()``），
    而不是 d2l 写法中的 ``torch.is_grad_enabled()``：评估时即使记录梯度，也应使用滑动平均。
    """

    def __init__(
        self, num_features: int, num_dims: int = 4, eps: float = 1e-5, momentum: float = 0.1
    ) -> None:
        super().__init__()
        if num_dims not in (2, 4):
            raise ValueError(f"num_dims 只能是 2 或 4，收到 {num_dims} / num_dims must be 2 or 4")
        self.num_features, self.num_dims = num_features, num_dims
        self.eps, self.momentum = eps, momentum
        # 拉伸参数 gamma 和偏移参数 beta：初始时是恒等变换。
        self.weight = nn.Parameter(torch.ones(num_features))  # (C,)
        self.bias = nn.Parameter(torch.zeros(num_features))  # (C,)
        # 缓冲区随 state_dict 保存、随 .to(device) 移动，但不是参数，优化器不会更新它们。
        self.register_buffer("running_mean", torch.zeros(num_features))  # (C,)
        self.register_buffer("running_var", torch.ones(num_features))  # (C,)
        self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != self.num_dims:
            raise ValueError(f"期望 {self.num_dims} 维输入，收到形状 {tuple(x.shape)}")
        # 全连接层：在批量维上统计；卷积层：对每个通道在 (B, H, W) 上统计。
        dims = (0,) if self.num_dims == 2 else (0, 2, 3)
        shape = (1, -1) if self.num_dims == 2 else (1, -1, 1, 1)  # 让 (C,) 能与 x 广播
        if self.training:
            mean = x.mean(dim=dims)  # (C,)
            var = ((x - mean.reshape(shape)) ** 2).mean(dim=dims)  # (C,) 有偏方差
            n = x.numel() // x.shape[1]  # 每个通道参与统计的元素个数
            with torch.no_grad():
                unbiased_var = var * n / max(n - 1, 1)
                self.running_mean.lerp_(mean, self.momentum)  # (1-m)*running + m*mean
                self.running_var.lerp_(unbiased_var, self.momentum)
                self.num_batches_tracked += 1
        else:
            mean, var = self.running_mean, self.running_var  # (C,)
        x_hat = (x - mean.reshape(shape)) / torch.sqrt(var.reshape(shape) + self.eps)
        return self.weight.reshape(shape) * x_hat + self.bias.reshape(shape)

    def extra_repr(self) -> str:
        return f"{self.num_features}, num_dims={self.num_dims}, eps={self.eps}, momentum={self.momentum}"


class LayerNormScratch(nn.Module):
    """从零实现的层归一化，与 ``nn.LayerNorm(normalized_shape)`` 一致。

    对每个样本，在最后 ``len(normalized_shape)`` 个维度上统计均值和方差。它不依赖批量中的
    其他样本，训练和评估的计算完全相同，也没有滑动统计量，所以适合批量很小或序列长度可变的
    场合（Transformer 就用它）。``weight`` 和 ``bias`` 的形状是 ``normalized_shape``：
    每个位置各有一组仿射参数。
    """

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
    ) -> None:
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        if elementwise_affine:
            self.weight = nn.Parameter(torch.ones(self.normalized_shape))
            self.bias = nn.Parameter(torch.zeros(self.normalized_shape))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dims = tuple(range(-len(self.normalized_shape), 0))  # 最后几个维度
        mean = x.mean(dim=dims, keepdim=True)  # (B, 1, ..., 1)
        var = ((x - mean) ** 2).mean(dim=dims, keepdim=True)  # (B, 1, ..., 1) 有偏方差
        x_hat = (x - mean) / torch.sqrt(var + self.eps)
        if self.weight is not None:
            x_hat = self.weight * x_hat + self.bias  # weight 与 x 的最后几维广播
        return x_hat


class InstanceNormScratch(nn.Module):
    """从零实现的实例归一化，与 ``nn.InstanceNorm2d(num_features)`` 的默认设置一致。

    对每个样本的每个通道，在空间维 ``(H, W)`` 上统计：每张图像的每个通道被单独标准化，
    图像整体的对比度、亮度这类“风格”信息被去掉，所以它常用于风格迁移和图像生成。
    PyTorch 默认 ``affine=False``、不记录滑动统计量，训练和评估的计算相同；这里也如此。
    """

    def __init__(self, num_features: int, eps: float = 1e-5, affine: bool = False) -> None:
        super().__init__()
        self.num_features, self.eps = num_features, eps
        if affine:
            self.weight = nn.Parameter(torch.ones(num_features))  # (C,)
            self.bias = nn.Parameter(torch.zeros(num_features))  # (C,)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dims = tuple(range(2, x.dim()))  # 空间维：(B, C, H, W) 中的 (H, W)
        mean = x.mean(dim=dims, keepdim=True)  # (B, C, 1, 1)
        var = ((x - mean) ** 2).mean(dim=dims, keepdim=True)  # (B, C, 1, 1)
        x_hat = (x - mean) / torch.sqrt(var + self.eps)
        if self.weight is not None:
            shape = (1, -1) + (1,) * len(dims)  # (1, C, 1, 1)
            x_hat = self.weight.reshape(shape) * x_hat + self.bias.reshape(shape)
        return x_hat


class GroupNormScratch(nn.Module):
    """从零实现的组归一化，与 ``nn.GroupNorm(num_groups, num_channels)`` 一致。

    把 ``C`` 个通道分成 ``num_groups`` 组，对每个样本的每组在 ``(C/G, H, W)`` 上统计。
    它介于两者之间：``num_groups=1`` 时等于对 ``(C, H, W)`` 做层归一化，
    ``num_groups=C`` 时等于实例归一化。它同样不依赖批量，适合小批量训练（如检测、分割）。
    仿射参数仍是每个通道一组，形状 ``(C,)``。
    """

    def __init__(
        self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True
    ) -> None:
        super().__init__()
        if num_channels % num_groups != 0:
            raise ValueError(
                f"通道数 {num_channels} 必须能被组数 {num_groups} 整除"
                " / num_channels must be divisible by num_groups"
            )
        self.num_groups, self.num_channels, self.eps = num_groups, num_channels, eps
        if affine:
            self.weight = nn.Parameter(torch.ones(num_channels))  # (C,)
            self.bias = nn.Parameter(torch.zeros(num_channels))  # (C,)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, C = x.shape[:2]
        grouped = x.reshape(B, self.num_groups, -1)  # (B, G, C/G * H * W)
        mean = grouped.mean(dim=-1, keepdim=True)  # (B, G, 1)
        var = ((grouped - mean) ** 2).mean(dim=-1, keepdim=True)  # (B, G, 1)
        x_hat = ((grouped - mean) / torch.sqrt(var + self.eps)).reshape(x.shape)  # (B, C, H, W)
        if self.weight is not None:
            shape = (1, C) + (1,) * (x.dim() - 2)  # (1, C, 1, 1)
            x_hat = self.weight.reshape(shape) * x_hat + self.bias.reshape(shape)
        return x_hat
