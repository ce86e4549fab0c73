import type { Command } from "commander";
import { addExamples } from "../help.js";
import { PolypackError } from "../../errors/index.js";
import { join } from "node:path";
import { defaultCacheHome } from "../../dependencies/cache-dir.js";
import type { Endpoint } from "../../endpoints/endpoint.js";
import type { ContentSource } from "../../oci/content.js";
import type { LayerScans } from "../../verify/image-tree.js";
import { openSource, openTarget } from "../../endpoints/open.js";
import { polypackVersion } from "../../version.js";
import type { CliContext } from "../context.js";
import { choiceFlag, collect } from "../flag-parsers.js";
import { parseLabels } from "../labels-flag.js";
import { chooseOutput } from "../output-choice.js";
import { renderTable } from "../table.js";
import type { PlatformSboms } from "../../sbom/sbom.js";
import { deliverSboms, reportSboms, sbomTiming, type SbomRow } from "./sbom.js";
import { tagElsewhere } from "../tag-elsewhere.js";

interface BuilderFlags {
  config: string;
  target: string[];
  format?: string;
  output?: string;
  publish?: boolean;
  tag: string[];
  byDigest?: boolean;
  label: string[];
  pullPolicy?: string;
  strict?: boolean;
  dryRun?: boolean;
  lifecycleMirror?: string;
  verify: boolean;
  /** True with --sbom, false with --no-sbom, unset by default. */
  sbom?: boolean;
  allow: string[];
  flatten: string[];
}

/** The `--json` shape of `builder create`. */
export interface BuilderReport {
  name: string;
  digest: string;
  tags: string[];
  written: boolean;
  /** What this run wrote: 0 manifests and 0 blobs uploaded when the destination had everything. */
  counts?: { manifests: number; blobsUploaded: number; blobsMounted: number; bytesUploaded: number };
  targets: {
    platform: string;
    digest: string;
    lifecycle: string;
    buildpacks: string[];
    extensions: string[];
    skipped: string[];
  }[];
}

/**
 * `polypack builder create NAME --config builder.toml`: a multi-arch builder, one image per target
 * made from that platform's build image, lifecycle and buildpacks, as one index.
 */
export function registerBuilderCreate(parent: Command, context: () => CliContext): void {
  const command = parent
    .command("create")
    .description("create a multi-arch builder from builder.toml: one image per target, joined in one index")
    .argument("<name>", "image reference to push to (--publish), or the .cnb file / layout to write")
    .requiredOption("-c, --config <builder.toml>", "the builder configuration")
    .option(
      "-t, --target <os/arch[/variant]>",
      "a target (repeatable; default: [[targets]], else the build image's platforms)",
      collect,
      [],
    )
    .option(
      "-f, --format <format>",
      "file (.cnb), layout (OCI image layout) or image (registry)",
      choiceFlag("--format", ["file", "layout", "image"], "FORMAT_INVALID"),
    )
    .option("-o, --output <path>", "where the .cnb file or layout directory goes")
    .option("--publish", "push the builder to the registry NAME names")
    .option(
      "--tag <tag>",
      "another tag, REPOSITORY:TAG of the same registry (copied there with its SBOMs), or layout ref (repeatable)",
      collect,
      [],
    )
    .option(
      "--by-digest",
      "push without any tag and print the digest (one target per CI job; join with manifest create)",
    )
    .option("-l, --label <name=value>", "a label for every builder image (repeatable)", collect, [])
    .option(
      "--pull-policy <policy>",
      "always, if-not-present or never (accepted for pack's scripts: images are always read from where they live)",
      choiceFlag("--pull-policy", ["always", "if-not-present", "never"], "FLAG_INVALID"),
    )
    .option("--strict", "fail when a run image cannot be checked or a buildpack lacks a target")
    .option("--dry-run", "show the builder's images and index digest without writing anything")
    .option("--no-verify", "skip checking that the lifecycle and buildpacks hold programs for each target")
    .option("--sbom", "also attach SBOMs in an OCI layout (a publish and a .cnb get them by default)")
    .option("--no-sbom", "write no SBOMs")
    .option(
      "--allow <pattern>",
      "a path meant to be foreign, such as a cross-compiler (repeatable)",
      collect,
      [],
    )
    .option(
      "--flatten <id@version,...>",
      "buildpacks to put together into one layer, as pack --flatten (repeatable: one layer each)",
      collect,
      [],
    )
    .option(
      "--lifecycle-mirror <url|dir>",
      "where lifecycle releases are downloaded from (or POLYPACK_LIFECYCLE_MIRROR)",
    )
    .action(async (name: string, flags: BuilderFlags) => {
      const ctx = context();
      const { readBuilderConfig } = await import("../../builder/config.js");
      const { createBuilder } = await import("../../builder/create.js");
      const { lifecycleResolver } = await import("../../builder/lifecycle-source.js");
      const { LayerSpool } = await import("../../image/spool.js");
      const { write } = await import("../../image/write.js");
      const labels = parseLabels(flags.label);
      const choice = flags.dryRun ? undefined : chooseOutput(name, { ...flags, tags: flags.tag });
      const { parseTargetFlag } = await import("../../package/plan-targets.js");
      const targets = flags.target.map((text) => {
        const target = parseTargetFlag(text);
        return { platform: target.platform, distros: target.distros };
      });
      const config = await readBuilderConfig(flags.config);
      for (const key of config.unknownKeys) ctx.output.warn(`${config.file}: unknown key ${key} is ignored`);
      const open = (endpoint: Endpoint): Promise<ContentSource> => openSource(endpoint, ctx);
      const destination: Endpoint | undefined =
        choice === undefined
          ? undefined
          : choice.kind === "registry"
            ? { kind: "registry", reference: choice.reference.toString() }
            : choice.kind === "file"
              ? { kind: "cnb", path: choice.path }
              : { kind: "layout", path: choice.path };
      const opened = destination ? await openTarget(destination, ctx) : undefined;
      const spool = await LayerSpool.create(choice && choice.kind !== "registry" ? choice.path : undefined);
      const progress = ctx.output.progress();
      try {
        const builder = await createBuilder(
          {
            config,
            ...(targets.length > 0 ? { targets } : {}),
            ...(flags.label.length > 0 ? { labels } : {}),
            strict: flags.strict ?? false,
            ...(flags.flatten.length > 0 ? { flatten: flags.flatten.map(flattenGroup) } : {}),
            createdBy: { name: "polypack", version: polypackVersion() },
          },
          {
            openSource: open,
            lifecycleFor: lifecycleResolver({
              lifecycle: config.lifecycle,
              dir: config.dir,
              ...(flags.lifecycleMirror !== undefined ? { mirror: flags.lifecycleMirror } : {}),
              openSource: open,
              download: {
                ...(ctx.registry.caFile ? { caFile: ctx.registry.caFile } : {}),
                ...(ctx.registry.timeoutMs ? { idleTimeoutMs: ctx.registry.timeoutMs } : {}),
              },
            }),
            spool,
            downloads: {
              ...(ctx.registry.caFile ? { caFile: ctx.registry.caFile } : {}),
              ...(ctx.registry.timeoutMs ? { idleTimeoutMs: ctx.registry.timeoutMs } : {}),
            },
            ...(opened ? { memberCache: join(defaultCacheHome(), "layers") } : {}),
            onWarning: (message) => ctx.output.warn(message),
          },
        );
        // The builder's own layers are read once, for verify and the SBOMs alike.
        const { sharedScans } = await import("../../verify/image-tree.js");
        const scansOf = new Map<(typeof builder.targets)[number], LayerScans>();
        for (const target of builder.targets) scansOf.set(target, sharedScans(await target.added.layers()));
        // What the builder adds (lifecycle, buildpacks, files) is verified as `polypack verify` would,
        // before anything is written; the build image's own layers are the stack's business.
        if (flags.verify) {
          const { requireVerified } = await import("../../verify/verify.js");
          for (const target of builder.targets) {
            await requireVerified(target.added, {
              name: `builder ${name} (${target.platform.toString()})`,
              allow: flags.allow,
              scans: scansOf.get(target)!,
            });
          }
        } else {
          ctx.output.warn("--no-verify: the builder's programs were not checked against their targets");
        }
        const tags = choice === undefined ? [] : choice.kind === "registry" ? choice.tags : choice.refs;
        let digest: string;
        let counts: BuilderReport["counts"];
        const elsewhere: string[] = [];
        // SBOMs of the builder, its lifecycle and buildpacks, per target (see sbomTiming).
        const sbomRows: SbomRow[] = [];
        const timing = choice ? sbomTiming(choice, flags.sbom) : "none";
        const sbomsOf = async (): Promise<PlatformSboms[]> => {
          const { makeSboms } = await import("../../sbom/sbom.js");
          const out: PlatformSboms[] = [];
          for (const target of builder.targets) {
            const subject = await target.image.descriptor();
            out.push(...(await makeSboms(target.added, { name, subject, scans: scansOf.get(target)! })));
          }
          return out;
        };
        if (opened) {
          const report = await write(builder.index, opened.target, {
            tags,
            onEvent: (event) => progress.onEvent(event),
            ...(choice && timing === "before-tags"
              ? {
                  beforeTags: async () => {
                    sbomRows.push(...(await deliverSboms(choice, ctx, await sbomsOf())));
                  },
                }
              : {}),
          });
          if (choice && timing === "after")
            sbomRows.push(...(await deliverSboms(choice, ctx, await sbomsOf())));
          // `--tag REPOSITORY:TAG` of the same registry: copied there with its SBOMs, tag last.
          if (choice) elsewhere.push(...(await tagElsewhere(choice, report.root, ctx, progress)));
          digest = report.root.digest;
          counts = {
            manifests: report.manifests,
            blobsUploaded: report.blobs.uploaded + report.blobs.moved,
            blobsMounted: report.blobs.mounted,
            bytesUploaded: report.blobs.bytesUploaded,
          };
        } else {
          digest = (await builder.index.descriptor()).digest;
        }
        const report: BuilderReport = {
          name,
          digest,
          tags: opened ? [...tags, ...elsewhere] : [],
          written: opened !== undefined,
          ...(counts ? { counts } : {}),
          targets: await Promise.all(
            builder.targets.map(async (target) => ({
              platform: target.platform.toString(),
              digest: (await target.image.descriptor()).digest,
              lifecycle: target.lifecycle,
              buildpacks: target.buildpacks.map((m) => `${m.id}@${m.version}`),
              extensions: target.extensions.map((m) => `${m.id}@${m.version}`),
              skipped: target.skipped,
            })),
          ),
        };
        progress.finish();
        if (choice) reportSboms(ctx, choice, flags.sbom, sbomRows);
        ctx.output.result(report, renderReport);
      } finally {
        progress.finish();
        await spool.remove();
      }
    });
  addExamples(command, [
    {
      does: "create a builder for every target and push it",
      run: "polypack builder create registry.example.com/me/builder:1 --config builder.toml --publish",
    },
    {
      does: "the same into an OCI layout",
      run: "polypack builder create builder --config builder.toml --format layout --output ./builder-oci",
    },
    {
      does: "one target per CI job, by digest (join with manifest create)",
      run: "polypack builder create registry.example.com/me/builder --config builder.toml --target linux/arm64 --publish --by-digest",
    },
  ]);
}

function renderReport(report: BuilderReport): string {
  const rows = report.targets.map((t) => [t.platform, t.digest, t.lifecycle, t.buildpacks.join(", ")]);
  const what = report.written
    ? report.tags.length > 0
      ? `, tagged ${report.tags.join(", ")}`
      : " (no tag)"
    : " (dry run: nothing written)";
  return `${renderTable(["PLATFORM", "DIGEST", "LIFECYCLE", "BUILDPACKS"], rows)}\n\nbuilder ${report.name} ${report.digest}${what}`;
}

/** One `--flatten` value: `<id>@<version>` names joined by commas, as pack takes them. */
function flattenGroup(value: string): string[] {
  const names = value
    .split(",")
    .map((name) => name.trim())
    .filter((name) => name !== "");
  const bad = names.find((name) => !/^[^@\s]+@[^@\s]+$/.test(name));
  if (names.length === 0 || bad !== undefined) {
    throw new PolypackError(
      "FLAG_INVALID",
      `--flatten ${JSON.stringify(value)}: ${bad === undefined ? "names no buildpack" : `${JSON.stringify(bad)} is not <id>@<version>`}`,
      { hint: "give --flatten <id>@<version>,<id>@<version> (one layer per --flatten)" },
    );
  }
  return names;
}
