"""Tiny-ImageNet-200：按官方压缩包的目录结构读取训练集和验证集。

官方 ``tiny-imagenet-200.zip`` 解压后的结构（本模块只认这一种）::

    tiny-imagenet-200/
        wnids.txt                      # 200 行，每行一个 WordNet 编号（类别），行号就是类别编号
        words.txt                      # "wnid<TAB>英文名, 同义词…"，覆盖全部 ImageNet 类别
        train/<wnid>/images/*.JPEG     # 每类 500 张 64x64 图像
        train/<wnid>/<wnid>_boxes.txt  # "文件名<TAB>x0<TAB>y0<TAB>x1<TAB>y1"
        val/images/*.JPEG              # 10000 张，不按类别分文件夹
        val/val_annotations.txt        # "文件名<TAB>wnid<TAB>x0<TAB>y0<TAB>x1<TAB>y1"
        test/images/*.JPEG             # 没有标签，这里不读

验证集的标签只写在 ``val_annotations.txt`` 里，所以不能像 ``ImageFolder`` 那样按文件夹名取类别。
有少量图像是灰度的，读入时一律转成 RGB，保证每张都是 ``(3, 64, 64)``。

小批量迭代沿用 :class:`dlzh.data.loader.TensorLoader`：全部图像解码成 uint8 张量放在内存里
（10 万张 64x64x3 约 1.2 GB），每个批量再转 float、按需放大到 224（ViT-B/16 的输入尺寸）。
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from dlzh.data.download import fetch_extracted
from dlzh.data.loader import TensorLoader, balanced_subset, resize_batch

__all__ = [
    "TinyImageNet",
    "TinyImageNetLayoutError",
    "decode_images",
    "load_tiny_imagenet",
    "tiny_imagenet_root",
]

SPLITS = ("train", "val")
_LAYOUT_HINT = (
    "应为官方 tiny-imagenet-200.zip 的结构：wnids.txt、words.txt、train/<wnid>/images/*.JPEG、"
    "val/images/*.JPEG 和 val/val_annotations.txt / expected the official tiny-imagenet-200 layout"
)


class TinyImageNetLayoutError(ValueError):
    """目录结构或标注文件与官方压缩包不一致。"""


def _fail(root: Path, problem: str, problem_en: str) -> TinyImageNetLayoutError:
    return TinyImageNetLayoutError(f"{root}：{problem}。{_LAYOUT_HINT} / {problem_en}")


def _read_wnids(root: Path) -> list[str]:
    path = root / "wnids.txt"
    if not path.is_file():
        raise _fail(root, "缺少 wnids.txt", "wnids.txt is missing")
    wnids = [line.strip() for line in path.read_text("utf-8").splitlines() if line.strip()]
    if len(set(wnids)) != len(wnids):
        raise _fail(root, "wnids.txt 中有重复的类别", "wnids.txt lists a class twice")
    return wnids


def _read_words(root: Path, wnids: list[str]) -> list[str]:
    # words.txt 覆盖全部 8 万多个 WordNet 编号，只取本数据集的 200 个，取第一个同义词作类别名。
    path = root / "words.txt"
    if not path.is_file():
        raise _fail(root, "缺少 words.txt", "words.txt is missing")
    names = {}
    for line in path.read_text("utf-8").splitlines():
        wnid, _, words = line.partition("\t")
        names[wnid.strip()] = words.split(",")[0].strip()
    missing = [w for w in wnids if w not in names]
    if missing:
        raise _fail(root, f"words.txt 中没有类别 {missing[:3]}", f"words.txt lacks {missing[:3]}")
    return [names[w] for w in wnids]


def _read_boxes(path: Path, root: Path) -> dict[str, tuple[int, int, int, int]]:
    boxes = {}
    for line in path.read_text("utf-8").splitlines():
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != 5:
            raise _fail(root, f"{path.name} 的一行不是 5 列：{line!r}", f"bad line in {path.name}")
        boxes[fields[0]] = tuple(int(v) for v in fields[1:])
    return boxes


def _train_samples(root: Path, wnids: list[str]) -> tuple[list[Path], list[int], list[tuple]]:
    paths, labels, boxes = [], [], []
    for label, wnid in enumerate(wnids):
        folder = root / "train" / wnid / "images"
        if not folder.is_dir():
            raise _fail(root, f"缺少文件夹 train/{wnid}/images", f"train/{wnid}/images is missing")
        box_file = root / "train" / wnid / f"{wnid}_boxes.txt"
        box_of = _read_boxes(box_file, root) if box_file.is_file() else {}
        for path in sorted(folder.glob("*.JPEG")):
            paths.append(path)
            labels.append(label)
            boxes.append(box_of.get(path.name, (-1, -1, -1, -1)))
    return paths, labels, boxes


def _val_samples(root: Path, wnids: list[str]) -> tuple[list[Path], list[int], list[tuple]]:
    ann = root / "val" / "val_annotations.txt"
    if not ann.is_file():
        raise _fail(root, "缺少 val/val_annotations.txt", "val/val_annotations.txt is missing")
    index = {w: i for i, w in enumerate(wnids)}
    paths, labels, boxes = [], [], []
    for line in ann.read_text("utf-8").splitlines():
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != 6:
            raise _fail(
                root,
                f"val_annotations.txt 的一行不是 6 列（文件名、wnid、4 个边框坐标）：{line!r}",
                "a line of val_annotations.txt does not have 6 tab-separated fields",
            )
        name, wnid = fields[0], fields[1]
        if wnid not in index:
            raise _fail(root, f"验证图像 {name} 的类别 {wnid} 不在 wnids.txt 中", f"unknown {wnid}")
        path = root / "val" / "images" / name
        if not path.is_file():
            raise _fail(root, f"缺少验证图像 val/images/{name}", f"val/images/{name} is missing")
        paths.append(path)
        labels.append(index[wnid])
        boxes.append(tuple(int(v) for v in fields[2:]))
    return paths, labels, boxes


class TinyImageNet(torch.utils.data.Dataset):
    """一个划分（``"train"`` 或 ``"val"``）的 Tiny-ImageNet：第 i 个样本是 ``(图像, 类别编号)``。

    图像是 ``(3, 64, 64)`` 的 float32，取值 [0, 1]。属性 ``wnids``（类别的 WordNet 编号，按
    ``wnids.txt`` 的顺序）、``classes``（英文类别名）、``targets``、``boxes``（``(N, 4)``，训练图像
    没有登记边框时为 -1）。目录结构不对时抛出 :class:`TinyImageNetLayoutError`。
    """

    def __init__(self, root: str | Path, split: str = "train") -> None:
        if split not in SPLITS:
            raise ValueError(f"split 只能是 {SPLITS}，收到 {split!r} / split must be train|val")
        self.root, self.split = Path(root), split
        if not self.root.is_dir():
            raise _fail(self.root, "目录不存在", "directory does not exist")
        self.wnids = _read_wnids(self.root)
        self.classes = _read_words(self.root, self.wnids)
        read = _train_samples if split == "train" else _val_samples
        self.paths, labels, boxes = read(self.root, self.wnids)
        if not self.paths:
            raise _fail(self.root, f"{split} 中没有任何 .JPEG 图像", f"no images in {split}")
        self.targets = torch.tensor(labels)
        self.boxes = torch.tensor(boxes)  # (N, 4)

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        return _decode(self.paths[i]).float().div_(255.0), int(self.targets[i])


def _decode(path: Path) -> torch.Tensor:
    with Image.open(path) as img:
        array = np.asarray(img.convert("RGB"))  # 灰度图也转成 3 个通道 (H, W, 3)
    return torch.from_numpy(array.copy()).permute(2, 0, 1)  # (3, H, W) uint8


def decode_images(paths: list[Path], num_threads: int = 8) -> torch.Tensor:
    """把一批 JPEG 解码成 ``(N, 3, H, W)`` 的 uint8 张量；PIL 解码时释放 GIL，多线程就能加速。"""
    with ThreadPoolExecutor(max_workers=num_threads) as pool:
        images = list(pool.map(_decode, paths))
    return torch.stack(images)


def tiny_imagenet_root() -> Path:
    """下载（或从镜像取）官方压缩包、校验 md5 并解压，返回 ``tiny-imagenet-200`` 目录。"""
    return fetch_extracted("tiny-imagenet", "tiny-imagenet-200.zip") / "tiny-imagenet-200"


def load_tiny_imagenet(
    batch_size: int,
    *,
    resize: int | None = None,
    n_train: int | None = None,
    n_val: int | None = None,
    seed: int = 0,
    root: str | Path | None = None,
    transform=None,
) -> tuple[TensorLoader, TensorLoader]:
    """Tiny-ImageNet 的训练和验证迭代器（接口与 :func:`dlzh.data.load_fashion_mnist` 相同）。

    ``root`` 为 ``None`` 时经登记表取官方压缩包；``n_train``/``n_val`` 取类别均衡的子集后才解码。
    ``resize`` 在每个批量上双线性放大（64 -> 224），``transform`` 再作用于放大后的批量
    （例如预训练权重要求的按通道标准化）。
    """
    root = tiny_imagenet_root() if root is None else Path(root)
    loaders = []
    for split, n in (("train", n_train), ("val", n_val)):
        data = TinyImageNet(root, split)
        idx = torch.arange(len(data))
        if n is not None and n < len(data):
            idx = balanced_subset(data.targets, n, seed=seed)
        images = decode_images([data.paths[i] for i in idx.tolist()])  # (n, 3, 64, 64) uint8
        loaders.append(
            TensorLoader(
                images,
                data.targets[idx],
                batch_size,
                shuffle=split == "train",
                seed=seed,
                transform=_compose(resize, transform),
                divisor=255.0,
            )
        )
    return loaders[0], loaders[1]


def _compose(resize, transform):
    steps = [f for f in (resize_batch(resize) if resize else None, transform) if f is not None]
    if not steps:
        return None

    def apply(images: torch.Tensor) -> torch.Tensor:
        for f in steps:
            images = f(images)
        return images

    return apply
