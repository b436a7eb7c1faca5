"""香蕉检测数据集：读取 d2l 的 ``banana-detection``，以及按同样做法离线生成的替代数据。

d2l 的压缩包解压后的布局（本模块按它读取，测试用同样布局的小样例检查）::

    banana-detection/
      bananas_train/label.csv   # 表头 img_name,label,xmin,ymin,xmax,ymax；每行一张图、一根香蕉
      bananas_train/images/0.png …
      bananas_val/label.csv
      bananas_val/images/0.png …

坐标是 256×256 图像上的像素；读入后除以图像宽高变成 0～1 的相对坐标，标签张量形状
``(图像数, 1, 5)``（每张图一个目标，行为 ``类别, x1, y1, x2, y2``），与 :mod:`dlzh.vision.detection` 的约定相同。

**离线替代数据**（:func:`generate_banana_standin`）：d2l 说明他们的数据是把香蕉图片以随机的
位置和大小贴到背景照片上得到的。离线镜像里没有 d2l 的压缩包，这里用同样的方法生成：
从 ``d2l-img`` 的 ``banana.jpg``（d2l 的一张样例图）里按颜色抠出一根香蕉，以随机的位置和
缩放贴到镜像中真实照片（猫狗、雷尼尔山、秋叶、猫、狗）的随机裁剪上，写成**同样的**
CSV 和目录结构，再用同一个读取函数读入。生成是确定的（固定种子）和原子的（先写进临时目录，
完成后改名）。它的数字属于它自己，不能当成 d2l 数据集上的结果。
"""

from __future__ import annotations

import csv
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from dlzh.data.download import DataNotFoundError, cache_dir, fetch, fetch_extracted
from dlzh.data.loader import TensorLoader

__all__ = [
    "BACKGROUND_PHOTOS",
    "DetectionData",
    "generate_banana_standin",
    "load_banana_detection",
    "read_banana_split",
]

BACKGROUND_PHOTOS = (
    "catdog.jpg",
    "rainier.jpg",
    "autumn-oak.jpg",
    "cat1.jpg",
    "cat2.jpg",
    "cat3.jpg",
    "dog1.jpg",
    "dog2.jpg",
)
_HEADER = ["img_name", "label", "xmin", "ymin", "xmax", "ymax"]
# banana.jpg 中最上面那根香蕉所在的区域（像素，x1, y1, x2, y2），只在这块里按颜色抠图
_BANANA_REGION = (128, 6, 206, 80)


@dataclass
class DetectionData:
    """读入的检测数据：训练/验证迭代器、实际使用的来源（``"d2l"`` 或 ``"standin"``）和目录。"""

    train_iter: TensorLoader
    val_iter: TensorLoader
    source: str
    root: Path


def read_banana_split(
    root: Path, split: Literal["train", "val"]
) -> tuple[torch.Tensor, torch.Tensor]:
    """读一个划分，返回 ``(图像 uint8 (N, 3, H, W), 标签 float (N, 1, 5))``，坐标为相对坐标。"""
    folder = Path(root) / f"bananas_{split}"
    images, targets = [], []
    with open(folder / "label.csv", newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        if header != _HEADER:
            raise ValueError(
                f"{folder / 'label.csv'} 的表头是 {header}，应为 {_HEADER}。 / unexpected header."
            )
        for name, label, *coords in reader:
            with Image.open(folder / "images" / name) as im:
                array = np.asarray(im.convert("RGB"))  # (H, W, 3)
            h, w = array.shape[:2]
            images.append(array)
            x1, y1, x2, y2 = (float(c) for c in coords)
            targets.append([float(label), x1 / w, y1 / h, x2 / w, y2 / h])
    # 先在 numpy 里堆叠、最后一次性换轴：逐张 permute 再 torch.stack 要慢得多
    stacked = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous()  # (N, 3, H, W)
    return stacked, torch.tensor(targets).unsqueeze(1)


def _banana_sprite() -> tuple[np.ndarray, np.ndarray]:
    """从 banana.jpg 里抠出一根香蕉：返回 RGB 像素和透明度掩码（按“亮黄色”阈值）。"""
    with Image.open(fetch("d2l-images", "banana.jpg")) as im:
        array = np.asarray(im.convert("RGB")).astype(np.int32)
    x1, y1, x2, y2 = _BANANA_REGION
    crop = array[y1:y2, x1:x2]
    r, g, b = crop[..., 0], crop[..., 1], crop[..., 2]
    mask = (r > 190) & (g > 150) & (r - b > 50)  # 香蕉是亮黄色，背景的熊和草都更暗
    ys, xs = np.nonzero(mask)
    crop, mask = (
        crop[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1],
        mask[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1],
    )
    return crop.astype(np.uint8), mask


def _write_split(folder: Path, n: int, rng: np.random.Generator, size: int, photos, sprite) -> None:
    (folder / "images").mkdir(parents=True)
    pixels, mask = sprite
    rows = []
    for i in range(n):
        photo = photos[rng.integers(len(photos))]
        pw, ph = photo.size
        side = int(min(pw, ph) * rng.uniform(0.4, 1.0))  # 随机裁剪一块正方形背景
        left, top = int(rng.integers(0, pw - side + 1)), int(rng.integers(0, ph - side + 1))
        background = photo.crop((left, top, left + side, top + side)).resize(
            (size, size), Image.BILINEAR
        )
        scale = rng.uniform(0.6, 1.5) * size / 256  # 香蕉的大小随机，与 d2l 的图像相近
        bw, bh = max(4, round(pixels.shape[1] * scale)), max(4, round(pixels.shape[0] * scale))
        banana = Image.fromarray(pixels).resize((bw, bh), Image.BILINEAR)
        alpha = Image.fromarray((mask * 255).astype(np.uint8)).resize((bw, bh), Image.BILINEAR)
        x, y = int(rng.integers(0, size - bw + 1)), int(rng.integers(0, size - bh + 1))
        background.paste(banana, (x, y), alpha)
        box = np.nonzero(np.asarray(alpha) > 127)  # 实际贴上去的像素的外接框
        name = f"{i}.png"
        background.save(folder / "images" / name, compress_level=1)  # 压缩得少，写得快
        rows.append(
            [
                name,
                0,
                x + box[1].min(),
                y + box[0].min(),
                x + box[1].max() + 1,
                y + box[0].max() + 1,
            ]
        )
    with open(folder / "label.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(_HEADER)
        writer.writerows(rows)


def generate_banana_standin(
    n_train: int = 1000,
    n_val: int = 100,
    *,
    image_size: int = 256,
    seed: int = 0,
    root: Path | None = None,
) -> Path:
    """生成（或直接返回缓存里已有的）替代数据，返回与 d2l 解压目录同布局的 ``banana-detection`` 目录。

    目录名含全部参数，参数不同就是另一份数据；先写进临时目录，全部写完才改名，
    所以中断的生成永远不会被当成完整的数据读入。
    """
    base = Path(root) if root is not None else cache_dir() / "banana-standin"
    final = base / f"seed{seed}-train{n_train}-val{n_val}-size{image_size}"
    if (final / "banana-detection" / "bananas_val" / "label.csv").is_file():
        return final / "banana-detection"
    base.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".part", dir=base))
    try:
        photos = []
        for name in BACKGROUND_PHOTOS:
            with Image.open(fetch("d2l-images", name)) as im:
                im.draft("RGB", (2 * image_size, 2 * image_size))  # JPEG 直接按缩小的尺寸解码
                photo = im.convert("RGB")
            photo.thumbnail((2 * image_size, 2 * image_size))  # 先缩小大照片，之后每次裁剪都便宜
            photos.append(photo)
        sprite = _banana_sprite()
        rng = np.random.default_rng(seed)
        for split, n in (("train", n_train), ("val", n_val)):
            _write_split(
                tmp / "banana-detection" / f"bananas_{split}", n, rng, image_size, photos, sprite
            )
        try:
            os.replace(tmp, final)
        except OSError:
            # 另一个进程已经生成并改名完毕：它的结果同样完整，直接使用
            if not (final / "banana-detection" / "bananas_val" / "label.csv").is_file():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return final / "banana-detection"


def _resize(images: torch.Tensor, size: int | None) -> torch.Tensor:
    if size is None or (images.shape[-1] == size and images.shape[-2] == size):
        return images
    # 边界框是相对坐标，缩放图像不用改标签
    out = F.interpolate(images.float(), size=(size, size), mode="bilinear", antialias=True)
    return out.round().clamp(0, 255).to(torch.uint8)


def load_banana_detection(
    batch_size: int,
    *,
    source: Literal["d2l", "standin"] = "d2l",
    image_size: int | None = None,
    n_train: int | None = None,
    n_val: int | None = None,
    seed: int = 0,
) -> DetectionData:
    """读入香蕉检测数据，返回 :class:`DetectionData`（像素在批量里除以 255）。

    ``source="d2l"``：登记表中 d2l 的压缩包（1000 张训练图、100 张验证图，256×256）；
    ``source="standin"``：离线生成的替代数据（``n_train``/``n_val`` 张，默认 1000/100）。
    ``n_train``/``n_val`` 对 d2l 的数据表示取前多少张。``image_size`` 不为 ``None`` 时把图像缩放到该边长。

    冒烟模式下取不到 d2l 的压缩包（离线）时，打印一行说明并改用小份的替代数据；
    正式的 full 构建照常报错，不会悄悄换数据。
    """
    from dlzh.profile import is_smoke

    if source == "d2l":
        try:
            root = fetch_extracted("banana-detection", "banana-detection.zip") / "banana-detection"
        except DataNotFoundError:
            if not is_smoke():
                raise
            print(
                "冒烟模式：取不到 d2l 的 banana-detection.zip（离线），改用离线生成的替代数据检查代码路径。"
            )
            source, n_train, n_val = "standin", min(n_train or 64, 64), min(n_val or 32, 32)
            root = generate_banana_standin(n_train, n_val, seed=seed)
    elif source == "standin":
        # 直接按需要的边长生成，省去缩放（香蕉的大小随边长等比例缩放）
        root = generate_banana_standin(
            n_train or 1000, n_val or 100, image_size=image_size or 256, seed=seed
        )
    else:
        raise ValueError(f"未知的数据来源 {source!r}，可选 'd2l' 或 'standin'。 / unknown source.")
    loaders = []
    for split, n, shuffle in (("train", n_train, True), ("val", n_val, False)):
        images, targets = read_banana_split(root, split)
        images, targets = _resize(images[:n], image_size), targets[:n]
        loaders.append(
            TensorLoader(images, targets, batch_size, shuffle=shuffle, seed=seed, divisor=255.0)
        )
    return DetectionData(loaders[0], loaders[1], source, root)
