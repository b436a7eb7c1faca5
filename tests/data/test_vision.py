"""Fashion-MNIST 风格数据集：用测试自己写的小 IDX 文件走一遍真实的加载路径。"""

from __future__ import annotations

import hashlib

import numpy as np
import torch

from dlzh.data import DataFile, DatasetSpec, load_image_split
from dlzh.data.idx import write_idx


def _tiny_dataset(tmp_path, n=40):
    rng = np.random.default_rng(0)
    mirror = tmp_path / "mirror" / "tiny"
    mirror.mkdir(parents=True)
    files = []
    for prefix, count in (("train", n), ("t10k", n // 2)):
        images = rng.integers(0, 256, size=(count, 28, 28), dtype=np.uint8)
        labels = (np.arange(count) % 10).astype(np.uint8)
        for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
            name = f"{prefix}-{kind}-ubyte.gz"
            write_idx(mirror / name, array)
            raw = (mirror / name).read_bytes()
            files.append(
                DataFile(name, hashlib.sha256(raw).hexdigest(), len(raw), ("http://127.0.0.1:9/x",))
            )
    spec = DatasetSpec(
        name="tiny", description="测试", mirror_subdir="tiny", license="test", files=tuple(files)
    )
    return spec, tmp_path / "mirror"


def test_loads_float_images_in_unit_range(tmp_path, monkeypatch):
    spec, mirror = _tiny_dataset(tmp_path)
    monkeypatch.setenv("DLZH_DATA_MIRROR", str(mirror))
    images, labels = load_image_split(spec, "train")
    assert images.shape == (40, 1, 28, 28) and images.dtype == torch.float32
    assert 0.0 <= float(images.min()) and float(images.max()) <= 1.0
    assert labels.dtype == torch.int64 and labels.tolist()[:3] == [0, 1, 2]
    test_images, _ = load_image_split(spec, "test")
    assert test_images.shape[0] == 20


def test_subset_is_balanced(tmp_path, monkeypatch):
    spec, mirror = _tiny_dataset(tmp_path)
    monkeypatch.setenv("DLZH_DATA_MIRROR", str(mirror))
    _, labels = load_image_split(spec, "train", n=20, seed=1)
    assert torch.bincount(labels, minlength=10).tolist() == [2] * 10
