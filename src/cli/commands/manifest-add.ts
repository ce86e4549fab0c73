import type { Command } from "commander";
import { addExamples } from "../help.js";
import type { CliContext } from "../context.js";
import {
  addAccessOptions,
  addSources,
  addVerifyOptions,
  platformsOf,
  type AccessFlags,
} from "./manifest-common.js";
import { collect } from "../flag-parsers.js";
import { runEdit } from "./manifest-edit-flow.js";

/**
 * `polypack manifest add INDEX SRC...` (pack's verb): lists more images in an index, the local
 * one, or with `--publish` the published one. Adding an image already listed changes nothing;
 * another image for a platform already listed is MANIFEST_PLATFORM_DUPLICATE.
 */
export function registerManifestAdd(manifest: Command, context: () => CliContext): void {
  const command = manifest
    .command("add")
    .description("list more images in an index (local, or published with --publish)")
    .argument("<index>", "the index: a local index's reference, or a published one with --publish")
    .argument("<sources...>", "images or indexes to add (an index gives its images)")
    .option(
      "--platform <os/arch[/variant]>",
      "take only these platforms from the sources (repeatable)",
      collect,
    )
    .option("--publish", "edit the index published at INDEX in place (tag moved last)");
  addVerifyOptions(command);
  addExamples(command, [
    {
      does: "add the arm64 image to a local index",
      run: "polypack manifest add registry.example.com/me/bp:1.0.0 registry.example.com/me/bp@sha256:2b…",
    },
    {
      does: "add it to the published index in place",
      run: "polypack manifest add registry.example.com/me/bp:1.0.0 registry.example.com/me/bp-arm64:1.0.0 --publish",
    },
  ]);
  addAccessOptions(command).action(
    async (
      indexText: string,
      sourceTexts: string[],
      flags: AccessFlags & { publish?: boolean; platform?: string[]; verify: boolean; allow: string[] },
    ) => {
      const platforms = platformsOf(flags.platform);
      await runEdit(context(), command, indexText, flags, sourceTexts, (draft, session) =>
        addSources(draft, sourceTexts, platforms, session),
      );
    },
  );
}
