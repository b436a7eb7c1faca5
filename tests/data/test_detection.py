"""香蕉检测：按 d2l 压缩包的目录布局造一个小样例读入；替代数据的生成可复现、原子、能被同一读取函数读入。"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from dlzh.data import detection


def make_fixture(root: Path) -> Path:
    """d2l 的布局：banana-detection/bananas_{train,val}/{label.csv, images/N.png}。"""
    data = root / "banana-detection"
    for split, n in (("train", 3), ("val", 2)):
        folder = data / f"bananas_{split}"
        (folder / "images").mkdir(parents=True)
        with open(folder / "label.csv", "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["img_name", "label", "xmin", "ymin", "xmax", "ymax"])
            for i in range(n):
                pixels = np.full((256, 256, 3), 10 * i, dtype=np.uint8)
                Image.fromarray(pixels).save(folder / "images" / f"{i}.png")
                writer.writerow([f"{i}.png", 0, 32 * i, 16, 32 * i + 64, 128])
    return data


def test_read_split_in_official_layout(tmp_path):
    data = make_fixture(tmp_path)
    images, targets = detection.read_banana_split(data, "train")
    assert images.shape == (3, 3, 256, 256) and images.dtype == torch.uint8
    assert targets.shape == (3, 1, 5)
    torch.testing.assert_close(targets[2, 0], torch.tensor([0.0, 0.25, 0.0625, 0.5, 0.5]))
    assert images[1].float().mean().item() == 10.0
    val_images, _ = detection.read_banana_split(data, "val")
    assert len(val_images) == 2


def test_bad_header_is_rejected(tmp_path):
    data = make_fixture(tmp_path)
    label = data / "bananas_val" / "label.csv"
    label.write_text("name,label,a,b,c,d\n0.png,0,1,2,3,4\n")
    with pytest.raises(ValueError, match="表头"):
        detection.read_banana_split(data, "val")


@pytest.fixture
def mirror(monkeypatch, tmp_path):
    mirror = Path(__file__).resolve().parents[2] / ".." / "shared" / "datasets"
    if not (mirror / "d2l-img" / "img" / "banana.jpg").exists():
        pytest.skip("需要离线镜像里的 d2l-img 照片")
    monkeypatch.setenv("DLZH_DATA_MIRROR", str(mirror))
    monkeypatch.setenv("DLZH_DATA_DIR", str(tmp_path / "cache"))
    return tmp_path


def test_standin_is_deterministic_atomic_and_readable(mirror):
    root_a = detection.generate_banana_standin(6, 3, image_size=64, seed=1, root=mirror / "a")
    root_b = detection.generate_banana_standin(6, 3, image_size=64, seed=1, root=mirror / "b")
    assert (root_a / "bananas_train" / "label.csv").read_text() == (
        root_b / "bananas_train" / "label.csv"
    ).read_text()
    images_a, targets = detection.read_banana_split(root_a, "train")
    images_b, _ = detection.read_banana_split(root_b, "train")
    assert torch.equal(images_a, images_b) and images_a.shape == (6, 3, 64, 64)
    boxes = targets[:, 0, 1:]
    assert (targets[:, 0, 0] == 0).all()
    assert (boxes[:, 2:] > boxes[:, :2]).all() and (boxes >= 0).all() and (boxes <= 1).all()
    # 框里确实是香蕉：亮黄色像素在框内至少占两成（香蕉是弯的，占不满它的外接框）
    for img, box in zip(images_a.int(), boxes, strict=True):
        x1, y1, x2, y2 = (box * 64).round().int().tolist()
        yellow = (img[0] > 190) & (img[1] > 150) & (img[0] - img[2] > 50)
        assert yellow[y1:y2, x1:x2].float().mean() > 0.2
    # 没有留下临时目录；再次调用直接返回已有的结果
    assert not [p for p in (mirror / "a").iterdir() if p.name.startswith(".")]
    assert (
        detection.generate_banana_standin(6, 3, image_size=64, seed=1, root=mirror / "a") == root_a
    )
    other = detection.generate_banana_standin(6, 3, image_size=64, seed=2, root=mirror / "a")
    assert other != root_a


def test_load_standin_batches(mirror):
    data = detection.load_banana_detection(4, source="standin", n_train=6, n_val=3, image_size=64)
    assert data.source == "standin"
    x, y = next(iter(data.train_iter))
    assert x.shape == (4, 3, 64, 64) and x.dtype == torch.float32 and 0 <= x.min() and x.max() <= 1
    assert y.shape == (4, 1, 5)
    assert data.val_iter.num_examples == 3


def test_load_d2l_layout_with_resize(monkeypatch, tmp_path):
    data = make_fixture(tmp_path)
    monkeypatch.setattr(detection, "fetch_extracted", lambda *a: tmp_path)
    out = detection.load_banana_detection(2, source="d2l", image_size=128)
    x, y = next(iter(out.val_iter))
    assert out.source == "d2l" and out.root == data
    assert x.shape == (2, 3, 128, 128)
    torch.testing.assert_close(y[1, 0], torch.tensor([0.0, 0.125, 0.0625, 0.375, 0.5]))


def test_missing_d2l_archive_fails_outside_smoke(monkeypatch):
    def missing(*args):
        raise detection.DataNotFoundError("offline")

    monkeypatch.setattr(detection, "fetch_extracted", missing)
    monkeypatch.delenv("DLZH_SMOKE", raising=False)
    with pytest.raises(detection.DataNotFoundError):
        detection.load_banana_detection(2, source="d2l")
