"""airfoil 加载：用测试自己写的小文件走真实的校验与解析路径。"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import dlzh.data.registry as registry
from dlzh.data import DataFile, DatasetSpec, load_airfoil, sha256_of


def test_standardizes_with_all_rows_then_takes_first_n(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    table = rng.normal(size=(30, 6)).astype(np.float32) * 10 + 3
    mirror = tmp_path / "mirror" / "airfoil"
    mirror.mkdir(parents=True)
    path = mirror / "airfoil_self_noise.dat"
    np.savetxt(path, table, delimiter="\t")
    spec = DatasetSpec(
        name="airfoil",
        description="测试",
        mirror_subdir="airfoil",
        license="t",
        files=(
            DataFile(path.name, sha256_of(path), path.stat().st_size, ("http://127.0.0.1:9/a",)),
        ),
    )
    monkeypatch.setitem(registry.REGISTRY, "airfoil", spec)
    monkeypatch.setenv("DLZH_DATA_MIRROR", str(tmp_path / "mirror"))
    features, labels = load_airfoil(n=20)
    assert features.shape == (20, 5) and labels.shape == (20, 1)
    loaded = np.loadtxt(path, dtype=np.float32)
    expected = (loaded - loaded.mean(0)) / loaded.std(0)
    assert torch.allclose(features, torch.from_numpy(expected[:20, :5]), atol=1e-5)
    assert torch.allclose(labels[:, 0], torch.from_numpy(expected[:20, 5]), atol=1e-5)


def test_rejects_wrong_column_count(tmp_path, monkeypatch):
    mirror = tmp_path / "m" / "airfoil"
    mirror.mkdir(parents=True)
    path = mirror / "airfoil_self_noise.dat"
    np.savetxt(path, np.zeros((4, 3)))
    spec = DatasetSpec(
        name="airfoil",
        description="t",
        mirror_subdir="airfoil",
        license="t",
        files=(
            DataFile(path.name, sha256_of(path), path.stat().st_size, ("http://127.0.0.1:9/a",)),
        ),
    )
    monkeypatch.setitem(registry.REGISTRY, "airfoil", spec)
    monkeypatch.setenv("DLZH_DATA_MIRROR", str(tmp_path / "m"))
    with pytest.raises(ValueError, match="6 列"):
        load_airfoil()
