import type { Command } from "commander";
import { printedWithResult } from "../output.js";
import { addExamples } from "../help.js";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { defaultCacheHome } from "../../dependencies/cache-dir.js";
import { openSource } from "../../endpoints/open.js";
import type { TestReport } from "../../emulate/test-run.js";
import type { TargetReport } from "../../emulate/run-target.js";
import { PolypackError } from "../../errors/index.js";
import { Platform } from "../../oci/platform.js";
import type { CliContext } from "../context.js";
import { collect, secondsFlag } from "../flag-parsers.js";

interface TestFlags {
  target: string[];
  app?: string;
  buildImage?: string;
  env: string[];
  layers?: string;
  timeout?: number;
  allow: string[];
}

/** How long one detect or build may run when --timeout is not given. */
const DEFAULT_TIMEOUT_SECONDS = 600;

/**
 * `polypack test SRC`: runs the buildpack's bin/detect and bin/build for each target on this
 * machine, natively or under proot and qemu-user, and reports what they did; exit 1 when any target
 * fails.
 */
export function registerTest(program: Command, context: () => CliContext): void {
  const command = program
    .command("test")
    .description("run a buildpack's detect and build for each target on this machine (proot + qemu-user)")
    .argument("<src>", "a buildpack folder, a .cnb, an OCI layout, an image reference, or a builder")
    .option(
      "-t, --target <os/arch[/variant]>",
      "a target (repeatable; default: every platform SRC has)",
      collect,
      [],
    )
    .option("--app <dir>", "the application folder (copied to /workspace; default: an empty one)")
    .option("--build-image <image>", "the build image whose root filesystem the programs run in")
    .option(
      "-e, --env <name=value>",
      "a platform environment variable (repeatable; NAME alone takes this shell's)",
      collect,
      [],
    )
    .option("--layers <dir>", "keep each target's layers in DIR/<os>-<arch>[-<variant>]/")
    .option(
      "--allow <pattern>",
      "a file of a buildpack folder meant to be foreign when it is packaged for the test (repeatable)",
      collect,
      [],
    )
    .option(
      "--timeout <seconds>",
      `stop a detect or build that runs longer, with its process tree (default ${DEFAULT_TIMEOUT_SECONDS})`,
      secondsFlag("--timeout", 24 * 60 * 60),
    )
    .action(async (src: string, flags: TestFlags) => {
      const ctx = context();
      const targets = flags.target.map((text) => Platform.parse(text, "--target"));
      const env = parseEnvFlags(flags.env);
      if (flags.app !== undefined && !(existsSync(flags.app) && statSync(flags.app).isDirectory())) {
        throw new PolypackError("PATH_NOT_FOUND", `--app ${flags.app} is not a folder`);
      }
      const { testBuildpack } = await import("../../emulate/test-run.js");
      const { packageBuildpack } = await import("../../package/package.js");
      const { includeCompositeLayers } = await import("../../package/composite.js");
      const report = await testBuildpack(
        {
          source: src,
          targets,
          ...(flags.buildImage !== undefined ? { buildImage: flags.buildImage } : {}),
          ...(flags.app !== undefined ? { appDir: flags.app } : {}),
          env,
          ...(flags.layers !== undefined ? { layersDir: flags.layers } : {}),
          timeoutMs: Math.round((flags.timeout ?? DEFAULT_TIMEOUT_SECONDS) * 1000),
          cacheDir: join(defaultCacheHome(), "emulate"),
          onStep: (what) => ctx.output.note(what),
        },
        {
          openSource: (endpoint) => openSource(endpoint, ctx),
          packageFolder: async (dir, layout, packageTargets) => {
            ctx.output.note(`packaging ${dir} for ${packageTargets.join(", ") || "its targets"}`);
            // A package.toml beside buildpack.toml names a composite's buildpacks, as for pack.
            const config = statSync(dir).isDirectory() ? join(dir, "package.toml") : dir;
            const warned = new Set<string>();
            const result = await packageBuildpack({
              ...(existsSync(config) ? { config } : { path: dir }),
              kind: "buildpack",
              ...(packageTargets.length > 0 ? { targets: packageTargets } : {}),
              destination: { kind: "layout", path: layout, refs: ["latest"] },
              allow: flags.allow,
              log: process.stderr,
              include: (source, plan) =>
                includeCompositeLayers(source, plan, {
                  openSource: (endpoint) => openSource(endpoint, ctx),
                  onWarning: (message) => ctx.output.note(`warning: ${message}`),
                }),
              onEvent: (event) => {
                if (event.type !== "warning") return;
                warned.add(event.message);
                ctx.output.note(`warning: ${event.message}`);
              },
            });
            for (const warning of result.plan.warnings)
              if (!warned.has(warning)) ctx.output.note(`warning: ${warning}`);
          },
        },
      );
      const failed = report.targets.filter((target) => !target.passed);
      if (failed.length === 0) {
        ctx.output.result(report, renderReport);
        return;
      }
      const error = new PolypackError(
        "TEST_FAILED",
        `${failed.length} of ${report.targets.length} targets failed: ${failed
          .map((target) => `${target.platform} (${target.failure ?? "failed"})`)
          .join("; ")}`,
      );
      // With --json, the report carries the error: stdout stays one JSON document.
      ctx.output.result({ ...report, error: error.toJSON() }, renderReport);
      throw printedWithResult(error);
    });
  addExamples(command, [
    {
      does: "run the example's detect and build for arm64 here, under proot + qemu",
      run: "polypack test examples/hello-multiarch --target linux/arm64",
    },
    {
      does: "in a build image's root filesystem, for both architectures",
      run: "polypack test ./my-buildpack --build-image registry.example.com/me/build:1 --target linux/amd64 --target linux/arm64",
    },
    {
      does: "keep the layers each build made",
      run: "polypack test ./my-buildpack.cnb --app ./sample-app --layers ./test-layers",
    },
  ]);
}

/** Reads `--env NAME=value` (or `NAME`, taking this process's value) into a map. */
export function parseEnvFlags(
  values: readonly string[],
  from: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const value of values) {
    const eq = value.indexOf("=");
    const name = eq < 0 ? value : value.slice(0, eq);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new PolypackError(
        "FLAG_INVALID",
        `--env ${JSON.stringify(value)}: ${JSON.stringify(name)} is not a variable name`,
        {
          hint: "write --env NAME=value (letters, digits and _, not starting with a digit)",
        },
      );
    }
    const taken = eq < 0 ? from[name] : value.slice(eq + 1);
    if (taken === undefined) {
      throw new PolypackError("FLAG_INVALID", `--env ${name}: ${name} is not set in this environment`, {
        hint: "write --env NAME=value, or set NAME first",
      });
    }
    env[name] = taken;
  }
  return env;
}

function renderReport(report: TestReport): string {
  const lines: string[] = [];
  for (const target of report.targets) lines.push(...renderTarget(target), "");
  const passed = report.targets.filter((t) => t.passed).length;
  lines.push(`${passed} of ${report.targets.length} targets passed`);
  return lines.join("\n");
}

function renderTarget(target: TargetReport): string[] {
  const lines = [
    `${target.platform}: ${target.passed ? "PASS" : "FAIL"} (${target.emulation}, ${seconds(target.ms)})`,
  ];
  if (target.rootfs)
    lines.push(`  root filesystem: ${target.rootfs.image}${target.rootfs.reused ? " (cached)" : ""}`);
  if (target.distro) lines.push(`  distro: ${target.distro.name} ${target.distro.version}`.trimEnd());
  for (const group of target.groups) {
    if (target.groups.length > 1)
      lines.push(`  group ${group.buildpacks.join(", ")}: ${group.passed ? "passed" : "failed"}`);
    for (const step of group.detect) lines.push(...renderStep("detect", step));
    if (!group.passed && group.reason) lines.push(`    ${group.reason}`);
    for (const plan of group.plan ?? []) {
      if (plan.entries.length > 0)
        lines.push(`  plan ${plan.buildpack}: ${plan.entries.map((e) => e.name).join(", ")}`);
    }
  }
  for (const build of target.builds) {
    lines.push(...renderStep("build", build));
    const layers = build.layers;
    if (!layers) continue;
    for (const layer of layers.layers) {
      const types = (["launch", "build", "cache"] as const).filter((t) => layer.types[t]);
      lines.push(`    layer ${layer.name}: ${types.join(", ") || "no types"}`);
    }
    for (const process of layers.processes) {
      lines.push(
        `    process ${process.type}${process.default ? " (default)" : ""}: ${[...process.command, ...process.args].join(" ")}`,
      );
    }
    for (const sbom of layers.sbom) lines.push(`    sbom ${sbom}`);
    for (const warning of layers.warnings) lines.push(`    warning: ${warning}`);
    lines.push(`    programs checked: ${layers.programsChecked}`);
    for (const problem of layers.problems)
      lines.push(`    WRONG ARCHITECTURE ${problem.path}: ${problem.found}`);
  }
  if (target.layersKept) lines.push(`  layers kept in ${target.layersKept}`);
  if (target.failure) lines.push(`  failure: ${target.failure}`);
  return lines;
}

function renderStep(what: string, step: TargetReport["builds"][number]): string[] {
  const exit = step.timedOut ? "timed out" : step.signal ? step.signal : `exit ${step.exitCode ?? "?"}`;
  const lines = [
    `  ${what} ${step.buildpack}: ${step.outcome} (${exit}, ${seconds(step.ms)}; ${step.program})`,
  ];
  for (const [name, text] of [
    ["out", step.stdout],
    ["err", step.stderr],
  ] as const) {
    for (const line of text.replace(/\n$/, "").split("\n"))
      if (line !== "") lines.push(`    ${name}| ${line}`);
  }
  return lines;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}
