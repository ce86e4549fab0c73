import type { Command } from "commander";
import type { Index } from "../../image/image.js";
import { describe, inspect, type InspectResult } from "../../manifest/inspect.js";
import { parseEndpoint } from "../../endpoints/endpoint.js";
import { formatBytes, renderTable, shortDigest } from "../table.js";
import { openSource } from "../../endpoints/open.js";
import type { CliContext } from "../context.js";

/** `polypack manifest inspect LOCATION`: prints an index or image with its platforms. */
export function registerManifestInspect(manifest: Command, context: () => CliContext): void {
  manifest
    .command("inspect")
    .description(
      "print an image index or image manifest with its platforms (local index store, registry, OCI layout or .cnb)",
    )
    .argument(
      "<location>",
      "local index or registry reference, OCI layout directory (oci:DIR[:REF]) or .cnb file",
    )
    .option("--raw", "print the manifest bytes exactly as stored")
    .action(async (location: string, options: { raw?: boolean }) => {
      const ctx = context();
      const local = await localIndex(location);
      if (local) {
        if (options.raw) process.stdout.write(await local.index.manifestBytes());
        else ctx.output.result({ ...(await describe(local.name, local.index)), local: true }, renderInspect);
        return;
      }
      const source = await openSource(parseEndpoint(location), ctx);
      try {
        if (options.raw) {
          // The stored bytes exactly (no newline added), so their sha256 is the manifest's digest.
          process.stdout.write(await source.fetchManifest(await source.resolve()));
          return;
        }
        ctx.output.result(await inspect(source), renderInspect);
      } finally {
        await source.close?.();
      }
    });
}

/**
 * The index kept in the local index store under `location`, which inspect shows before asking a
 * registry (as pack does); undefined when `location` is not a reference or no index is kept.
 */
async function localIndex(location: string): Promise<{ name: string; index: Index } | undefined> {
  const endpoint = parseEndpoint(location);
  if (endpoint.kind !== "registry" || endpoint.reference.includes("@")) return undefined;
  const { canonicalIndexName, IndexStore } = await import("../../manifest/store.js");
  const { draftIndex } = await import("../../manifest/publish.js");
  const name = canonicalIndexName(location);
  const stored = await IndexStore.default().read(name);
  if (!stored) return undefined;
  // Inspect shows the index alone, so its children are never opened.
  const index = draftIndex(stored, () => Promise.reject(new Error("inspect reads no child")));
  return { name: `local index ${name}`, index };
}

/** The text form of an inspect result. */
export function renderInspect(result: InspectResult): string {
  const head = [
    `Name:       ${result.name}`,
    `Digest:     ${result.digest}`,
    `Media type: ${result.mediaType}`,
    `Size:       ${result.size}`,
  ];
  if (result.kind === "index") {
    const rows = result.manifests.map((m) => [m.platform || "(none)", m.digest, String(m.size), m.mediaType]);
    return [
      ...head,
      `Manifests:  ${result.manifests.length}`,
      "",
      renderTable(["PLATFORM", "DIGEST", "SIZE", "MEDIA TYPE"], rows),
    ].join("\n");
  }
  const layers = result.layers.map((l, i) => [
    String(i),
    shortDigest(l.digest),
    formatBytes(l.size),
    l.mediaType,
  ]);
  const labels = Object.keys(result.labels).sort();
  return [
    ...head,
    `Platform:   ${result.platform || "(none)"}`,
    `Config:     ${result.config.digest}`,
    ...(result.created ? [`Created:    ${result.created}`] : []),
    `Labels:     ${labels.length ? labels.join(", ") : "(none)"}`,
    "",
    renderTable(["#", "LAYER", "SIZE", "MEDIA TYPE"], layers),
  ].join("\n");
}
