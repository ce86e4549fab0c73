import type { Command } from "commander";
import { addExamples } from "../help.js";
import { parseEndpoint } from "../../endpoints/endpoint.js";
import { openTarget } from "../../endpoints/open.js";
import { PolypackError } from "../../errors/index.js";
import type { CliContext } from "../context.js";
import { choiceFlag, collect } from "../flag-parsers.js";
import {
  addAccessOptions,
  keyValues,
  ManifestSession,
  platformsOf,
  registryHosts,
  renderReport,
  reportOf,
  sameDraft,
  addSources,
  addVerifyOptions,
  type AccessFlags,
} from "./manifest-common.js";

interface CreateFlags extends AccessFlags {
  verify: boolean;
  allow: string[];
  format: "oci" | "docker";
  publish?: boolean;
  annotation?: string[];
  platform?: string[];
  dryRun?: boolean;
}

/**
 * `polypack manifest create INDEX SRC...` (pack's verb): an index of the images the sources name
 * (an index given as a source contributes its images). Kept in the local index store for `add`,
 * `annotate`, `rm` and `push` when INDEX is a reference; written at once with `--publish`, or when
 * INDEX is an OCI layout or a `.cnb`. `--dry-run` prints the index and its digest only.
 */
export function registerManifestCreate(manifest: Command, context: () => CliContext): void {
  const command = manifest
    .command("create")
    .description("make a multi-arch index of images: kept locally to edit and push, or written at once")
    .argument(
      "<index>",
      "the index: registry reference (kept locally unless --publish), oci:DIR[:REF] or .cnb",
    )
    .argument(
      "<sources...>",
      "images or indexes (any registry, oci:DIR[:REF], .cnb); an index gives its images",
    )
    .option(
      "--format <format>",
      "oci (image index) or docker (manifest list)",
      choiceFlag("--format", ["oci", "docker"] as const),
      "oci",
    )
    .option("--publish", "push the index (and any children the repository lacks) now, tag last")
    .option("--annotation <key=value>", "index-level annotation (repeatable)", collect)
    .option(
      "--platform <os/arch[/variant]>",
      "take only these platforms from the sources (repeatable)",
      collect,
    )
    .option("--dry-run", "print the index and its digest; write nothing");
  addVerifyOptions(command);
  addExamples(command, [
    {
      does: "join two images pushed by digest into one local index",
      run: "polypack manifest create registry.example.com/me/bp:1.0.0 registry.example.com/me/bp@sha256:1a… registry.example.com/me/bp@sha256:2b…",
    },
    {
      does: "push it at once, with an index annotation",
      run: "polypack manifest create registry.example.com/me/bp:1.0.0 registry.example.com/me/bp-amd64:1 registry.example.com/me/bp-arm64:1 --annotation org.opencontainers.image.version=1.0.0 --publish",
    },
    {
      does: "learn the digest without pushing",
      run: "polypack manifest create registry.example.com/me/bp:1.0.0 registry.example.com/me/bp@sha256:1a… registry.example.com/me/bp@sha256:2b… --dry-run",
    },
  ]);
  addAccessOptions(command).action(async (indexText: string, sourceTexts: string[], flags: CreateFlags) => {
    const { emptyDraft } = await import("../../manifest/draft.js");
    const { checkIndex } = await import("../../manifest/check.js");
    const { draftIndex } = await import("../../manifest/publish.js");
    const { write } = await import("../../image/write.js");
    const { canonicalIndexName, IndexStore } = await import("../../manifest/store.js");
    const ctx = context();
    const annotations = keyValues("--annotation", flags.annotation);
    const platforms = platformsOf(flags.platform);
    const destination = parseEndpoint(indexText);
    // Checked before any source is read, so a bad INDEX fails at once.
    const name =
      destination.kind === "registry" && !flags.publish ? canonicalIndexName(indexText) : indexText;
    const session = new ManifestSession(
      ctx,
      command,
      flags,
      destination,
      registryHosts([indexText, ...sourceTexts]),
    );
    try {
      const { draft, known } = await addSources(
        emptyDraft(flags.format, annotations),
        sourceTexts,
        platforms,
        session,
      );
      const index = draftIndex(draft, session.openLocation, known);
      await checkIndex(index, name);
      if (flags.dryRun) {
        ctx.output.result(await reportOf(name, index, "dry-run"), renderReport);
        return;
      }
      if (destination.kind !== "registry" || flags.publish) {
        const { verifyBeforePublish } = await import("../../manifest/verify-gate.js");
        await verifyBeforePublish(index, name, flags, (message) => ctx.output.warn(message));
        const { target, tags } = await openTarget(
          destination,
          session.access,
          session.destCreds ? { creds: session.destCreds } : {},
        );
        const report = await write(index, target, { tags });
        ctx.output.result(
          await reportOf(name, index, "written", { tags: [...report.tags], blobs: report.blobs }),
          renderReport,
        );
        return;
      }
      const store = IndexStore.default();
      const existing = await store.read(name);
      if (existing && !sameDraft(existing, draft)) {
        throw new PolypackError("MANIFEST_LOCAL_EXISTS", `a different local index ${name} exists`, {
          hint: `edit it with manifest add/annotate/rm, or delete it first with manifest remove ${name}`,
        });
      }
      if (!existing) await store.write({ name, ...draft });
      ctx.output.result(await reportOf(name, index, existing ? "unchanged" : "local"), renderReport);
    } finally {
      await session.close();
    }
  });
}
