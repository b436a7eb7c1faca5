"""数据获取：缓存 -> 镜像 -> URL 的顺序、各种坏来源都换下一个 URL、校验失败不留文件、
离线时的错误信息、重试、不写 stderr、压缩包的原子解压。"""

from __future__ import annotations

import hashlib
import io
import tarfile
import zipfile

import pytest

import dlzh.data.download as download_module
from dlzh.data import (
    ChecksumError,
    DataFile,
    DataNotFoundError,
    DatasetSpec,
    cache_dir,
    fetch,
    fetch_extracted,
)
from dlzh.data.download import download

PAYLOAD = b"dlzh test payload\n" * 100


def make_spec(
    urls: tuple[str, ...], payload: bytes = PAYLOAD, algorithm: str = "sha256", **extra
) -> DatasetSpec:
    digest = hashlib.new(algorithm, payload).hexdigest()
    name = extra.pop("filename", "toy.bin")
    return DatasetSpec(
        name="toy",
        description="测试用",
        mirror_subdir="toy-mirror",
        license="test",
        files=(DataFile(name, digest, len(payload), urls, algorithm=algorithm, **extra),),
    )


def test_downloads_verifies_and_caches(server):
    spec = make_spec((server.add("toy.bin", PAYLOAD),))
    path = fetch(spec, "toy.bin")
    assert path.read_bytes() == PAYLOAD
    assert path == cache_dir() / "toy" / "toy.bin"
    assert server.requests == ["toy.bin"]
    # 第二次命中缓存，不再发请求。
    assert fetch(spec, "toy.bin") == path
    assert server.requests == ["toy.bin"]


@pytest.mark.parametrize("algorithm", ["sha1", "md5"])
def test_digests_as_sources_publish_them(server, algorithm):
    url = server.add("toy.bin", PAYLOAD)
    assert fetch(make_spec((url,), algorithm=algorithm), "toy.bin").read_bytes() == PAYLOAD
    # 同一算法、错一位的摘要：下载被拒绝，缓存里什么也不留。
    (cache_dir() / "toy" / "toy.bin").unlink()
    good = hashlib.new(algorithm, PAYLOAD).hexdigest()
    bad = ("0" if good[0] != "0" else "1") + good[1:]
    spec = DatasetSpec(
        "toy", "t", (DataFile("toy.bin", bad, len(PAYLOAD), (url,), algorithm=algorithm),), "m", "t"
    )
    with pytest.raises(DataNotFoundError, match=algorithm):
        fetch(spec, "toy.bin")
    assert list((cache_dir() / "toy").iterdir()) == []


def test_mirror_is_used_before_url(server, tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    (mirror / "toy-mirror").mkdir(parents=True)
    (mirror / "toy-mirror" / "toy.bin").write_bytes(PAYLOAD)
    monkeypatch.setenv("DLZH_DATA_MIRROR", str(mirror))
    spec = make_spec((server.add("toy.bin", PAYLOAD),))
    assert fetch(spec, "toy.bin") == mirror / "toy-mirror" / "toy.bin"
    assert server.requests == []


def test_cache_is_used_before_mirror(tmp_path, monkeypatch):
    cached = cache_dir() / "toy" / "toy.bin"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(PAYLOAD)
    mirror = tmp_path / "mirror"
    (mirror / "toy-mirror").mkdir(parents=True)
    (mirror / "toy-mirror" / "toy.bin").write_bytes(PAYLOAD)
    monkeypatch.setenv("DLZH_DATA_MIRROR", str(mirror))
    assert fetch(make_spec(("http://127.0.0.1:9/never",)), "toy.bin") == cached


def test_corrupt_mirror_falls_through_to_url(server, tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    (mirror / "toy-mirror").mkdir(parents=True)
    bad = bytearray(PAYLOAD)
    bad[0] ^= 0xFF
    (mirror / "toy-mirror" / "toy.bin").write_bytes(bytes(bad))
    monkeypatch.setenv("DLZH_DATA_MIRROR", str(mirror))
    path = fetch(make_spec((server.add("toy.bin", PAYLOAD),)), "toy.bin")
    assert path.read_bytes() == PAYLOAD
    assert server.requests == ["toy.bin"]


def test_checksum_mismatch_raises_and_leaves_no_file(server, tmp_path):
    url = server.add("toy.bin", PAYLOAD[:-1] + b"X")  # 同样大小，内容不同
    spec = make_spec((url,))
    target = tmp_path / "out" / "toy.bin"
    with pytest.raises(ChecksumError, match="sha256"):
        download(url, target, spec.files[0])
    assert not target.exists()
    assert list(target.parent.iterdir()) == []  # 临时文件也被清理了


def test_corrupt_cache_file_is_never_used(server):
    cached = cache_dir() / "toy" / "toy.bin"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"garbage")
    path = fetch(make_spec((server.add("toy.bin", PAYLOAD),)), "toy.bin")
    assert path.read_bytes() == PAYLOAD
    assert (cached.parent / "toy.bin.corrupt").read_bytes() == b"garbage"


@pytest.mark.parametrize("failure", ["404", "503", "truncated", "bad-length"])
def test_any_failing_source_moves_on_to_the_next_url(server, failure):
    # "truncated" 在底层是 http.client.IncompleteRead，"bad-length" 引起 ValueError：
    # 它们都不是 OSError，旧代码会直接抛出而不去试第二个来源。
    server.add("a.bin", PAYLOAD)
    server.add("b.bin", PAYLOAD)
    server.behaviours["a.bin"] = failure
    spec = make_spec((server.url + "a.bin", server.url + "b.bin"))
    path = fetch(spec, "toy.bin")
    assert path.read_bytes() == PAYLOAD
    assert server.requests == ["a.bin", "b.bin"]


def test_every_source_failing_ends_in_one_clear_error(server):
    server.add("a.bin", PAYLOAD)
    server.add("b.bin", PAYLOAD)
    server.behaviours.update({"a.bin": "truncated", "b.bin": "bad-length"})
    spec = make_spec((server.url + "a.bin", server.url + "b.bin"))
    with pytest.raises(DataNotFoundError) as info:
        fetch(spec, "toy.bin")
    message = str(info.value)
    assert server.url + "a.bin" in message and server.url + "b.bin" in message
    assert "找不到数据文件" in message and "not found" in message
    assert list((cache_dir() / "toy").iterdir()) == []  # 没有半个文件留在缓存里


def test_transient_failures_are_retried_with_backoff(server, monkeypatch):
    sleeps: list[float] = []
    monkeypatch.setattr(download_module, "RETRIES", 2)
    monkeypatch.setattr("pooch.core.time.sleep", sleeps.append)
    url = server.add("toy.bin", PAYLOAD)
    server.behaviours["toy.bin"] = ["503", "truncated", "ok"]
    assert fetch(make_spec((url,)), "toy.bin").read_bytes() == PAYLOAD
    assert server.requests == ["toy.bin"] * 3
    assert sleeps == [1, 2]  # 每次失败后等得更久


def test_offline_error_names_file_places_and_fix(tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    monkeypatch.setenv("DLZH_DATA_MIRROR", str(mirror))
    # 端口 9（discard）在本机无人监听：连接立即被拒绝，模拟离线。
    spec = make_spec(("http://127.0.0.1:9/toy.bin",))
    with pytest.raises(DataNotFoundError) as info:
        fetch(spec, "toy.bin")
    message = str(info.value)
    assert "toy/toy.bin" in message
    assert "缓存" in message and "镜像" in message and "下载" in message
    assert str(mirror / "toy-mirror" / "toy.bin") in message
    assert "DLZH_DATA_MIRROR" in message
    assert "http://127.0.0.1:9/toy.bin" in message


def test_large_download_writes_progress_to_stdout_and_nothing_to_stderr(server, capfd):
    big = bytes(range(256)) * (6 * 4096)  # 6 MiB，超过显示进度的门槛
    path = fetch(make_spec((server.add("big.bin", big),), payload=big), "toy.bin")
    assert path.stat().st_size == len(big)
    out, err = capfd.readouterr()
    assert err == ""
    assert "下载完成" in out and "toy.bin" in out


def test_unknown_dataset_and_file_errors():
    from dlzh.data import get_spec

    with pytest.raises(KeyError, match="fashion-mnist"):
        get_spec("fashion_mnist_typo")
    with pytest.raises(KeyError, match="train-images"):
        get_spec("fashion-mnist").file("nope.gz")


def _zip_bytes(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _tar_bytes(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.mark.parametrize(("kind", "build"), [("zip", _zip_bytes), ("tar", _tar_bytes)])
def test_archive_is_extracted_with_its_member_layout(server, kind, build):
    files = {"pairs/fra.txt": b"Go.\tVa !\n", "pairs/README": b"test\n"}
    blob = build(files)
    name = f"pairs.{kind}"
    spec = make_spec(
        (server.add(name, blob),),
        payload=blob,
        algorithm="sha1",
        filename=name,
        archive=kind,
        members=("pairs/fra.txt",),
    )
    root = fetch_extracted(spec, name)
    assert (root / "pairs" / "fra.txt").read_bytes() == files["pairs/fra.txt"]
    assert root.parent == cache_dir() / "toy"
    # 第二次直接用解压结果，不再下载。
    assert fetch_extracted(spec, name) == root
    assert server.requests == [name]


def test_half_extracted_folder_is_never_used(server, monkeypatch):
    blob = _zip_bytes({"d/a.txt": b"a", "d/b.txt": b"b"})
    spec = make_spec(
        (server.add("d.zip", blob),),
        payload=blob,
        filename="d.zip",
        archive="zip",
        members=("d/a.txt", "d/b.txt"),
    )

    class Crash:
        def __init__(self, extract_dir):
            self.extract_dir = extract_dir

        def __call__(self, fname, action, pup):
            (download_module.Path(self.extract_dir) / "d").mkdir(parents=True)
            (download_module.Path(self.extract_dir) / "d" / "a.txt").write_bytes(b"a")
            raise KeyboardInterrupt  # 解压到一半被打断

    real = download_module._extractor
    monkeypatch.setattr(download_module, "_extractor", lambda kind, d: Crash(d))
    with pytest.raises(KeyboardInterrupt):
        fetch_extracted(spec, "d.zip")
    leftovers = [p.name for p in (cache_dir() / "toy").iterdir()]
    assert leftovers == ["d.zip"]  # 只有校验过的压缩包，没有半解压的文件夹
    monkeypatch.setattr(download_module, "_extractor", real)
    root = fetch_extracted(spec, "d.zip")
    assert sorted(p.name for p in (root / "d").iterdir()) == ["a.txt", "b.txt"]


def test_missing_member_is_a_clear_error_and_nothing_is_kept(server):
    blob = _zip_bytes({"other/x.txt": b"x"})
    spec = make_spec(
        (server.add("m.zip", blob),),
        payload=blob,
        filename="m.zip",
        archive="zip",
        members=("expected/x.txt",),
    )
    with pytest.raises(ChecksumError, match=r"expected/x\.txt"):
        fetch_extracted(spec, "m.zip")
    assert not (cache_dir() / "toy" / "m.zip.extracted").exists()


def test_changed_source_digest_re_extracts(server):
    old = _zip_bytes({"v/value.txt": b"old"})
    new = _zip_bytes({"v/value.txt": b"new"})
    kwargs = dict(filename="v.zip", archive="zip", members=("v/value.txt",))
    root = fetch_extracted(make_spec((server.add("v.zip", old),), payload=old, **kwargs), "v.zip")
    assert (root / "v" / "value.txt").read_bytes() == b"old"
    (cache_dir() / "toy" / "v.zip").unlink()
    root2 = fetch_extracted(make_spec((server.add("v.zip", new),), payload=new, **kwargs), "v.zip")
    assert root2 == root and (root / "v" / "value.txt").read_bytes() == b"new"


def test_plain_file_is_not_an_archive(server):
    spec = make_spec((server.add("toy.bin", PAYLOAD),))
    with pytest.raises(ValueError, match="fetch"):
        fetch_extracted(spec, "toy.bin")


def test_interactive_terminal_gets_a_tqdm_bar_on_stdout(server, capfd, monkeypatch):
    import sys

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    big = bytes(range(256)) * (6 * 4096)
    fetch(make_spec((server.add("big.bin", big),), payload=big), "toy.bin")
    assert "toy.bin" in terminal.getvalue() and "100%" in terminal.getvalue()  # tqdm 的进度条
    assert capfd.readouterr().err == ""


def _mirror_with_payload(tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    (mirror / "toy-mirror").mkdir(parents=True)
    (mirror / "toy-mirror" / "toy.bin").write_bytes(PAYLOAD)
    monkeypatch.setenv("DLZH_DATA_MIRROR", str(mirror))
    monkeypatch.setenv("DLZH_DATA_MIRROR_LAST", "1")
    return mirror


def test_mirror_last_downloads_when_a_url_works(server, tmp_path, monkeypatch):
    _mirror_with_payload(tmp_path, monkeypatch)
    path = fetch(make_spec((server.add("toy.bin", PAYLOAD),)), "toy.bin")
    assert path == cache_dir() / "toy" / "toy.bin"
    assert server.requests == ["toy.bin"]


def test_mirror_last_falls_back_to_the_mirror_and_caches_the_copy(server, tmp_path, monkeypatch):
    mirror = _mirror_with_payload(tmp_path, monkeypatch)
    spec = make_spec((server.url + "gone.bin",))  # 404
    path = fetch(spec, "toy.bin")
    assert path == cache_dir() / "toy" / "toy.bin" and path.read_bytes() == PAYLOAD
    assert (mirror / "toy-mirror" / "toy.bin").exists()  # 镜像原样不动
    assert fetch(spec, "toy.bin") == path
    assert server.requests == ["gone.bin"]  # 第二次命中缓存，不再试 URL


def test_retries_can_be_set_from_the_environment(server, monkeypatch):
    monkeypatch.setattr("pooch.core.time.sleep", lambda s: None)
    url = server.add("toy.bin", PAYLOAD)
    server.behaviours["toy.bin"] = ["503", "ok"]
    monkeypatch.setenv("DLZH_DOWNLOAD_RETRIES", "1")
    assert fetch(make_spec((url,)), "toy.bin").read_bytes() == PAYLOAD
    assert server.requests == ["toy.bin", "toy.bin"]
    monkeypatch.setenv("DLZH_DOWNLOAD_RETRIES", "many")
    (cache_dir() / "toy" / "toy.bin").unlink()
    with pytest.raises(DataNotFoundError, match="DLZH_DOWNLOAD_RETRIES"):
        fetch(make_spec((url,)), "toy.bin")
