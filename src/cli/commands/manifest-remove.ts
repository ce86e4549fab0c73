import type { Command } from "commander";
import { PolypackError } from "../../errors/index.js";
import type { CliContext } from "../context.js";

/**
 * `polypack manifest remove INDEX...` (pack's verb): deletes indexes from the local index store
 * (never anything in a registry). Every named index that exists is deleted; then one that did not
 * is MANIFEST_LOCAL_NOT_FOUND.
 */
export function registerManifestRemove(manifest: Command, context: () => CliContext): void {
  manifest
    .command("remove")
    .description("delete indexes from the local index store (the registry is not touched)")
    .argument("<indexes...>", "references of local indexes")
    .action(async (indexTexts: string[]) => {
      const { canonicalIndexName, IndexStore } = await import("../../manifest/store.js");
      const ctx = context();
      const store = IndexStore.default();
      const names = indexTexts.map(canonicalIndexName);
      const removed: string[] = [];
      const missing: string[] = [];
      for (const name of names) ((await store.remove(name)) ? removed : missing).push(name);
      if (missing.length > 0) {
        throw new PolypackError(
          "MANIFEST_LOCAL_NOT_FOUND",
          `no local index ${missing.join(", ")} in ${store.root}${removed.length > 0 ? ` (removed ${removed.join(", ")})` : ""}`,
        );
      }
      ctx.output.result({ removed }, (value) =>
        value.removed.map((name) => `removed local index ${name}`).join("\n"),
      );
    });
}
