"""``python -m dlzh.data.check_sources``：对本机 HTTP 服务器上的好来源、失效来源、
内容改变的来源和目录结构改变的压缩包，逐一给出正确的结论和退出码。"""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import zipfile

from dlzh.data import REGISTRY, DataFile, DatasetSpec
from dlzh.data.check_sources import check, main

GOOD = b"good bytes\n" * 50


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _registry(server) -> dict[str, DatasetSpec]:
    server.add("good.bin", GOOD)
    server.add("changed.bin", GOOD[:-1] + b"!")  # 同样大小，内容变了
    server.add("short.bin", GOOD)
    server.behaviours["short.bin"] = "truncated"
    blob = _zip({"pack/a.txt": b"a"})
    server.add("pack.zip", blob)
    sha = hashlib.sha256(GOOD).hexdigest()
    text = DataFile(
        "text.bin",
        sha,
        len(GOOD),
        (
            server.url + "good.bin",
            server.url + "missing.bin",  # 404
            server.url + "changed.bin",
            server.url + "short.bin",  # IncompleteRead
        ),
    )
    pack = DataFile(
        "pack.zip",
        hashlib.sha1(blob).hexdigest(),
        None,
        (server.url + "pack.zip",),
        algorithm="sha1",
        archive="zip",
        members=("pack/a.txt", "pack/b.txt"),  # b.txt 不在压缩包里
    )
    ok_pack = DataFile(
        "ok.zip",
        hashlib.sha1(blob).hexdigest(),
        len(blob),
        (server.url + "pack.zip",),
        algorithm="sha1",
        archive="zip",
        members=("pack/a.txt",),
    )
    return {
        "text": DatasetSpec("text", "t", (text,), "text", "test"),
        "packs": DatasetSpec("packs", "t", (pack, ok_pack), "packs", "test"),
    }


def test_each_source_gets_the_right_verdict(server):
    results = check(_registry(server).values(), timeout=10, retries=0, echo=False)
    verdicts = {(r.filename, r.url.rsplit("/", 1)[1]): r.status for r in results}
    assert verdicts == {
        ("text.bin", "good.bin"): "OK",
        ("text.bin", "missing.bin"): "DEAD",
        ("text.bin", "changed.bin"): "CHANGED",
        ("text.bin", "short.bin"): "DEAD",
        ("pack.zip", "pack.zip"): "LAYOUT",
        ("ok.zip", "pack.zip"): "OK",
    }
    changed = next(r for r in results if r.status == "CHANGED")
    assert hashlib.sha256(GOOD[:-1] + b"!").hexdigest() in changed.detail


def test_exit_status_names_every_bad_source(server, capsys):
    registry = _registry(server)
    assert main(["--timeout", "10", "--retries", "0"], registry=registry) == 1
    out = capsys.readouterr().out
    tail = out.split("bad sources:")[1]
    for name in ("missing.bin", "changed.bin", "short.bin", "pack.zip"):
        assert server.url + name in tail
    assert server.url + "good.bin" not in tail
    # 只查没有问题的数据集时退出码为 0。
    only_good = DataFile(
        "text.bin", hashlib.sha256(GOOD).hexdigest(), len(GOOD), (server.url + "good.bin",)
    )
    registry["text"] = DatasetSpec("text", "t", (only_good,), "text", "test")
    assert main(["--dataset", "text", "--retries", "0"], registry=registry) == 0


def test_module_lists_every_registered_source_without_downloading():
    result = subprocess.run(
        [sys.executable, "-m", "dlzh.data.check_sources", "--list"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    urls = {url for spec in REGISTRY.values() for item in spec.files for url in item.urls}
    listed = {line.split()[-1] for line in result.stdout.splitlines() if line.strip()}
    assert listed == urls
