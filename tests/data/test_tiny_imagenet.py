"""Tiny-ImageNet 读取：在 tmp_path 里按官方压缩包的结构造一份小样例（PIL 生成的 JPEG）。"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image

from dlzh.data.tiny_imagenet import (
    TinyImageNet,
    TinyImageNetLayoutError,
    load_tiny_imagenet,
)

WNIDS = ["n01443537", "n01629819", "n01641577"]
NAMES = {"n01443537": "goldfish", "n01629819": "European fire salamander", "n01641577": "bullfrog"}
COLORS = [(250, 0, 0), (0, 250, 0), (0, 0, 250)]
N_TRAIN = 4  # 每类训练图像数


def _jpeg(path: Path, color: tuple[int, int, int], mode: str = "RGB") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.new("RGB", (64, 64), color)
    (img.convert("L") if mode == "L" else img).save(path, "JPEG", quality=95)


@pytest.fixture
def tiny_root(tmp_path: Path) -> Path:
    root = tmp_path / "tiny-imagenet-200"
    root.mkdir()
    (root / "wnids.txt").write_text("\n".join(WNIDS) + "\n")
    words = [f"{w}\t{n}, other name" for w, n in NAMES.items()] + ["n99999999\tunused class"]
    (root / "words.txt").write_text("\n".join(words) + "\n")
    for c, wnid in enumerate(WNIDS):
        lines = []
        for i in range(N_TRAIN):
            name = f"{wnid}_{i}.JPEG"
            # 第 0 类的第 0 张存成灰度图：官方数据里也有，读入后必须是 3 通道。
            _jpeg(root / "train" / wnid / "images" / name, COLORS[c], "L" if c == i == 0 else "RGB")
            lines.append(f"{name}\t{i}\t{i + 1}\t{40 + i}\t{50 + i}")
        (root / "train" / wnid / f"{wnid}_boxes.txt").write_text("\n".join(lines) + "\n")
    ann = []
    for j, c in enumerate([2, 0, 1, 2, 1, 0]):  # 验证图像不按类别分文件夹，顺序打乱
        name = f"val_{j}.JPEG"
        _jpeg(root / "val" / "images" / name, COLORS[c])
        ann.append(f"{name}\t{WNIDS[c]}\t{j}\t{j}\t{60 - j}\t{61 - j}")
    (root / "val" / "val_annotations.txt").write_text("\n".join(ann) + "\n")
    return root


def test_train_split_reads_folders_boxes_and_names(tiny_root: Path) -> None:
    data = TinyImageNet(tiny_root, "train")
    assert len(data) == 3 * N_TRAIN
    assert data.wnids == WNIDS
    assert data.classes == ["goldfish", "European fire salamander", "bullfrog"]
    assert torch.equal(data.targets, torch.arange(3).repeat_interleave(N_TRAIN))
    assert data.boxes[1].tolist() == [1, 2, 41, 51]
    x, y = data[N_TRAIN + 1]  # 第 1 类（绿色）
    assert x.shape == (3, 64, 64) and x.dtype == torch.float32 and y == 1
    assert x[1].mean() > 0.9 and x[0].mean() < 0.1  # JPEG 有损，但纯色几乎不变
    gray, _ = data[0]  # 灰度 JPEG 也读成 3 个相同的通道
    assert gray.shape == (3, 64, 64) and torch.equal(gray[0], gray[1])


def test_val_split_labels_come_from_annotations(tiny_root: Path) -> None:
    data = TinyImageNet(tiny_root, "val")
    assert data.targets.tolist() == [2, 0, 1, 2, 1, 0]
    assert data.boxes[3].tolist() == [3, 3, 57, 58]
    for i in range(len(data)):
        x, y = data[i]
        assert int(x.mean(dim=(1, 2)).argmax()) == y  # 颜色与标注的类别一致


def test_loaders_subset_resize_and_transform(tiny_root: Path) -> None:
    train, val = load_tiny_imagenet(
        2, resize=96, n_train=6, root=tiny_root, transform=lambda x: x * 2
    )
    assert train.num_examples == 6 and val.num_examples == 6
    assert torch.bincount(train.labels).tolist() == [2, 2, 2]  # 类别均衡的子集
    x, y = next(iter(val))
    assert x.shape == (2, 3, 96, 96) and y.tolist() == [2, 0]
    assert 1.8 < float(x[0, 2].mean()) <= 2.0  # 先放大，再做 transform（这里乘 2）


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (lambda r: (r / "wnids.txt").unlink(), "wnids.txt"),
        (lambda r: (r / "val" / "val_annotations.txt").unlink(), "val_annotations.txt"),
        (
            lambda r: (r / "train" / WNIDS[1] / "images" / f"{WNIDS[1]}_0.JPEG").parent.rename(
                r / "train" / WNIDS[1] / "imgs"
            ),
            "train/n01629819/images",
        ),
        (
            lambda r: (r / "val" / "val_annotations.txt").write_text("val_0.JPEG n01443537\n"),
            "6 列",
        ),
        (
            lambda r: (r / "val" / "val_annotations.txt").write_text(
                "val_0.JPEG\tn00000000\t0\t0\t1\t1\n"
            ),
            "n00000000",
        ),
        (lambda r: (r / "val" / "images" / "val_2.JPEG").unlink(), "val/images/val_2.JPEG"),
    ],
)
def test_broken_layout_gives_bilingual_error(tiny_root: Path, breakage, message: str) -> None:
    breakage(tiny_root)
    with pytest.raises(TinyImageNetLayoutError, match="official tiny-imagenet-200 layout") as err:
        TinyImageNet(tiny_root, "train")
        TinyImageNet(tiny_root, "val")
    assert message in str(err.value) and "官方" in str(err.value)


def test_missing_root_and_bad_split(tmp_path: Path) -> None:
    with pytest.raises(TinyImageNetLayoutError, match="目录不存在"):
        TinyImageNet(tmp_path / "nope", "train")
    with pytest.raises(ValueError, match="split"):
        TinyImageNet(tmp_path, "test")
