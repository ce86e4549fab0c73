import type { Command } from "commander";
import { addExamples } from "../help.js";
import { PolypackError } from "../../errors/index.js";
import { parseEndpoint, type Endpoint } from "../../endpoints/endpoint.js";
import { openSource } from "../../endpoints/open.js";
import type { ContentSource } from "../../oci/content.js";
import { Platform } from "../../oci/platform.js";
import type { CliContext } from "../context.js";
import { choiceFlag, collect, integerFlag } from "../flag-parsers.js";
import { parseLabels } from "../labels-flag.js";
import { chooseStackOutput, openStackOutput, renderStackReport, stackReport } from "./stack-output.js";

interface CreateFlags {
  from: string;
  runFrom?: string;
  target: string[];
  userId: number;
  groupId: number;
  stackId?: string;
  baseId?: string;
  maintainer?: string;
  homepage?: string;
  description?: string;
  released?: string;
  label: string[];
  publish?: boolean;
  format?: "layout" | "image";
  output?: string;
}

/**
 * `polypack stack create BUILD_NAME RUN_NAME --from IMAGE`: turns upstream per-architecture images
 * into a CNB build image and run image for every target, without a daemon (see createStack).
 */
export function registerStackCreate(stack: Command, context: () => CliContext): void {
  const command = stack
    .command("create")
    .description("make CNB build and run images for every platform from upstream base images")
    .argument("<build-name>", "the build image: registry reference (--publish) or layout ref name")
    .argument("<run-name>", "the run image: registry reference (--publish) or layout ref name")
    .requiredOption("--from <image>", "upstream image or multi-arch index: registry reference, oci:DIR[:REF]")
    .option("--run-from <image>", "another upstream for the run image (default: --from)")
    .option(
      "-t, --target <os/arch[/variant]>",
      "a platform to make (repeatable; default: those of --from)",
      collect,
      [],
    )
    .option("--user-id <uid>", "the CNB user's id", integerFlag("--user-id", 1, 2 ** 32 - 2), 1000)
    .option("--group-id <gid>", "the CNB group's id", integerFlag("--group-id", 1, 2 ** 32 - 2), 1000)
    .option("--stack-id <id>", "set io.buildpacks.stack.id and CNB_STACK_ID (read by older platforms)")
    .option("--base-id <id>", "io.buildpacks.base.id (default: the --stack-id)")
    .option("--maintainer <text>", "io.buildpacks.base.maintainer")
    .option("--homepage <url>", "io.buildpacks.base.homepage")
    .option("--description <text>", "io.buildpacks.base.description")
    .option("--released <date>", "io.buildpacks.base.released (RFC 3339, for example 2026-11-29T00:00:00Z)")
    .option("-l, --label <name=value>", "another label for both images (repeatable)", collect, [])
    .option("--publish", "push BUILD_NAME and RUN_NAME to their registry")
    .option(
      "-f, --format <format>",
      "layout (OCI image layout at --output) or image (registry)",
      choiceFlag("--format", ["layout", "image"], "FORMAT_INVALID"),
    )
    .option("-o, --output <dir>", "the OCI layout that takes both images (ref names BUILD_NAME and RUN_NAME)")
    .action(async (buildName: string, runName: string, flags: CreateFlags) => {
      const ctx = context();
      const { createStack } = await import("../../stack/create.js");
      const { readArtifact } = await import("../../image/image.js");
      const { writeStack } = await import("../../stack/write-stack.js");
      const { formatDistro } = await import("../../stack/labels.js");
      const targets = flags.target.map((t) => Platform.parse(t, "--target"));
      const labels = { ...parseLabels(flags.label), ...metadataLabels(flags) };
      const choice = chooseStackOutput(buildName, runName, flags);
      // Unscoped credentials belong to the destination registry, never to a source's.
      const destination: Endpoint | undefined =
        choice.kind === "registry" ? { kind: "registry", reference: buildName } : undefined;
      const sources: ContentSource[] = [];
      try {
        const open = async (text: string) => {
          const source = await openSource(parseEndpoint(text), ctx, { destination });
          sources.push(source);
          return { name: text, artifact: await readArtifact(source) };
        };
        const from = await open(flags.from);
        const runFrom = flags.runFrom !== undefined ? await open(flags.runFrom) : undefined;
        const stack = await createStack({
          from,
          ...(runFrom ? { runFrom } : {}),
          targets,
          uid: flags.userId,
          gid: flags.groupId,
          ...(flags.stackId !== undefined ? { stackId: flags.stackId } : {}),
          labels,
        });
        const progress = ctx.output.progress();
        let written;
        try {
          written = await writeStack(stack, await openStackOutput(choice, ctx), progress.onEvent);
        } finally {
          progress.finish();
        }
        const rows = await Promise.all(
          stack.targets.map(async (t) => ({
            platform: t.platform,
            build: (await t.build.descriptor()).digest,
            run: (await t.run.descriptor()).digest,
            distro: formatDistro(t.distro),
          })),
        );
        ctx.output.result(stackReport({ build: buildName, run: runName }, written, rows), renderStackReport);
      } finally {
        for (const source of sources) await source.close?.();
      }
    });
  addExamples(command, [
    {
      does: "CNB build and run images for amd64 and arm64 from Debian, pushed",
      run: "polypack stack create registry.example.com/me/build:1 registry.example.com/me/run:1 --from docker.io/library/debian:bookworm --publish",
    },
    {
      does: "a distinct run base, a stack id, into a layout",
      run: "polypack stack create build run --from docker.io/library/debian:bookworm --run-from gcr.io/distroless/base-debian12 --stack-id io.example.stack --format layout --output ./stack-oci",
    },
  ]);
}

/** The io.buildpacks.base.* labels the flags set. */
function metadataLabels(flags: CreateFlags): Record<string, string> {
  if (
    flags.released !== undefined &&
    !/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2}))?$/.test(flags.released)
  ) {
    throw new PolypackError(
      "FLAG_INVALID",
      `--released ${JSON.stringify(flags.released)} is not an RFC 3339 date`,
      {
        hint: "for example --released 2026-11-29T00:00:00Z",
      },
    );
  }
  const baseId = flags.baseId ?? flags.stackId;
  const labels: Record<string, string> = {};
  const set = (key: string, value: string | undefined): void => {
    if (value !== undefined) labels[`io.buildpacks.base.${key}`] = value;
  };
  set("id", baseId);
  set("maintainer", flags.maintainer);
  set("homepage", flags.homepage);
  set("description", flags.description);
  set("released", flags.released);
  return labels;
}
