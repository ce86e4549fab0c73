// The CI recipes (docs/ci.md and examples/ci/github-actions/*.yml) must not rot: every `polypack`
// command line in them is parsed by the real command tree (actions replaced, so nothing runs), and
// the workflow files are checked against GitHub's workflow schema by action-validator.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { validateWorkflow } from "@action-validator/core";
import { CommanderError, type Command } from "commander";
import { walk } from "../../../src/cli/help.js";
import { buildProgram } from "../../../src/cli/main.js";
import { expandTemplate } from "../../../src/dependencies/authoring/template.js";
import { Platform } from "../../../src/oci/platform.js";
import {
  markdownShell,
  polypackInvocations,
  repositoryRoot,
  workflowShell,
} from "../../support/ci-recipes.js";

const ROOT = repositoryRoot();
const WORKFLOWS = join(ROOT, "examples", "ci", "github-actions");

/**
 * Parses one command line with the real command tree, every action replaced by one that only
 * records the options, so nothing runs. Returns the parser's complaint, or undefined when it is
 * accepted; `--target`/`--platform` values must also read as platforms.
 */
async function check(args: readonly string[]): Promise<string | undefined> {
  const program = buildProgram();
  let reached: Command | undefined;
  for (const command of walk(program)) {
    command.exitOverride();
    command.configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
    // commander passes the command itself last.
    command.action((...args: unknown[]) => {
      reached = args[args.length - 1] as Command;
    });
  }
  try {
    await program.parseAsync([...args], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) return error.message;
    throw error;
  }
  if (reached === undefined) return "no command was reached";
  const options = reached.opts<{
    target?: string[];
    platform?: string[];
    uri?: string;
    sourceUri?: string;
  }>();
  try {
    // A URI template's placeholders are checked when the command runs; here, before it does.
    for (const template of [options.uri, options.sourceUri]) {
      if (template !== undefined)
        expandTemplate(template, { version: "1.0.0", platform: Platform.parse("linux/arm64") });
    }
  } catch (error) {
    return String(error);
  }
  for (const value of [...(options.target ?? []), ...(options.platform ?? [])]) {
    try {
      Platform.parse(value, "--target");
    } catch (error) {
      return String(error);
    }
  }
  return undefined;
}

const recipes = [
  ...readdirSync(WORKFLOWS)
    .filter((name) => name.endsWith(".yml"))
    .map((name) => ({ file: join(WORKFLOWS, name), shell: workflowShell })),
  { file: join(ROOT, "docs", "ci.md"), shell: markdownShell },
];

describe("CI recipes", () => {
  test("there are the three workflow recipes and docs/ci.md", () => {
    assert.deepEqual(readdirSync(WORKFLOWS).sort(), [
      "builder-matrix.yml",
      "buildpack-matrix.yml",
      "buildpack-one-job.yml",
    ]);
  });

  for (const { file, shell } of recipes) {
    test(`every polypack command line in ${file.slice(ROOT.length + 1)} parses`, async () => {
      const text = readFileSync(file, "utf8");
      const invocations = polypackInvocations(shell(text));
      assert.ok(invocations.length >= 3, `found only ${invocations.length} polypack commands`);
      for (const args of invocations) {
        assert.equal(await check(args), undefined, `polypack ${args.join(" ")}`);
      }
    });
  }

  test("the workflows are valid GitHub Actions workflows", () => {
    for (const name of readdirSync(WORKFLOWS)) {
      const { errors } = validateWorkflow(readFileSync(join(WORKFLOWS, name), "utf8"));
      assert.deepEqual(errors, [], name);
    }
  });

  test("each recipe caches polypack's cache dir and runs the arm64 test before publishing", () => {
    for (const name of readdirSync(WORKFLOWS)) {
      const text = readFileSync(join(WORKFLOWS, name), "utf8");
      assert.match(text, /POLYPACK_CACHE_DIR: (\S+)[\s\S]*actions\/cache@v4\s+with:\s+path: \1/, name);
      const invocations = polypackInvocations(workflowShell(text)).map((args) => args.join(" "));
      const testAt = invocations.findIndex((line) => /^test .*--target linux\/arm64/.test(line));
      const publishAt = invocations.findIndex((line) => line.includes("--publish"));
      assert.ok(
        testAt >= 0 && testAt < publishAt,
        `${name}: polypack test --target linux/arm64 before publishing`,
      );
    }
  });

  test("the checker itself refuses what polypack would refuse", async () => {
    const lines = [
      "polypack buildpack package x --path . --bogus",
      "digest=$(polypack --json buildpack package x --target linux/arm64 --by-digest --publishh | jq -r .digest)",
      "polypack manifest create",
      "polypack test . --target linux/sparc",
      "polypack dependency add --id go",
      "polypack dependency add --id go --version 1 --uri 'https://x/{arch:x86-64}.tgz'",
    ];
    for (const args of polypackInvocations(lines)) {
      assert.notEqual(await check(args), undefined, `polypack ${args.join(" ")} is refused`);
    }
    assert.deepEqual(polypackInvocations(["run: $(polypack --json x | jq .a) 'a b'"]), [["--json", "x"]]);
  });
});
