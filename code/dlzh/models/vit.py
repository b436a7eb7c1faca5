"""Vision Transformer（ViT）：把图像切成小块，每块当作一个词元，交给 Transformer 编码器。

流程：图像 ``(B, C, H, W)`` -> 切成 ``N = (H/p)(W/p)`` 个 ``p x p`` 的小块，每块线性映射为
``D`` 维（等价于步幅等于核大小的卷积）-> 在最前面拼上一个可学习的“类别词元”-> 加上可学习的
位置嵌入 -> 若干个前归一化的编码器块 -> 最后的层归一化 -> 取类别词元的输出做分类。

类别词元不对应任何图像块，它通过自注意力汇聚所有块的信息，所以它的输出可以代表整张图。
ViT 的位置嵌入是学出来的（不是正弦编码）；卷积网络的平移等变、局部性这些归纳偏置 ViT 都没有，
所以它在小数据上从头训练不如卷积网络，要靠大规模预训练后再微调。

结构与 ``torchvision.models.VisionTransformer`` 一致；:func:`convert_torchvision_vit_state`
把它的 ``state_dict``（包括预训练权重）转换成本模块的参数名，测试据此逐元素对照输出。
"""

from __future__ import annotations

import math
import re

import torch
from torch import nn

from dlzh.models.attention import MultiHeadAttention, convert_torch_attention_state


class PatchEmbedding(nn.Module):
    """把图像切块并线性映射：``(B, C, H, W) -> (B, N, D)``，``N = (H/p) * (W/p)``。

    对每个 ``p x p x C`` 的小块做同一个线性映射，正好是核大小和步幅都为 ``p`` 的卷积。
    """

    def __init__(self, in_channels: int, hidden_dim: int, patch_size: int) -> None:
        super().__init__()
        self.patch_size = patch_size
        self.proj = nn.Conv2d(in_channels, hidden_dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.proj(x)  # (B, D, H/p, W/p)
        return x.flatten(2).transpose(1, 2)  # (B, N, D)，块按行优先的顺序排列


class ViTBlock(nn.Module):
    """前归一化的编码器块：``x = x + attn(ln(x))``，``x = x + mlp(ln(x))``。

    MLP 是 ``Linear -> GELU -> Dropout -> Linear -> Dropout``，隐藏层通常是 ``hidden_dim`` 的 4 倍。
    """

    def __init__(
        self,
        hidden_dim: int,
        num_heads: int,
        mlp_dim: int,
        dropout: float = 0.0,
        attention_dropout: float = 0.0,
        eps: float = 1e-6,
    ) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(hidden_dim, eps=eps)
        self.attn = MultiHeadAttention(hidden_dim, num_heads, dropout=attention_dropout)
        self.dropout = nn.Dropout(dropout)
        self.norm2 = nn.LayerNorm(hidden_dim, eps=eps)
        self.mlp = nn.Sequential(
            nn.Linear(hidden_dim, mlp_dim),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(mlp_dim, hidden_dim),
            nn.Dropout(dropout),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.norm1(x)
        y, _ = self.attn(y, y, y, need_weights=False)  # (B, 1 + N, D)
        x = x + self.dropout(y)
        return x + self.mlp(self.norm2(x))  # (B, 1 + N, D)


class VisionTransformer(nn.Module):
    """从零实现的 ViT，输入 ``(B, in_channels, image_size, image_size)``，输出 ``(B, num_classes)``。

    初始化与 torchvision 相同：位置嵌入 ``N(0, 0.02^2)``，类别词元为 0，切块卷积按
    ``1/fan_in`` 的方差截断正态初始化，MLP 用 Xavier 均匀初始化，分类头全为 0（微调开始时
    新的分类头不会向主干传回随机的梯度）。
    """

    def __init__(
        self,
        image_size: int,
        patch_size: int,
        num_layers: int,
        num_heads: int,
        hidden_dim: int,
        mlp_dim: int,
        num_classes: int = 1000,
        in_channels: int = 3,
        dropout: float = 0.0,
        attention_dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if image_size % patch_size != 0:
            raise ValueError(
                f"image_size={image_size} 不能被 patch_size={patch_size} 整除；请调整图像或块的大小 / "
                "image_size must be divisible by patch_size"
            )
        self.image_size, self.hidden_dim = image_size, hidden_dim
        num_patches = (image_size // patch_size) ** 2
        self.patch_embed = PatchEmbedding(in_channels, hidden_dim, patch_size)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, hidden_dim))
        self.pos_embed = nn.Parameter(torch.empty(1, 1 + num_patches, hidden_dim).normal_(std=0.02))
        self.dropout = nn.Dropout(dropout)
        self.blocks = nn.Sequential(
            *(
                ViTBlock(hidden_dim, num_heads, mlp_dim, dropout, attention_dropout)
                for _ in range(num_layers)
            )
        )
        self.norm = nn.LayerNorm(hidden_dim, eps=1e-6)
        self.head = nn.Linear(hidden_dim, num_classes)
        self._init_weights()

    def _init_weights(self) -> None:
        conv = self.patch_embed.proj
        fan_in = conv.in_channels * conv.kernel_size[0] * conv.kernel_size[1]
        nn.init.trunc_normal_(conv.weight, std=math.sqrt(1 / fan_in))
        nn.init.zeros_(conv.bias)
        for block in self.blocks:
            for layer in (block.mlp[0], block.mlp[3]):
                nn.init.xavier_uniform_(layer.weight)
                nn.init.normal_(layer.bias, std=1e-6)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """编码器的输出（最后的层归一化之后）``(B, 1 + N, D)``，第 0 个是类别词元。"""
        x = self.patch_embed(x)  # (B, N, D)
        cls = self.cls_token.expand(x.shape[0], -1, -1)  # (B, 1, D)
        x = torch.cat([cls, x], dim=1) + self.pos_embed  # (B, 1 + N, D)
        return self.norm(self.blocks(self.dropout(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x)[:, 0])  # 只用类别词元分类 (B, num_classes)


def create_vit(
    image_size: int = 224,
    patch_size: int = 16,
    num_layers: int = 12,
    num_heads: int = 12,
    hidden_dim: int = 768,
    mlp_dim: int = 3072,
    num_classes: int = 1000,
    in_channels: int = 3,
    dropout: float = 0.0,
) -> VisionTransformer:
    """创建 ViT；默认是 ViT-B/16（12 层、12 个头、768 维，与 ``torchvision.models.vit_b_16`` 相同）。"""
    return VisionTransformer(
        image_size, patch_size, num_layers, num_heads, hidden_dim, mlp_dim, num_classes,
        in_channels, dropout,
    )  # fmt: skip


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """模型的参数个数（元素总数）；``trainable_only=True`` 时只数 ``requires_grad`` 的参数（线性探测时有用）。"""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


_TORCHVISION_RENAMES = (
    (r"conv_proj\.", "patch_embed.proj."),
    (r"class_token", "cls_token"),
    (r"encoder\.pos_embedding", "pos_embed"),
    (r"encoder\.layers\.encoder_layer_(\d+)\.", r"blocks.\1."),
    (r"\.ln_1\.", ".norm1."),
    (r"\.ln_2\.", ".norm2."),
    (r"\.self_attention\.", ".attn."),
    (r"encoder\.ln\.", "norm."),
    (r"heads\.head\.", "head."),
)


def convert_torchvision_vit_state(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """把 ``torchvision.models.VisionTransformer`` 的 ``state_dict`` 转换成 :class:`VisionTransformer` 的。

    只改名字（以及把注意力的打包投影拆成三个），不改数值，所以 torchvision 的预训练权重
    （``ViT_B_16_Weights`` 等，由 torchvision 的权重接口下载并校验哈希）可以直接载入。
    """
    renamed = {}
    for name, tensor in state.items():
        for pattern, repl in _TORCHVISION_RENAMES:
            name = re.sub(pattern, repl, name)
        renamed[name] = tensor
    return convert_torch_attention_state(renamed)
