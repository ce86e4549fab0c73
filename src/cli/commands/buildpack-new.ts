import { basename } from "node:path";
import type { Command } from "commander";
import type { CliContext } from "../context.js";
import { addExamples } from "../help.js";
import { splitList } from "../labels-flag.js";

interface NewFlags {
  api?: string;
  path?: string;
  stacks: string[];
  targets: string[];
  version: string;
}

/** The targets a new buildpack gets without `--targets`: the two architectures most builders run on. */
export const DEFAULT_NEW_TARGETS: readonly string[] = ["linux/amd64", "linux/arm64"];

/**
 * `polypack buildpack new ID` (and `polypack extension new ID`), with pack's flags: a new
 * multi-arch buildpack folder that `buildpack package` packages as it is.
 */
export function registerBuildpackNew(
  parent: Command,
  context: () => CliContext,
  kind: "buildpack" | "extension" = "buildpack",
): void {
  const command = parent
    .command("new")
    .description(
      `make a new multi-arch ${kind}: ${kind}.toml with [[targets]], per-target folders, a pre-package script`,
    )
    .argument("<id>", `the ${kind} id, such as my-org/my-${kind}`)
    .option("-a, --api <api>", "the Buildpack API it is written for", "0.10")
    .option("-p, --path <dir>", "where to write it (default: ./<last part of the id>)")
    .option(
      "-t, --targets <os/arch[/variant][:distro@version]>",
      `a target (repeatable, or a,b; default: ${DEFAULT_NEW_TARGETS.join(" and ")})`,
      collectList,
      [],
    )
    .option("-V, --version <version>", `the ${kind}'s version`, "1.0.0");
  if (kind === "buildpack") {
    command.option(
      "-s, --stacks <id>",
      "a [[stacks]] id, for platforms that still use stacks (repeatable)",
      collectList,
      [],
    );
  }
  addExamples(command, [
    {
      does: `make ./my-${kind} for linux/amd64 and linux/arm64`,
      run: `polypack ${kind} new my-org/my-${kind}`,
    },
    {
      does: "choose the folder, version and targets",
      run: `polypack ${kind} new my-org/my-${kind} --path ./bp --version 0.1.0 --targets linux/amd64,linux/arm64/v8`,
    },
    {
      does: "package what it made as one multi-arch .cnb",
      run: `polypack ${kind} package my-${kind}.cnb --path ./my-${kind} --format file`,
    },
  ]);
  command.action(async (id: string, flags: NewFlags) => {
    const ctx = context();
    const { scaffold } = await import("../../scaffold/index.js");
    const { parseTargetFlag } = await import("../../package/plan-targets.js");
    const targets = (flags.targets.length > 0 ? flags.targets : DEFAULT_NEW_TARGETS).map(parseTargetFlag);
    const result = await scaffold(
      {
        kind,
        id,
        api: flags.api ?? "0.10",
        version: flags.version,
        targets,
        stacks: flags.stacks ?? [],
      },
      flags.path ?? basename(id),
    );
    ctx.output.result(
      { id, path: result.path, files: result.files, targets: targets.map((t) => t.platform.toString()) },
      (r) =>
        `created ${kind} ${r.id} in ${r.path} for ${r.targets.join(", ")}\n` +
        `package it with: polypack ${kind} package ${basename(r.id)}.cnb --path ${r.path} --format file`,
    );
  });
}

function collectList(value: string, previous: string[]): string[] {
  return [...previous, ...splitList(value)];
}
