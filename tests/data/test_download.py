"""数据获取：缓存 -> 镜像 -> URL 的顺序、校验失败不留文件、离线时的错误信息。"""

from __future__ import annotations

import hashlib
import http.server
import threading
from functools import partial
from pathlib import Path

import pytest

from dlzh.data import ChecksumError, DataFile, DataNotFoundError, DatasetSpec, fetch
from dlzh.data.download import download

PAYLOAD = b"dlzh test payload\n" * 100


def make_spec(urls: tuple[str, ...], payload: bytes = PAYLOAD) -> DatasetSpec:
    digest = hashlib.sha256(payload).hexdigest()
    return DatasetSpec(
        name="toy",
        description="测试用",
        mirror_subdir="toy-mirror",
        license="test",
        files=(DataFile("toy.bin", digest, len(payload), urls),),
    )


class _Server:
    """只监听 127.0.0.1 的静态文件服务器，记录每个请求的路径。"""

    def __init__(self, root: Path) -> None:
        self.requests: list[str] = []
        outer = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args) -> None:
                outer.requests.append(self.path)

        handler = partial(Handler, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    srv = _Server(root)
    srv.root = root
    yield srv
    srv.close()


def test_downloads_verifies_and_caches(server, tmp_path, monkeypatch):
    (server.root / "toy.bin").write_bytes(PAYLOAD)
    spec = make_spec((server.url + "toy.bin",))
    path = fetch(spec, "toy.bin")
    assert path.read_bytes() == PAYLOAD
    assert path.parent.name == "toy"
    assert len(server.requests) == 1
    # 第二次命中缓存，不再发请求。
    assert fetch(spec, "toy.bin") == path
    assert len(server.requests) == 1


def test_mirror_is_used_before_url(server, tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    (mirror / "toy-mirror").mkdir(parents=True)
    (mirror / "toy-mirror" / "toy.bin").write_bytes(PAYLOAD)
    monkeypatch.setenv("DLZH_DATA_MIRROR", str(mirror))
    (server.root / "toy.bin").write_bytes(PAYLOAD)
    spec = make_spec((server.url + "toy.bin",))
    assert fetch(spec, "toy.bin") == mirror / "toy-mirror" / "toy.bin"
    assert server.requests == []


def test_cache_is_used_before_mirror(tmp_path, monkeypatch):
    from dlzh.data import cache_dir

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
    (server.root / "toy.bin").write_bytes(PAYLOAD)
    path = fetch(make_spec((server.url + "toy.bin",)), "toy.bin")
    assert path.read_bytes() == PAYLOAD
    assert len(server.requests) == 1


def test_checksum_mismatch_raises_and_leaves_no_file(server, tmp_path):
    (server.root / "toy.bin").write_bytes(PAYLOAD[:-1] + b"X")  # 同样大小，内容不同
    spec = make_spec((server.url + "toy.bin",))
    target = tmp_path / "out" / "toy.bin"
    with pytest.raises(ChecksumError, match="sha256"):
        download(server.url + "toy.bin", target, spec.files[0])
    assert not target.exists()
    assert list(target.parent.iterdir()) == []  # 临时文件也被清理了


def test_corrupt_cache_file_is_never_used(server, monkeypatch):
    from dlzh.data import cache_dir

    cached = cache_dir() / "toy" / "toy.bin"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"garbage")
    (server.root / "toy.bin").write_bytes(PAYLOAD)
    path = fetch(make_spec((server.url + "toy.bin",)), "toy.bin")
    assert path.read_bytes() == PAYLOAD
    assert (cached.parent / "toy.bin.corrupt").read_bytes() == b"garbage"


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


def test_unknown_dataset_and_file_errors():
    from dlzh.data import get_spec

    with pytest.raises(KeyError, match="fashion-mnist"):
        get_spec("fashion_mnist_typo")
    with pytest.raises(KeyError, match="train-images"):
        get_spec("fashion-mnist").file("nope.gz")


def test_registry_entries_are_well_formed():
    from dlzh.data import REGISTRY

    assert {"fashion-mnist", "mnist", "airfoil", "time-machine"} <= set(REGISTRY)
    for spec in REGISTRY.values():
        for item in spec.files:
            assert len(item.sha256) == 64 and int(item.sha256, 16) >= 0
            assert item.size > 0
            assert item.urls and all(u.startswith(("http://", "https://")) for u in item.urls)
