import type { Command } from "commander";
import { addExamples } from "../help.js";
import { parseEndpoint } from "../../endpoints/endpoint.js";
import type { ContentSource } from "../../oci/content.js";
import { Platform } from "../../oci/platform.js";
import type { JoinResult } from "../../manifest/join.js";
import { openSource, openTarget } from "../../endpoints/open.js";
import type { CliContext } from "../context.js";
import { addCredsOptions, parseCreds } from "../creds-option.js";
import { renderTable } from "../table.js";

/**
 * `polypack manifest create TARGET SRC...`: joins single-platform images (pushed by digest on
 * separate machines, say) into one multi-arch index, pushed by digest first and tagged last.
 */
export function registerManifestCreate(manifest: Command, context: () => CliContext): void {
  const command = manifest
    .command("create")
    .description(
      "join per-platform images into one multi-arch index (children and index by digest, tags last)",
    )
    .argument(
      "<target>",
      "where the index goes: registry reference (its tag is written last), oci:DIR[:REF] or .cnb",
    )
    .argument(
      "<sources...>",
      "images to join, e.g. registry/repo@sha256:...; an index contributes its children",
    );
  addExamples(command, [
    {
      does: "join two images pushed by digest into one index tagged 1.0.0",
      run: "polypack manifest create registry.example.com/me/bp:1.0.0 registry.example.com/me/bp@sha256:1a… registry.example.com/me/bp@sha256:2b…",
    },
    {
      does: "join them into a multi-arch .cnb file",
      run: "polypack manifest create bp.cnb oci:./amd64 oci:./arm64",
    },
  ]);
  addCredsOptions(command).action(
    async (targetText: string, sourceTexts: string[], options: { srcCreds?: string; destCreds?: string }) => {
      const srcCreds = parseCreds(command, "--src-creds", options.srcCreds);
      const destCreds = parseCreds(command, "--dest-creds", options.destCreds);
      const { joinImages } = await import("../../manifest/join.js");
      const ctx = context();
      const destination = parseEndpoint(targetText);
      const sources: ContentSource[] = [];
      // --src-creds go to each source's registry; the unscoped ones only to the destination's.
      const side = { destination, ...(srcCreds ? { creds: srcCreds } : {}) };
      try {
        for (const text of sourceTexts) sources.push(await openSource(parseEndpoint(text), ctx, side));
        const { target, tags } = await openTarget(destination, ctx, destCreds ? { creds: destCreds } : {});
        const result = await joinImages(sources, target, tags);
        ctx.output.result({ target: targetText, ...result }, renderJoin);
      } finally {
        for (const source of sources) await source.close?.();
      }
    },
  );
}

function renderJoin(result: JoinResult & { target: string }): string {
  const rows = result.manifests.map((m) => [
    m.platform ? Platform.fromJSON(m.platform).toString() : "",
    m.digest,
  ]);
  const tags = result.tags.length > 0 ? `, tagged ${result.tags.join(", ")}` : " (no tag)";
  return `${renderTable(["PLATFORM", "DIGEST"], rows)}\n\nindex ${result.index.digest}${tags}`;
}
