"""VOC 格式的分割数据：官方目录结构的读取、调色板 PNG 标签、合成替身的确定性与原子生成。"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import dlzh.data.segmentation as seg
from dlzh.data.segmentation import (
    VOCSegDataset,
    load_voc_segmentation,
    make_synthetic_voc,
    read_voc_images,
    voc_palette,
    voc_root,
)
from dlzh.vision.segmentation import VOC_COLORMAP


def _write_official_fixture(root: Path) -> Path:
    """手写两个样本，目录与文件格式同官方 VOC2012：JPEG 图像、调色板 PNG 标签、ImageSets 列表。"""
    voc = root / "VOCdevkit" / "VOC2012"
    for sub in ("JPEGImages", "SegmentationClass", "ImageSets/Segmentation"):
        (voc / sub).mkdir(parents=True)
    for name, cls in (("2007_000032", 1), ("2007_000039", 15)):
        Image.new("RGB", (12, 10), (90, 90, 90)).save(voc / "JPEGImages" / f"{name}.jpg")
        index = np.zeros((10, 12), np.uint8)
        index[2:6, 3:9] = cls
        index[6, 3:9] = 255  # 物体边缘的“未定义”
        label = Image.fromarray(index, "P")
        label.putpalette(voc_palette())
        label.save(voc / "SegmentationClass" / f"{name}.png")
    (voc / "ImageSets/Segmentation/train.txt").write_text("2007_000032\n")
    (voc / "ImageSets/Segmentation/val.txt").write_text("2007_000039\n")
    return voc


def test_palette_matches_the_voc_colormap_and_void():
    palette = np.array(voc_palette()).reshape(256, 3)
    assert [tuple(c) for c in palette[:21]] == list(VOC_COLORMAP)
    assert tuple(palette[255]) == (224, 224, 192)


def test_read_official_layout(tmp_path):
    voc = _write_official_fixture(tmp_path)
    features, labels = read_voc_images(voc, is_train=True)
    assert len(features) == 1 and features[0].shape == (3, 10, 12)
    assert features[0].dtype == torch.uint8
    assert tuple(labels[0][:, 3, 4].tolist()) == VOC_COLORMAP[1]  # 调色板 PNG 读成颜色
    assert tuple(labels[0][:, 6, 4].tolist()) == (224, 224, 192)
    ds = VOCSegDataset(voc, is_train=False, crop_size=(10, 12))
    X, y = ds[0]
    assert X.shape == (3, 10, 12) and y.shape == (10, 12)
    assert y[3, 4] == 15 and y[0, 0] == 0 and y[6, 4] == 0  # 未定义按 d2l 记为背景
    assert len(VOCSegDataset(voc, is_train=True, crop_size=(11, 12))) == 0  # 太小的图像被丢掉


def test_synthetic_voc_is_deterministic_and_in_voc_layout(tmp_path):
    a = make_synthetic_voc(tmp_path / "a", n_train=4, n_val=2, height=40, width=48, seed=7)
    b = make_synthetic_voc(tmp_path / "b", n_train=4, n_val=2, height=40, width=48, seed=7)
    assert a.parts[-2:] == ("VOCdevkit", "VOC2012")
    names = (a / "ImageSets/Segmentation/train.txt").read_text().split()
    assert len(names) == 4
    for sub, ext in (("JPEGImages", "jpg"), ("SegmentationClass", "png")):
        for name in names:
            da = hashlib.sha256((a / sub / f"{name}.{ext}").read_bytes()).digest()
            db = hashlib.sha256((b / sub / f"{name}.{ext}").read_bytes()).digest()
            assert da == db
    png = Image.open(a / "SegmentationClass" / f"{names[0]}.png")
    assert png.mode == "P"
    values = set(np.unique(np.array(png)).tolist())
    assert values <= {0, 255, *seg.SYNTHETIC_CLASSES} and len(values - {0, 255}) >= 1
    train_iter, val_iter = load_voc_segmentation(a, batch_size=2, crop_size=(32, 32))
    X, y = next(iter(train_iter))
    assert X.shape == (2, 3, 32, 32) and y.shape == (2, 32, 32) and y.dtype == torch.long
    assert len(train_iter) == 2 and len(val_iter) == 1


def test_generation_is_atomic(tmp_path, monkeypatch):
    calls = {"n": 0}
    real = seg._draw_example

    def failing(*args):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("中途失败")
        return real(*args)

    monkeypatch.setattr(seg, "_draw_example", failing)
    with pytest.raises(RuntimeError):
        make_synthetic_voc(tmp_path, n_train=4, n_val=1, height=32, width=32)
    assert list(tmp_path.iterdir()) == []  # 既没有半成品，也没有留下临时目录
    monkeypatch.setattr(seg, "_draw_example", real)
    voc = make_synthetic_voc(tmp_path, n_train=4, n_val=1, height=32, width=32)
    stamp = voc.parents[1] / ".dlzh-synthetic"
    assert stamp.is_file()
    # 没有完成记录的目录（比如别的工具留下的）不会被使用，而是重新生成。
    stamp.unlink()
    (voc / "JPEGImages" / "junk.jpg").write_bytes(b"")
    voc2 = make_synthetic_voc(tmp_path, n_train=4, n_val=1, height=32, width=32)
    assert voc2 == voc and not (voc / "JPEGImages" / "junk.jpg").exists()


def test_voc_root_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("DLZH_DATA_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("DLZH_DATA_MIRROR", str(tmp_path / "empty-mirror"))
    monkeypatch.setenv("DLZH_DOWNLOAD_RETRIES", "0")

    def offline(*args, **kwargs):
        raise seg.DataNotFoundError("offline")

    monkeypatch.setattr(seg, "fetch_extracted", offline)
    monkeypatch.delenv("DLZH_SMOKE", raising=False)
    with pytest.raises(seg.DataNotFoundError):
        voc_root("voc")
    monkeypatch.setenv("DLZH_SMOKE", "1")
    root, note = voc_root("voc", n_train=2, n_val=1, height=32, width=32)
    assert "冒烟模式" in note and (root / "ImageSets/Segmentation/val.txt").is_file()
    with pytest.raises(ValueError):
        voc_root("coco")
