"""数据层测试的公共部件：只监听 127.0.0.1 的 HTTP 服务器，可以模拟各种坏来源。"""

from __future__ import annotations

import http.server
import threading
from pathlib import Path

import pytest

import dlzh.data.download as download_module


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        server: LocalServer = self.server.owner  # type: ignore[attr-defined]
        name = self.path.lstrip("/")
        server.requests.append(name)
        behaviour = server.behaviours.get(name, "ok")
        if isinstance(behaviour, list):  # 依次使用：第 k 次请求用第 k 个行为
            behaviour = behaviour.pop(0) if len(behaviour) > 1 else behaviour[0]
        body = (server.root / name).read_bytes() if (server.root / name).is_file() else None
        if body is None or behaviour == "404":
            self.send_error(404)
            return
        if behaviour == "503":
            self.send_error(503)
            return
        self.send_response(200)
        if behaviour == "bad-length":
            self.send_header("Content-Length", "not-a-number")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True
            return
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if behaviour == "truncated":  # 声明了完整长度却只发一半就断开：IncompleteRead
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)

    def log_message(self, *args) -> None:  # 不往 stderr 打访问日志
        pass


class LocalServer:
    """静态文件服务器；``behaviours[文件名]`` 可设为 "404"、"503"、"truncated"、"bad-length"
    或它们的列表（按请求顺序使用）。``requests`` 记录每次请求的文件名。"""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.requests: list[str] = []
        self.behaviours: dict[str, object] = {}
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.owner = self  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def add(self, name: str, payload: bytes) -> str:
        (self.root / name).write_bytes(payload)
        return self.url + name

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    srv = LocalServer(root)
    yield srv
    srv.close()


@pytest.fixture(autouse=True)
def _no_retry_sleep(monkeypatch):
    # 默认不重试，测试才不会在退避等待上耗时；专门测重试的用例自己改回来。
    monkeypatch.setattr(download_module, "RETRIES", 0)
