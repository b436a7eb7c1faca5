"""语义分割的工具：VOC 颜色表与类别下标的互换、图像与标签的同步随机裁剪、像素准确率和 mIoU。

Pascal VOC2012 的标签是 PNG 图像，每个像素的 RGB 颜色表示它的类别（“颜色表”）。训练时先把颜色
换成类别下标，预测后再把下标换回颜色来显示。
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import torch

__all__ = [
    "VOC_CLASSES",
    "VOC_CLASSES_ZH",
    "VOC_COLORMAP",
    "colormap_to_label",
    "confusion_matrix",
    "evaluate_confusion",
    "label_to_colormap",
    "mean_iou",
    "pixel_accuracy",
    "random_crop_pair",
]

# VOC 的 21 个类别（含背景）与它们在标签图像中的 RGB 颜色，顺序即类别下标。
VOC_COLORMAP: tuple[tuple[int, int, int], ...] = (
    (0, 0, 0), (128, 0, 0), (0, 128, 0), (128, 128, 0), (0, 0, 128),
    (128, 0, 128), (0, 128, 128), (128, 128, 128), (64, 0, 0), (192, 0, 0),
    (64, 128, 0), (192, 128, 0), (64, 0, 128), (192, 0, 128), (64, 128, 128),
    (192, 128, 128), (0, 64, 0), (128, 64, 0), (0, 192, 0), (128, 192, 0),
    (0, 64, 128),
)  # fmt: skip

VOC_CLASSES: tuple[str, ...] = (
    "background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat",
    "chair", "cow", "diningtable", "dog", "horse", "motorbike", "person", "potted plant",
    "sheep", "sofa", "train", "tv/monitor",
)  # fmt: skip

VOC_CLASSES_ZH: tuple[str, ...] = (
    "背景", "飞机", "自行车", "鸟", "船", "瓶子", "公共汽车", "汽车", "猫", "椅子", "牛",
    "餐桌", "狗", "马", "摩托车", "人", "盆栽植物", "羊", "沙发", "火车", "电视/显示器",
)  # fmt: skip


def colormap_to_label(
    colormap: torch.Tensor,
    colors: tuple[tuple[int, int, int], ...] = VOC_COLORMAP,
    unknown: int = 0,
) -> torch.Tensor:
    """把 ``(H, W, 3)``（或 ``(3, H, W)``）的 uint8 颜色标签换成 ``(H, W)`` 的类别下标。

    d2l 为此建一张 256³ 项的查找表（每张标签都要 128 MB 的内存）；这里把颜色编码成整数
    ``(r*256+g)*256+b`` 后在排好序的 21 个颜色编码里二分查找，结果相同。
    颜色表之外的颜色（VOC 中物体边缘的 ``(224, 224, 192)`` “未定义”）记为 ``unknown``：
    默认 0（背景，与 d2l 相同），也可以设为 255，再在损失里用 ``ignore_index=255`` 忽略这些像素。
    """
    if colormap.ndim != 3:
        raise ValueError(f"颜色标签应为三维张量，收到形状 {tuple(colormap.shape)}")
    if colormap.shape[-1] != 3:
        colormap = colormap.permute(1, 2, 0)  # (3, H, W) -> (H, W, 3)
    # 用 NumPy 做：每张标签只有几次整数运算，PyTorch 在小张量上的多线程调度反而更慢。
    rgb = colormap.numpy().astype(np.int64)
    query = (rgb[..., 0] * 256 + rgb[..., 1]) * 256 + rgb[..., 2]  # (H, W)
    keys = np.array([(r * 256 + g) * 256 + b for r, g, b in colors])  # (K,)
    order = np.argsort(keys)
    sorted_keys = keys[order]
    pos = np.searchsorted(sorted_keys, query).clip(max=len(keys) - 1)
    found = sorted_keys[pos] == query
    return torch.from_numpy(np.where(found, order[pos], unknown).astype(np.int64))


def label_to_colormap(
    label: torch.Tensor, colors: tuple[tuple[int, int, int], ...] = VOC_COLORMAP
) -> torch.Tensor:
    """类别下标 ``(..., H, W)`` -> 颜色 ``(..., H, W, 3)`` 的 uint8 张量，用来显示预测。"""
    palette = torch.tensor(colors, dtype=torch.uint8)  # (K, 3)
    return palette[label.long()]


def random_crop_pair(
    image: torch.Tensor,
    label: torch.Tensor,
    height: int,
    width: int,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """对图像 ``(C, H, W)`` 和标签 ``(..., H, W)`` 做**同一个**随机裁剪。

    分割不能像分类那样把图像缩放到固定大小：缩放标签要插值，会产生不存在的类别。
    所以裁剪出固定大小的区域，图像和标签用同一个左上角，像素一一对应。
    """
    h, w = image.shape[-2:]
    if label.shape[-2:] != (h, w):
        raise ValueError(f"图像 {h}x{w} 与标签 {tuple(label.shape[-2:])} 的高宽不同")
    if height > h or width > w:
        raise ValueError(f"裁剪大小 {height}x{width} 超过了图像大小 {h}x{w}")
    top = int(torch.randint(0, h - height + 1, (1,), generator=generator))
    left = int(torch.randint(0, w - width + 1, (1,), generator=generator))
    return (
        image[..., top : top + height, left : left + width],
        label[..., top : top + height, left : left + width],
    )


def confusion_matrix(
    pred: torch.Tensor, target: torch.Tensor, num_classes: int, ignore_index: int | None = 255
) -> torch.Tensor:
    """``(num_classes, num_classes)`` 的混淆矩阵，第 i 行第 j 列是真实类别 i 被预测为 j 的像素数。"""
    pred, target = pred.reshape(-1).long(), target.reshape(-1).long()
    keep = (target >= 0) & (target < num_classes)
    if ignore_index is not None:
        keep &= target != ignore_index
    index = target[keep] * num_classes + pred[keep]
    return torch.bincount(index, minlength=num_classes**2).reshape(num_classes, num_classes)


def pixel_accuracy(confusion: torch.Tensor) -> float:
    """像素准确率：预测正确的像素占全部（未忽略的）像素的比例。"""
    return float(confusion.diag().sum() / confusion.sum().clamp(min=1))


def mean_iou(confusion: torch.Tensor) -> float:
    """平均交并比（mIoU）：每个类别的 交集/并集 的平均。

    只对“真实标签或预测中出现过”的类别（并集非空）求平均；都没出现的类别没有定义，不计入。
    """
    confusion = confusion.double()
    inter = confusion.diag()
    union = confusion.sum(0) + confusion.sum(1) - inter
    present = union > 0
    return float((inter[present] / union[present]).mean()) if present.any() else float("nan")


def evaluate_confusion(
    predict: Callable[[torch.Tensor], torch.Tensor],
    data_iter: Iterable[tuple[torch.Tensor, torch.Tensor]],
    num_classes: int,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """在 ``data_iter`` 上累加混淆矩阵；``predict`` 把一批图像 ``(B, 3, h, w)`` 变成类别下标 ``(B, h, w)``。

    冒烟模式（只检查代码路径）下与训练循环一样，只看前几个批量。
    """
    from dlzh.profile import SMOKE_BATCHES, is_smoke

    cm = torch.zeros(num_classes, num_classes, dtype=torch.long)
    with torch.no_grad():
        for i, (X, Y) in enumerate(data_iter):
            if is_smoke() and i >= SMOKE_BATCHES:
                break
            cm += confusion_matrix(predict(X.to(device)).cpu(), Y, num_classes)
    return cm
