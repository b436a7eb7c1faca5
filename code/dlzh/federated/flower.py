"""用 Flower（``flwr``）的模拟引擎跑同一个 FedAvg 实验，与 :mod:`dlzh.federated.fedavg` 对照。

Flower 把联邦学习拆成两个应用：服务器端的 ``ServerApp``（其中的策略 ``FedAvg`` 负责抽样客户端、
加权平均）和客户端的 ``ClientApp``（收到全局参数，本地训练后传回）。模拟引擎用 Ray 在本机起若干个
工作进程扮演客户端。这里的客户端本地训练仍然调用 :func:`dlzh.federated.fedavg.client_update`，
数据划分仍然是 :mod:`dlzh.federated.split`：两边只有“谁来调度”不同，曲线才有可比性。

模拟在**子进程**中运行（``python -m dlzh.federated.flower 配置JSON``）：Ray 会起一批后台进程、
向 stderr 写大量日志，放在子进程里，页面只看到解析出的结果，日志写进一个文件，出错时报出它的末尾。
"""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch

__all__ = ["FlowerConfig", "flower_available", "load_data", "parse_results", "run_flower_fedavg"]

RESULT_PREFIX = "DLZH_FLOWER_ROUND "
REPLIES_PREFIX = "DLZH_FLOWER_REPLIES "
_ENTRY = "import sys; from dlzh.federated.flower import _main; _main(sys.argv[1])"


@dataclass(frozen=True)
class FlowerConfig:
    """一次 Flower 模拟的全部设置（可序列化成 JSON 传给子进程）。"""

    rounds: int
    num_clients: int = 100
    fraction: float = 0.1
    epochs: int = 5
    batch_size: int = 10
    lr: float = 0.05
    n_train: int | None = None
    n_test: int | None = None
    partition: str = "iid"  # "iid" 或 "shards"
    model: str = "2NN"
    seed: int = 0
    dataset: str = "mnist"  # "mnist"，或测试用的 "synthetic"（不需要下载）


def flower_available() -> bool:
    """``flwr`` 和它的模拟引擎（Ray）是否已安装。"""
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("flwr", "ray"))


def parse_results(text: str) -> dict[str, list]:
    """从子进程的标准输出里取出每轮的结果行（``DLZH_FLOWER_ROUND {json}``）。"""
    rows = [
        json.loads(line[len(RESULT_PREFIX) :])
        for line in text.splitlines()
        if line.startswith(RESULT_PREFIX)
    ]
    rows.sort(key=lambda r: r["round"])
    return {
        "round": [r["round"] for r in rows],
        "test_loss": [r["test_loss"] for r in rows],
        "test_acc": [r["test_acc"] for r in rows],
    }


def _run_once(config: FlowerConfig, env: dict, log_path: Path, timeout: float) -> tuple[int, str]:
    """运行一次子进程；超时时连同 Ray 的后台进程（同一个进程组）一起结束。"""
    with open(log_path, "w", encoding="utf-8") as log:
        # 用 -c 导入本模块再调用，而不是 ``-m``：``-m`` 会把本模块变成 ``__main__``，
        # Ray 把客户端函数按模块名序列化，工作进程里找不到 ``__main__._data``。
        proc = subprocess.Popen(
            [sys.executable, "-c", _ENTRY, json.dumps(asdict(config))],
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            env=env,
            start_new_session=True,
        )
        try:
            stdout, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            stdout, _ = proc.communicate()
            print(f"Flower 模拟超过 {timeout:.0f} 秒，已结束。", file=log)
            return -9, stdout
    return proc.returncode, stdout


def run_flower_fedavg(
    config: FlowerConfig,
    *,
    timeout: float = 900,
    attempts: int = 2,
    log_dir: str | os.PathLike | None = None,
) -> dict[str, list]:
    """在子进程中运行 Flower 的 FedAvg 模拟，返回每轮之后全局模型的测试损失和准确率。

    ``test_loss``/``test_acc`` 的第 0 项是训练前的初始模型（Flower 在第 0 轮也调用一次评估）。
    冒烟模式下与 :func:`dlzh.federated.fedavg.fedavg` 一样只跑几轮。
    Ray 启动失败等情况会重试（共 ``attempts`` 次，每次限时 ``timeout`` 秒）；最后仍失败时报错，
    并附上日志文件的最后几十行。
    """
    if not flower_available():
        raise RuntimeError(
            "没有安装 Flower 的模拟引擎：pip install 'flwr[simulation]'。"
            " / Flower's simulation engine is not installed: pip install 'flwr[simulation]'."
        )
    from dlzh.federated.fedavg import smoke_rounds

    config = replace(config, rounds=smoke_rounds(config.rounds))
    log_dir = Path(log_dir or tempfile.mkdtemp(prefix="dlzh-flower-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    # Ray 在 num_gpus=0 时的提示会作为 FutureWarning 打印；它与本实验无关。
    env.setdefault("RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO", "0")
    env.setdefault("RAY_DEDUP_LOGS", "0")
    env.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    m = max(round(config.fraction * config.num_clients), 1)
    expected = config.rounds + 1
    start = time.perf_counter()
    for attempt in range(1, attempts + 1):
        log_path = log_dir / f"flower-{attempt}.log"
        returncode, stdout = _run_once(config, env, log_path, timeout)
        history = parse_results(stdout)
        replies = [
            int(line.split()[1]) for line in stdout.splitlines() if line.startswith(REPLIES_PREFIX)
        ]
        # 客户端出错时 Flower 只记日志、照样进入下一轮（全局参数不变）：每轮都要收齐 m 个回复才算成功。
        if returncode == 0 and len(history["round"]) == expected and replies == [m] * config.rounds:
            break
        tail = "\n".join(log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-40:])
        problem = (
            f"Flower 模拟失败（退出码 {returncode}，得到 {len(history['round'])} 轮结果，"
            f"应为 {expected}；每轮收到的客户端回复 {replies}，应为 {m}）"
        )
        if attempt < attempts:
            # Ray 在机器很忙时偶尔启动失败（如等不到度量代理的端口文件）；这与实验无关，重试一次。
            print(f"{problem}，日志 {log_path}；重试一次。", flush=True)
            continue
        raise RuntimeError(
            f"{problem}。日志 {log_path} 的末尾：\n{tail}\n / the Flower simulation failed; see the log."
        )
    history["seconds"] = time.perf_counter() - start
    history["log"] = str(log_path)
    return history


# ------------------------------------------------------------ 子进程中运行的部分


def load_data(config: FlowerConfig):
    """实验用的 ``(x, y, x_test, y_test, parts)``；服务器、客户端和页面上的对照实验都由它取数据。

    ``dataset="synthetic"`` 给出由种子决定的随机图像（标签由像素算出），供不联网的测试使用。
    """
    from dlzh.data.vision import load_image_split
    from dlzh.federated import split

    if config.dataset == "synthetic":
        gen = torch.Generator().manual_seed(config.seed)
        n_train, n_test = config.n_train or 600, config.n_test or 200
        x_all = torch.rand(n_train + n_test, 1, 28, 28, generator=gen)
        y_all = (x_all[:, 0, :14].mean((1, 2)) * 40).long() % 10
        x, y, x_test, y_test = x_all[:n_train], y_all[:n_train], x_all[n_train:], y_all[n_train:]
    elif config.dataset == "mnist":
        x, y = load_image_split("mnist", "train", n=config.n_train)
        x_test, y_test = load_image_split("mnist", "test", n=config.n_test)
    else:
        raise ValueError(
            f"不认识的数据集 {config.dataset!r}，可选 'mnist'、'synthetic'。 / unknown dataset."
        )
    if config.partition == "iid":
        parts = split.iid_split(len(y), config.num_clients, seed=config.seed)
    else:
        parts = split.shard_split(y, config.num_clients, seed=config.seed)
    return x, y, x_test, y_test, parts


@functools.lru_cache(maxsize=1)
def _data(config_json: str):
    """每个 Ray 工作进程只加载一次数据（lru_cache），之后扮演的各个客户端复用。"""
    return load_data(FlowerConfig(**json.loads(config_json)))


def _model(name: str) -> torch.nn.Module:
    from dlzh.models.mnist_nets import mnist_2nn, mnist_cnn

    return {"2NN": mnist_2nn, "CNN": mnist_cnn}[name]()


def _apps(config_json: str):
    from flwr.app import ArrayRecord, Context, Message, MetricRecord, RecordDict
    from flwr.clientapp import ClientApp
    from flwr.serverapp import Grid, ServerApp
    from flwr.serverapp.strategy import FedAvg

    from dlzh.federated.fedavg import client_seed, client_update
    from dlzh.train.loop import evaluate

    config = FlowerConfig(**json.loads(config_json))
    client_app = ClientApp()

    @client_app.train()
    def train(msg: Message, context: Context) -> Message:
        torch.set_num_threads(1)
        x, y, _, _, parts = _data(config_json)
        k = int(context.node_config["partition-id"])
        round_index = int(msg.content["config"]["server-round"])
        model = _model(config.model)
        model.load_state_dict(msg.content["arrays"].to_torch_state_dict())
        state = client_update(
            model,
            x[parts[k]],
            y[parts[k]],
            epochs=config.epochs,
            batch_size=config.batch_size,
            lr=config.lr,
            seed=client_seed(config.seed, round_index, k),
        )
        content = RecordDict(
            {"arrays": ArrayRecord(state), "metrics": MetricRecord({"num-examples": len(parts[k])})}
        )
        return Message(content=content, reply_to=msg)

    server_app = ServerApp()

    @server_app.main()
    def main(grid: Grid, context: Context) -> None:
        from dlzh.data.loader import TensorLoader

        _, _, x_test, y_test, _ = _data(config_json)
        test_iter = TensorLoader(x_test, y_test, 1000)

        def evaluate_fn(server_round: int, arrays: ArrayRecord) -> MetricRecord:
            model = _model(config.model)
            model.load_state_dict(arrays.to_torch_state_dict())
            scores = evaluate(model, test_iter, loss_fn=torch.nn.CrossEntropyLoss())
            row = {
                "round": server_round,
                "test_loss": scores["loss"],
                "test_acc": scores["accuracy"],
            }
            print(RESULT_PREFIX + json.dumps(row), flush=True)
            return MetricRecord({"accuracy": scores["accuracy"]})

        def count_replies(records: list[RecordDict], key: str) -> MetricRecord:
            print(f"{REPLIES_PREFIX}{len(records)}", flush=True)
            return MetricRecord({})

        m = max(round(config.fraction * config.num_clients), 1)
        strategy = FedAvg(
            train_metrics_aggr_fn=count_replies,
            fraction_train=config.fraction,
            fraction_evaluate=0.0,
            min_train_nodes=m,
            min_evaluate_nodes=0,
            min_available_nodes=config.num_clients,
        )
        torch.manual_seed(config.seed)
        initial = ArrayRecord(_model(config.model).state_dict())
        strategy.start(
            grid=grid, initial_arrays=initial, num_rounds=config.rounds, evaluate_fn=evaluate_fn
        )

    return server_app, client_app


def _main(config_json: str) -> None:
    import logging
    import traceback

    from flwr.simulation import run_simulation

    logging.getLogger("flwr").setLevel(logging.WARNING)
    config = FlowerConfig(**json.loads(config_json))
    server_app, client_app = _apps(config_json)
    try:
        run_simulation(
            server_app=server_app,
            client_app=client_app,
            num_supernodes=config.num_clients,
            backend_config={
                "client_resources": {"num_cpus": 1, "num_gpus": 0.0},
                "init_args": {"include_dashboard": False, "log_to_driver": False},
            },
        )
    except BaseException:
        traceback.print_exc()
        sys.stdout.flush()
        # Ray 的后台线程可能让解释器迟迟不退出：出错时立即结束，由父进程报告或重试。
        os._exit(1)
    sys.stdout.flush()
    os._exit(0)
