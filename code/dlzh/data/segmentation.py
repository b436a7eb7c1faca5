"""语义分割数据：Pascal VOC2012（官方目录结构）与一个按同样结构生成的合成替身。

VOC2012 解压后的目录（d2l 用的就是官方的 ``VOCtrainval_11-May-2012.tar``）::

    VOCdevkit/VOC2012/
        JPEGImages/<名字>.jpg              输入图像
        SegmentationClass/<名字>.png       标签：调色板 PNG，像素颜色即类别（VOC 颜色表）
        ImageSets/Segmentation/train.txt   训练集的名字，一行一个
        ImageSets/Segmentation/val.txt     验证集的名字

:func:`make_synthetic_voc` 按**完全相同**的结构和颜色表生成一份几何图形的数据集
（离线的 quick 档位用；读入它的代码与读入真实 VOC 的代码是同一份）。生成是确定的（由 ``seed``
决定），并且是原子的：先写进临时目录，全部写完再一步改名，半成品的目录从不会被读到。

写 PNG 要用完整的 256 色调色板，所以这里另有 :func:`voc_palette`；颜色与类别下标的互换和成对的
随机裁剪在 :mod:`dlzh.vision.segmentation` 中（:class:`VOCSegDataset` 在函数内导入它，
:mod:`dlzh.vision` 只依赖 NumPy/PyTorch，不会反过来导入数据层）。
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch

from dlzh.data.download import DataNotFoundError, cache_dir, fetch_extracted

__all__ = [
    "SYNTHETIC_CLASSES",
    "VOCSegDataset",
    "load_voc_segmentation",
    "make_synthetic_voc",
    "read_voc_images",
    "voc_palette",
    "voc_root",
]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
_VOC_SUBDIR = "VOCdevkit/VOC2012"
_STAMP = ".dlzh-synthetic"
# 合成数据用到的 VOC 类别下标 -> （形状，基本颜色）：每类一种形状、一种主色（加随机扰动）。
SYNTHETIC_CLASSES: dict[int, tuple[str, tuple[int, int, int]]] = {
    1: ("triangle", (200, 60, 60)),  # 飞机
    6: ("rectangle", (230, 190, 40)),  # 公共汽车
    8: ("ellipse", (60, 120, 220)),  # 猫
    15: ("diamond", (70, 180, 90)),  # 人
}


def voc_palette() -> list[int]:
    """VOC 标签 PNG 的 256 色调色板（展平的 768 个数）：下标 0-20 是 21 个类别，255 是“未定义”边缘。

    按 VOC 开发工具包的位运算规则生成，与官方 PNG 中存的调色板相同。
    """
    palette = []
    for i in range(256):
        r = g = b = 0
        c = i
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        palette += [r, g, b]
    return palette


def voc_root(source: str = "voc", **synthetic: int) -> tuple[Path, str]:
    """返回（``VOCdevkit/VOC2012`` 目录，一行说明数据来源的中文）。

    ``source="voc"``：登记表中的 ``VOCtrainval_11-May-2012.tar``（约 2 GB，下载、校验 sha1、原子解压）。
    冒烟模式下取不到它（离线）时改用合成数据并在说明里写明；正式的 full 构建照常报错。
    ``source="synthetic"``：:func:`make_synthetic_voc` 生成的替身，``synthetic`` 是它的参数。
    """
    from dlzh.profile import is_smoke

    if source == "voc":
        try:
            root = fetch_extracted("voc2012", "VOCtrainval_11-May-2012.tar") / _VOC_SUBDIR
            return root, "Pascal VOC2012（官方数据）"
        except DataNotFoundError:
            if not is_smoke():
                raise
            # 图像要大于 full 档位的裁剪（d2l 的 320×480），否则全部被丢掉。
            smoke = dict(n_train=64, n_val=32, height=336, width=496) | synthetic
            root = make_synthetic_voc(cache_dir() / "voc-synthetic", **smoke)
            return root, "冒烟模式：取不到 VOC2012（离线），改用合成的几何图形数据检查代码路径"
    if source == "synthetic":
        root = make_synthetic_voc(cache_dir() / "voc-synthetic", **synthetic)
        return root, "合成的几何图形数据（VOC 的目录结构与颜色表；不是 VOC 的照片）"
    raise ValueError(f"未知的数据来源 {source!r}，可选 'voc' 或 'synthetic'")


def _draw_example(rng: np.random.Generator, height: int, width: int):
    from PIL import Image, ImageDraw

    # 背景：随机方向的平滑渐变加噪声，颜色随机，免得“非黑即物体”。
    yy, xx = np.mgrid[0:height, 0:width] / max(height, width)
    c0, c1 = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    t = (rng.uniform(-1, 1) * xx + rng.uniform(-1, 1) * yy)[..., None]
    t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
    pixels = c0 * (1 - t) + c1 * t + rng.normal(0, 12, (height, width, 3))
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    label = Image.new("P", (width, height), 0)
    draw_img, draw_lbl = ImageDraw.Draw(image), ImageDraw.Draw(label)
    classes = list(SYNTHETIC_CLASSES)
    for _ in range(int(rng.integers(1, 4))):
        cls = int(rng.choice(classes))
        shape, base = SYNTHETIC_CLASSES[cls]
        color = tuple(int(v) for v in np.clip(np.array(base) + rng.normal(0, 20, 3), 0, 255))
        size = rng.uniform(0.2, 0.45) * min(height, width)
        cx, cy = rng.uniform(size / 2, width - size / 2), rng.uniform(size / 2, height - size / 2)
        h = size * rng.uniform(0.7, 1.3)
        w = size * rng.uniform(0.7, 1.3)
        box = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
        if shape == "triangle":
            pts = [(cx, box[1]), (box[2], box[3]), (box[0], box[3])]
        elif shape == "diamond":
            pts = [(cx, box[1]), (box[2], cy), (cx, box[3]), (box[0], cy)]
        else:
            pts = None
        for draw, fill, outline in ((draw_img, color, None), (draw_lbl, cls, 255)):
            # 标签里像 VOC 一样给物体描一圈“未定义”（调色板下标 255）的边。
            if shape == "rectangle":
                draw.rectangle(box, fill=fill, outline=outline, width=2 if outline else 0)
            elif shape == "ellipse":
                draw.ellipse(box, fill=fill, outline=outline, width=2 if outline else 0)
            else:
                draw.polygon(pts, fill=fill, outline=outline, width=2 if outline else 1)
    label.putpalette(voc_palette())
    return image, label


def make_synthetic_voc(
    root: Path,
    n_train: int = 200,
    n_val: int = 50,
    height: int = 120,
    width: int = 160,
    seed: int = 0,
) -> Path:
    """在 ``root/<参数>/VOCdevkit/VOC2012`` 下生成合成分割数据集，返回 ``VOC2012`` 目录。

    已经生成过（目录里的记录与参数一致）就直接返回。生成在临时目录中进行，完成后一步改名，
    所以并发或中断都不会留下被当作完整数据的半成品。
    """
    params = dict(n_train=n_train, n_val=n_val, height=height, width=width, seed=seed, version=1)
    key = "-".join(f"{k}{v}" for k, v in params.items())
    final = Path(root) / key
    stamp = final / _STAMP
    if stamp.is_file() and json.loads(stamp.read_text("utf-8")) == params:
        return final / _VOC_SUBDIR
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{key}.", suffix=".part", dir=final.parent))
    try:
        voc = tmp / _VOC_SUBDIR
        for sub in ("JPEGImages", "SegmentationClass", "ImageSets/Segmentation"):
            (voc / sub).mkdir(parents=True)
        rng = np.random.default_rng(seed)
        for split, n in (("train", n_train), ("val", n_val)):
            names = [f"synth_{split}_{i:05d}" for i in range(n)]
            for name in names:
                image, label = _draw_example(rng, height, width)
                image.save(voc / "JPEGImages" / f"{name}.jpg", quality=92)
                label.save(voc / "SegmentationClass" / f"{name}.png")
            (voc / "ImageSets/Segmentation" / f"{split}.txt").write_text(
                "".join(n + "\n" for n in names), "utf-8"
            )
        (tmp / _STAMP).write_text(json.dumps(params), "utf-8")
        if final.exists():
            stale = Path(tempfile.mkdtemp(prefix=f".{key}.", suffix=".stale", dir=final.parent))
            os.replace(final, stale / "old")
            shutil.rmtree(stale, ignore_errors=True)
        try:
            os.replace(tmp, final)
        except OSError:
            # 另一个进程同时生成并先完成了改名：内容相同（同样的参数和种子），直接使用。
            if not stamp.is_file():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return final / _VOC_SUBDIR


def _read_rgb(path: Path) -> torch.Tensor:
    # 用 PIL 读：调色板 PNG 转成 RGB 就是每个像素的颜色。（torchvision.io 的解码在 0.29 起
    # 会发出弃用警告，书构建时那会变成一条警告。）
    from PIL import Image

    with Image.open(path) as image:
        array = np.asarray(image.convert("RGB"))
    return torch.from_numpy(array.copy()).permute(2, 0, 1)  # (3, H, W) uint8


def read_voc_images(
    voc_dir: Path, is_train: bool = True, max_images: int | None = None
) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """读入 ``train.txt``（或 ``val.txt``）列出的图像和颜色标签，都是 ``(3, H, W)`` 的 uint8 张量。

    标签 PNG 是调色板图像，按 RGB 读入得到每个像素的颜色（再用
    :func:`dlzh.vision.segmentation.colormap_to_label` 换成类别下标）。
    """
    voc_dir = Path(voc_dir)
    split = "train.txt" if is_train else "val.txt"
    names = (voc_dir / "ImageSets" / "Segmentation" / split).read_text("utf-8").split()
    if max_images is not None:
        names = names[:max_images]
    features, labels = [], []
    for name in names:
        features.append(_read_rgb(voc_dir / "JPEGImages" / f"{name}.jpg"))
        labels.append(_read_rgb(voc_dir / "SegmentationClass" / f"{name}.png"))
    return features, labels


class VOCSegDataset(torch.utils.data.Dataset):
    """VOC 格式的分割数据集：每次取样都对图像和标签做同一个随机裁剪（d2l 的 ``VOCSegDataset``）。

    比裁剪尺寸小的图像被丢掉（d2l 的做法）；图像按 ImageNet 的均值和标准差标准化，
    以便使用在 ImageNet 上预训练的主干。标签返回 ``(h, w)`` 的类别下标。
    """

    def __init__(
        self,
        voc_dir: Path,
        is_train: bool,
        crop_size: tuple[int, int],
        max_images: int | None = None,
        seed: int = 0,
    ) -> None:
        from dlzh.vision.segmentation import colormap_to_label

        self.crop_size = crop_size
        features, labels = read_voc_images(voc_dir, is_train, max_images)
        keep = [
            i
            for i, f in enumerate(features)
            if f.shape[1] >= crop_size[0] and f.shape[2] >= crop_size[1]
        ]
        mean = np.array(IMAGENET_MEAN, np.float32).reshape(3, 1, 1)
        std = np.array(IMAGENET_STD, np.float32).reshape(3, 1, 1)
        self.features = [
            torch.from_numpy((features[i].numpy() / np.float32(255) - mean) / std) for i in keep
        ]
        self.labels = [colormap_to_label(labels[i]) for i in keep]
        self.generator = torch.Generator().manual_seed(seed)
        print(f"读入 {len(self.features)} 个样本（{'训练' if is_train else '验证'}集）")

    def __getitem__(self, idx: int) -> tuple[torch.Tensor, torch.Tensor]:
        from dlzh.vision.segmentation import random_crop_pair

        return random_crop_pair(
            self.features[idx], self.labels[idx], *self.crop_size, generator=self.generator
        )

    def __len__(self) -> int:
        return len(self.features)


def load_voc_segmentation(
    voc_dir: Path,
    batch_size: int,
    crop_size: tuple[int, int],
    max_train: int | None = None,
    max_val: int | None = None,
    seed: int = 0,
) -> tuple[torch.utils.data.DataLoader, torch.utils.data.DataLoader]:
    """VOC 格式目录的训练、验证迭代器（训练集打乱并丢弃最后不足一批的样本，与 d2l 相同）。"""
    train = VOCSegDataset(voc_dir, True, crop_size, max_train, seed=seed)
    val = VOCSegDataset(voc_dir, False, crop_size, max_val, seed=seed + 1)
    shuffle_gen = torch.Generator().manual_seed(seed)
    train_iter = torch.utils.data.DataLoader(
        train, batch_size, shuffle=True, drop_last=True, generator=shuffle_gen
    )
    val_iter = torch.utils.data.DataLoader(val, batch_size, drop_last=True)
    return train_iter, val_iter
