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


def test_returned_labels_are_not_the_cached_tensor(tmp_path, monkeypatch):
    spec, mirror = _tiny_dataset(tmp_path)
    monkeypatch.setenv("DLZH_DATA_MIRROR", str(mirror))
    _, labels = load_image_split(spec, "train")
    expected = labels.clone()
    labels[:] = 7  # 调用者原地修改自己拿到的张量
    _, again = load_image_split(spec, "train")
    assert torch.equal(again, expected)


def test_decoded_tensors_are_cached_next_to_the_download(tmp_path, monkeypatch):
    import dlzh.data.vision as vision

    spec, mirror = _tiny_dataset(tmp_path)
    monkeypatch.setenv("DLZH_DATA_MIRROR", str(mirror))
    vision._load_idx_pair.cache_clear()
    images, labels = load_image_split(spec, "train")
    name = "train-images-idx3-ubyte.gz"
    cached = vision.decoded_path(spec, name)
    assert cached.is_file() and spec.file(name).digest[:16] in cached.name

    # 第二次加载（新进程的情形：清掉进程内缓存）不再取文件、不再解析 IDX。
    def refuse(*args, **kwargs):
        raise AssertionError("second load must not fetch or parse the IDX file")

    vision._load_idx_pair.cache_clear()
    monkeypatch.setattr(vision, "fetch", refuse)
    monkeypatch.setattr(vision, "read_idx", refuse)
    images2, labels2 = load_image_split(spec, "train")
    assert torch.equal(images2, images) and torch.equal(labels2, labels)
    vision._load_idx_pair.cache_clear()


def test_decoded_cache_is_keyed_by_digest_and_survives_corruption(tmp_path, monkeypatch):
    import dataclasses

    import dlzh.data.vision as vision

    spec, mirror = _tiny_dataset(tmp_path)
    monkeypatch.setenv("DLZH_DATA_MIRROR", str(mirror))
    name = "train-labels-idx1-ubyte.gz"
    first = vision.read_verified_idx(spec, name)
    path = vision.decoded_path(spec, name)
    path.write_bytes(b"not a torch file")  # 写坏的缓存：删掉并重新解析
    assert torch.equal(vision.read_verified_idx(spec, name), first)
    assert path.is_file() and path.stat().st_size > len(b"not a torch file")
    # 来源摘要变了（登记表更新），旧的 .pt 不会被用到：路径不同，且新摘要下要重新取文件。
    item = spec.file(name)
    changed = dataclasses.replace(item, digest="0" * 64)
    spec2 = dataclasses.replace(
        spec, files=tuple(changed if f.filename == name else f for f in spec.files)
    )
    assert vision.decoded_path(spec2, name) != path
    import pytest

    from dlzh.data import DataNotFoundError

    with pytest.raises(DataNotFoundError):  # 镜像里的文件与新摘要不符，URL 也不可达
        vision.read_verified_idx(spec2, name)


def test_loaders_yield_the_same_batches_as_load_image_split(tmp_path, monkeypatch):
    from dlzh.data.vision import _image_loaders

    spec, mirror = _tiny_dataset(tmp_path)
    monkeypatch.setenv("DLZH_DATA_MIRROR", str(mirror))
    images, labels = load_image_split(spec, "test")
    _, test = _image_loaders(spec, 8, None, None, None, 0)
    xb, yb = next(iter(test))
    assert xb.dtype == torch.float32 and torch.equal(xb, images[:8]) and torch.equal(yb, labels[:8])
    test.labels[:] = 9  # 改迭代器里的标签不应影响之后的加载
    assert torch.equal(load_image_split(spec, "test")[1], labels)
