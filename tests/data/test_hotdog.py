"""热狗数据集与 CIFAR-10：在官方目录结构的小样本上读取（压缩包经登记、校验、原子解压）。"""

from __future__ import annotations

import hashlib
import pickle
import zipfile

import numpy as np
import torch
import torchvision.transforms.v2 as T
from PIL import Image

from dlzh.data import DataFile, DatasetSpec, fetch_extracted
from dlzh.data.hotdog import load_cifar10, load_hotdog

TO_TENSOR = T.Compose([T.ToImage(), T.Resize((16, 16)), T.ToDtype(torch.float32, scale=True)])


def test_hotdog_zip_layout(tmp_path, monkeypatch):
    # 与 d2l 的 hotdog.zip 相同的结构：hotdog/{train,test}/{hotdog,not-hotdog}/*.png
    src = tmp_path / "zip"
    for split, n in (("train", 3), ("test", 2)):
        for cls in ("hotdog", "not-hotdog"):
            folder = src / "hotdog" / split / cls
            folder.mkdir(parents=True)
            for i in range(n):
                Image.new(
                    "RGB", (20 + i, 18), (200, 0, 0) if cls == "hotdog" else (0, 0, 200)
                ).save(folder / f"{i}.png")
    mirror = tmp_path / "mirror" / "hotdog"
    mirror.mkdir(parents=True)
    archive = mirror / "hotdog.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(src.rglob("*.png")):
            zf.write(path, path.relative_to(src).as_posix())
    sha1 = hashlib.sha1(archive.read_bytes()).hexdigest()
    spec = DatasetSpec(
        "hotdog-fixture",
        "测试用",
        (
            DataFile(
                "hotdog.zip",
                sha1,
                None,
                ("http://127.0.0.1:9/x",),
                "sha1",
                "zip",
                ("hotdog/train/hotdog", "hotdog/test/not-hotdog"),
            ),
        ),
        mirror_subdir="hotdog",
        license="test",
    )
    monkeypatch.setenv("DLZH_DATA_MIRROR", str(tmp_path / "mirror"))
    monkeypatch.setenv("DLZH_DATA_DIR", str(tmp_path / "cache"))
    root = fetch_extracted(spec, "hotdog.zip") / "hotdog"
    train_iter, test_iter = load_hotdog(4, TO_TENSOR, TO_TENSOR, root=root)
    assert train_iter.dataset.classes == ["hotdog", "not-hotdog"]
    assert len(train_iter.dataset) == 6 and len(test_iter.dataset) == 4
    X, y = next(iter(test_iter))
    assert X.shape == (4, 3, 16, 16)
    assert y.tolist() == [0, 0, 1, 1]
    assert X[0, 0].mean() > 0.7 and X[3, 2].mean() > 0.7  # 热狗红、非热狗蓝


def test_cifar10_python_layout(tmp_path, monkeypatch):
    # torchvision 的 CIFAR10 读取官方 Python 版的 pickle 文件（键是 Python 2 的 str，按 latin1 读成 str）；完整性检查用的是官方 md5，
    # 这里的小样本不可能相同，所以只替换这一项检查，解析走 torchvision 的原代码。
    import torchvision.datasets

    base = tmp_path / "cifar-10-batches-py"
    base.mkdir()
    rng = np.random.default_rng(0)
    names = ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5"]
    for name in [*names, "test_batch"]:
        data = rng.integers(0, 256, (3, 3072), dtype=np.uint8)
        with open(base / name, "wb") as f:
            pickle.dump({"data": data, "labels": [1, 2, 3]}, f)
    with open(base / "batches.meta", "wb") as f:
        pickle.dump({"label_names": ["airplane", "automobile", *["x"] * 8]}, f)
    monkeypatch.setattr(torchvision.datasets.CIFAR10, "_check_integrity", lambda self: True)
    monkeypatch.setattr(torchvision.datasets.cifar, "check_integrity", lambda path, md5: True)
    train_iter, test_iter = load_cifar10(2, TO_TENSOR, TO_TENSOR, root=tmp_path)
    assert len(train_iter.dataset) == 15 and len(test_iter.dataset) == 3
    assert test_iter.dataset.classes[:2] == ["airplane", "automobile"]
    X, y = next(iter(test_iter))
    assert X.shape == (2, 3, 16, 16) and y.tolist() == [1, 2]


def test_offline_raises_in_full_and_falls_back_in_smoke(monkeypatch, capsys):
    import dlzh.data.hotdog as hotdog

    def offline():
        raise hotdog.DataNotFoundError("offline")

    monkeypatch.setattr(hotdog, "hotdog_root", offline)
    monkeypatch.setattr(hotdog, "cifar10_root", offline)
    monkeypatch.delenv("DLZH_SMOKE", raising=False)
    import pytest

    with pytest.raises(hotdog.DataNotFoundError):
        load_hotdog(4, TO_TENSOR, TO_TENSOR)
    with pytest.raises(hotdog.DataNotFoundError):
        load_cifar10(4, TO_TENSOR, TO_TENSOR)
    monkeypatch.setenv("DLZH_SMOKE", "1")
    train_iter, _ = load_hotdog(4, TO_TENSOR, TO_TENSOR)
    X, y = next(iter(train_iter))
    assert X.shape == (4, 3, 16, 16) and int(y.max()) < 2
    assert "冒烟模式" in capsys.readouterr().out
    train_iter, _ = load_cifar10(4, TO_TENSOR, TO_TENSOR)
    assert next(iter(train_iter))[0].shape == (4, 3, 16, 16)
