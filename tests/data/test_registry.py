"""登记表的性质：每个摘要的长度与算法相符，每个文件至少一个 URL，名字不重复；
写错的登记项在导入时就报错。"""

from __future__ import annotations

import dataclasses

import pytest

from dlzh.data import REGISTRY, DataFile, DatasetSpec
from dlzh.data.registry import DIGEST_LENGTHS, register

ALL_FILES = [(spec, item) for spec in REGISTRY.values() for item in spec.files]


@pytest.mark.parametrize(
    ("spec", "item"), ALL_FILES, ids=[f"{s.name}/{f.filename}" for s, f in ALL_FILES]
)
def test_every_registered_file_is_well_formed(spec, item):
    assert len(item.digest) == DIGEST_LENGTHS[item.algorithm]
    assert set(item.digest) <= set("0123456789abcdef")
    assert item.urls and all(u.startswith(("http://", "https://")) for u in item.urls)
    assert len(set(item.urls)) == len(item.urls)
    # 每个 URL 指向的正是这个文件（文件名相同），不会把别的文件登记到这一项下。
    assert all(u.rsplit("/", 1)[1] == item.filename for u in item.urls)
    assert item.size is None or item.size > 0
    assert (item.archive is None) == (not item.members)  # 压缩包必须登记目录结构


def test_names_are_unique():
    assert all(name == spec.name for name, spec in REGISTRY.items())
    for spec in REGISTRY.values():
        names = [f.filename for f in spec.files]
        assert len(names) == len(set(names))
    subdirs = [spec.mirror_subdir for spec in REGISTRY.values()]
    assert len(subdirs) == len(set(subdirs))
    with pytest.raises(ValueError, match="重复登记"):
        register(next(iter(REGISTRY.values())))


def test_algorithms_as_the_sources_publish_them():
    algorithms = {item.algorithm for _, item in ALL_FILES}
    assert {"sha256", "sha1"} <= algorithms
    # 只登记了 sha1 的文件没有 sha256 属性可读，免得把 sha1 当成 sha256 用。
    sha1_file = next(item for _, item in ALL_FILES if item.algorithm == "sha1")
    with pytest.raises(AttributeError, match="sha1"):
        _ = sha1_file.sha256


def test_the_book_data_sets_have_a_second_https_source():
    for name in ("fashion-mnist", "mnist", "time-machine", "airfoil", "kaggle-house"):
        for item in REGISTRY[name].files:
            assert len(item.urls) >= 2, f"{name}/{item.filename}"
            assert any(u.startswith("https://") for u in item.urls[1:])


@pytest.mark.parametrize(
    "change",
    [
        {"digest": "ab" * 31},  # sha256 只有 62 位
        {"algorithm": "sha1"},  # 64 位的摘要却说是 sha1
        {"algorithm": "crc32"},
        {"digest": "G" * 64},
        {"urls": ()},
        {"urls": ("ftp://example.org/x",)},
        {"size": 0},
        {"archive": "rar"},
        {"members": ("a/b",)},  # 不是压缩包却有 members
    ],
)
def test_bad_entries_are_rejected_at_import(change):
    good = dict(filename="x.bin", digest="ab" * 32, size=3, urls=("https://example.org/x.bin",))
    DataFile(**good)  # 基准：合法
    with pytest.raises(ValueError):
        DataFile(**{**good, **change})


def test_duplicate_file_names_in_one_data_set_are_rejected():
    item = DataFile("x.bin", "ab" * 32, 3, ("https://example.org/x.bin",))
    with pytest.raises(ValueError, match="不重复"):
        DatasetSpec("d", "t", (item, dataclasses.replace(item)), "d", "t")
