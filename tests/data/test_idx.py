"""IDX 解析：在测试自己写出的小 IDX 文件上检查形状、取值和错误处理。"""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from dlzh.data import IdxFormatError, read_idx, write_idx
from dlzh.data.idx import parse_idx


@pytest.mark.parametrize("suffix", [".idx", ".idx.gz"])
def test_roundtrip_images(tmp_path, suffix):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(7, 28, 28), dtype=np.uint8)
    path = tmp_path / f"images{suffix}"
    write_idx(path, images)
    loaded = read_idx(path)
    assert tuple(loaded.shape) == (7, 28, 28)
    assert np.array_equal(loaded.numpy(), images)


def test_header_bytes_match_the_format(tmp_path):
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    path = tmp_path / "labels.idx"
    write_idx(path, labels)
    raw = path.read_bytes()
    assert raw[:4] == bytes([0, 0, 0x08, 1])  # uint8，一维
    assert int.from_bytes(raw[4:8], "big") == 5
    assert list(raw[8:]) == [3, 1, 4, 1, 5]


def test_big_endian_int32(tmp_path):
    values = np.array([[1, -2], [70000, 3]], dtype=np.int32)
    path = tmp_path / "ints.idx.gz"
    write_idx(path, values)
    assert read_idx(path).tolist() == values.tolist()


def test_bad_magic_is_rejected():
    with pytest.raises(IdxFormatError, match="IDX"):
        parse_idx(b"\x1f\x8b\x08\x00garbage", source="x.gz")


def test_truncated_payload_is_rejected(tmp_path):
    path = tmp_path / "t.idx.gz"
    write_idx(path, np.zeros((4, 2, 2), dtype=np.uint8))
    raw = gzip.decompress(path.read_bytes())
    with pytest.raises(IdxFormatError, match=r"截断|truncated|不符"):
        parse_idx(raw[:-3], source="t.idx")
