import type { Command } from "commander";
import { collect, platformFlags } from "../flag-parsers.js";
import { addExamples } from "../help.js";
import { parseEndpoint } from "../../endpoints/endpoint.js";
import { openSource } from "../../endpoints/open.js";
import type { Artifact } from "../../image/image.js";
import type { VerifyReport } from "../../verify/findings.js";
import type { CliContext } from "../context.js";
import { printedWithResult } from "../output.js";
import { renderTable, shortDigest } from "../table.js";

interface VerifyFlags {
  platform: string[];
  target: string[];
  dependencies?: boolean;
  allow: string[];
  cacheDir?: string;
  runImages: boolean;
}

/**
 * `polypack verify LOCATION`: checks every platform of a buildpackage, builder or index holds
 * programs for that platform and metadata that agrees; exits 1 (VERIFY_FAILED) when anything is
 * wrong, after printing every finding.
 */
export function registerVerify(program: Command, context: () => CliContext): void {
  const command = program
    .command("verify")
    .description("check that each platform's image holds programs and dependencies for that platform")
    .argument("<location>", "registry reference, OCI layout directory (oci:DIR[:REF]) or .cnb file")
    .option("--platform <os/arch[/variant]>", "check only this platform (repeatable)", collect, [])
    .option(
      "-t, --target <os/arch[/variant]>",
      "the same as --platform, as buildpack package names it",
      collect,
      [],
    )
    .option("--dependencies", "also download every dependency buildpack.toml lists and check its archive")
    .option(
      "--allow <pattern>",
      "a path meant to be foreign, such as a cross-compiler (repeatable; * ** ?)",
      collect,
      [],
    )
    .option("--cache-dir <dir>", "where downloaded dependencies are cached (with --dependencies)")
    .option("--no-run-images", "do not read a builder's run images to check their platforms (noted)")
    .action(async (location: string, flags: VerifyFlags) => {
      const ctx = context();
      const platforms = [...platformFlags(flags.platform), ...platformFlags(flags.target, "--target")];
      const { readArtifact } = await import("../../image/image.js");
      const { verifyArtifact, verifyFailed } = await import("../../verify/verify.js");
      const source = await openSource(parseEndpoint(location), ctx);
      // A builder's run images (and mirrors) are read where they are published.
      const runSources: { close?: () => Promise<void> }[] = [];
      const runImages = async (reference: string): Promise<Artifact> => {
        const opened = await openSource(parseEndpoint(reference), ctx);
        runSources.push(opened);
        return readArtifact(opened);
      };
      let report: VerifyReport;
      try {
        report = await verifyArtifact(await readArtifact(source), {
          name: location,
          platforms,
          allow: flags.allow,
          ...(flags.runImages ? { runImages } : {}),
          ...(flags.dependencies
            ? {
                dependencies: {
                  ...(flags.cacheDir !== undefined ? { cacheDir: flags.cacheDir } : {}),
                  ...(ctx.registry.caFile ? { caFile: ctx.registry.caFile } : {}),
                  ...(ctx.registry.timeoutMs ? { idleTimeoutMs: ctx.registry.timeoutMs } : {}),
                },
              }
            : {}),
          onPlatform: (platform) => {
            if (!ctx.output.json) ctx.output.note(`verifying ${platform}`);
          },
        });
      } finally {
        await source.close?.();
        for (const opened of runSources) await opened.close?.();
      }
      if (report.ok) {
        ctx.output.result(report, renderVerify);
        return;
      }
      const error = verifyFailed(report);
      ctx.output.result({ ...report, error: error.toJSON() }, renderVerify);
      throw printedWithResult(error);
    });
  addExamples(command, [
    {
      does: "check every platform of a published buildpack",
      run: "polypack verify registry.example.com/me/bp:1.0.0",
    },
    {
      does: "only arm64, with its dependencies downloaded and checked",
      run: "polypack verify ./my-buildpack.cnb --platform linux/arm64 --dependencies",
    },
    {
      does: "accept a cross-compiler meant to be foreign",
      run: "polypack verify oci:./out --allow 'cnb/buildpacks/*/*/toolchain/**'",
    },
  ]);
}

/** The text form of a verify report: platforms, then findings (allowed ones marked), then notes. */
export function renderVerify(report: VerifyReport): string {
  const platforms = renderTable(
    ["PLATFORM", "DIGEST", "LAYERS", "FILES", "PROGRAMS", "DEPENDENCIES"],
    report.platforms.map((p) => [
      p.platform,
      shortDigest(p.digest),
      String(p.layers),
      String(p.files),
      String(p.programs),
      String(p.dependencies),
    ]),
  );
  const findings =
    report.findings.length === 0
      ? "no findings"
      : renderTable(
          ["PLATFORM", "FILE OR DEPENDENCY", "EXPECTED", "FOUND"],
          report.findings.map((f) => [
            f.platform,
            f.subject,
            f.expected,
            f.allowed === undefined ? f.found : `${f.found} (allowed by --allow ${f.allowed})`,
          ]),
        );
  const failing = report.findings.filter((f) => f.allowed === undefined).length;
  const verdict = report.ok
    ? `${report.name}: verified ${report.platforms.length} platform${report.platforms.length === 1 ? "" : "s"}`
    : `${report.name}: ${failing} finding${failing === 1 ? "" : "s"}`;
  const notes = report.notes.map((n) => `note: ${n}`);
  return [platforms, "", findings, "", ...notes, verdict].join("\n");
}
