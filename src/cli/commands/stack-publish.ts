import type { Command } from "commander";
import { addExamples } from "../help.js";
import { parseEndpoint, type Endpoint } from "../../endpoints/endpoint.js";
import { openSource } from "../../endpoints/open.js";
import type { ContentSource } from "../../oci/content.js";
import type { CliContext } from "../context.js";
import { choiceFlag } from "../flag-parsers.js";
import { chooseStackOutput, openStackOutput, renderStackReport, stackReport } from "./stack-output.js";

interface PublishFlags {
  build: string[];
  run: string[];
  publish?: boolean;
  format?: "layout" | "image";
  output?: string;
}

/**
 * `polypack stack publish BUILD_NAME RUN_NAME --build SRC... --run SRC...`: joins per-platform build
 * and run images made elsewhere into two multi-arch indexes, after checking them (see publishStack).
 */
export function registerStackPublish(stack: Command, context: () => CliContext): void {
  const command = stack
    .command("publish")
    .description("join per-platform build and run images into multi-arch build and run indexes, checked")
    .argument("<build-name>", "the build index: registry reference (--publish) or layout ref name")
    .argument("<run-name>", "the run index: registry reference (--publish) or layout ref name")
    .requiredOption(
      "--build <image...>",
      "per-platform build images: registry references, oci:DIR[:REF], oci-archive:FILE",
    )
    .requiredOption("--run <image...>", "per-platform run images, as --build")
    .option("--publish", "push BUILD_NAME and RUN_NAME to their registry")
    .option(
      "-f, --format <format>",
      "layout (OCI image layout at --output) or image (registry)",
      choiceFlag("--format", ["layout", "image"], "FORMAT_INVALID"),
    )
    .option(
      "-o, --output <dir>",
      "the OCI layout that takes both indexes (ref names BUILD_NAME and RUN_NAME)",
    )
    .action(async (buildName: string, runName: string, flags: PublishFlags) => {
      const ctx = context();
      const { publishStack } = await import("../../stack/publish.js");
      const { readArtifact } = await import("../../image/image.js");
      const { writeStack } = await import("../../stack/write-stack.js");
      const { formatDistro } = await import("../../stack/labels.js");
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
        const builds = [];
        for (const text of flags.build) builds.push(await open(text));
        const runs = [];
        for (const text of flags.run) runs.push(await open(text));
        const stack = await publishStack(builds, runs);
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
            distro: t.distro ? formatDistro(t.distro) : undefined,
          })),
        );
        ctx.output.result(stackReport({ build: buildName, run: runName }, written, rows), renderStackReport);
      } finally {
        for (const source of sources) await source.close?.();
      }
    });
  addExamples(command, [
    {
      does: "join per-platform images built on each architecture",
      run: "polypack stack publish registry.example.com/me/build:1 registry.example.com/me/run:1 --build oci:./build-amd64 --build oci:./build-arm64 --run oci:./run-amd64 --run oci:./run-arm64",
    },
    {
      does: "from images pushed by digest",
      run: "polypack stack publish registry.example.com/me/build:1 registry.example.com/me/run:1 --build registry.example.com/me/build@sha256:1a… --build registry.example.com/me/build@sha256:2b… --run registry.example.com/me/run@sha256:3c… --run registry.example.com/me/run@sha256:4d…",
    },
  ]);
}
