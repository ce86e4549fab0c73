import type { Command } from "commander";
import type { CliContext } from "../context.js";
import { addAccessOptions, entryDigest, type AccessFlags } from "./manifest-common.js";
import { runEdit } from "./manifest-edit-flow.js";

/**
 * `polypack manifest rm INDEX DIGEST|SRC...` (pack's verb): drops entries from an index, the
 * local one or with `--publish` the published one. An entry the index does not list is
 * MANIFEST_ENTRY_NOT_FOUND, and nothing is changed.
 */
export function registerManifestRm(manifest: Command, context: () => CliContext): void {
  const command = manifest
    .command("rm")
    .description("drop entries from an index (local, or published with --publish)")
    .argument("<index>", "the index: a local index's reference, or a published one with --publish")
    .argument("<entries...>", "the entries: digests, references with digests, or the images themselves")
    .option("--publish", "edit the index published at INDEX in place (tag moved last)");
  addAccessOptions(command).action(
    async (indexText: string, entryTexts: string[], flags: AccessFlags & { publish?: boolean }) => {
      const { removeImages } = await import("../../manifest/draft.js");
      await runEdit(context(), command, indexText, flags, entryTexts, async (draft, session) => {
        const digests: string[] = [];
        for (const text of entryTexts) digests.push(await entryDigest(session, text));
        return { draft: removeImages(draft, digests, indexText) };
      });
    },
  );
}
