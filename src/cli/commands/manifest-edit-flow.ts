import type { Command } from "commander";
import { parseEndpoint } from "../../endpoints/endpoint.js";
import { openTarget } from "../../endpoints/open.js";
import { PolypackError } from "../../errors/index.js";
import { readArtifact, type Artifact } from "../../image/image.js";
import { checkIndex } from "../../manifest/check.js";
import type { IndexDraft } from "../../manifest/draft.js";
import { draftIndex, publishIndex } from "../../manifest/publish.js";
import { canonicalIndexName, IndexStore } from "../../manifest/store.js";
import { Reference } from "../../registry/reference.js";
import type { CliContext } from "../context.js";
import {
  ManifestSession,
  registryHosts,
  renderReport,
  reportOf,
  sameDraft,
  type AccessFlags,
} from "./manifest-common.js";

/** What an edit gives: the new draft, and images it already read (so they are not read again). */
export interface EditResult {
  draft: IndexDraft;
  known?: ReadonlyMap<string, Artifact>;
}

/**
 * Runs `manifest add`, `annotate` or `rm` on INDEX: on the local index store's copy (checked,
 * then kept; nothing is written when the result is the same index), or with `--publish` on the
 * index published at INDEX (read, changed, checked, written back: children and index by digest,
 * the tag last). With `verify` in the flags (add, annotate), a published edit is verified first.
 */
export async function runEdit(
  ctx: CliContext,
  command: Command,
  indexText: string,
  flags: AccessFlags & { publish?: boolean; verify?: boolean; allow?: string[] },
  sourceTexts: readonly string[],
  change: (draft: IndexDraft, session: ManifestSession) => Promise<EditResult>,
): Promise<void> {
  const destination = parseEndpoint(indexText);
  const session = new ManifestSession(
    ctx,
    command,
    flags,
    destination,
    registryHosts([indexText, ...sourceTexts]),
  );
  try {
    if (flags.publish) {
      if (destination.kind !== "registry") {
        throw new PolypackError(
          "FLAGS_CONFLICT",
          `--publish edits an index in a registry, and ${indexText} is not one`,
          {
            hint: "name the published index by its reference, registry/repo:tag",
          },
        );
      }
      const root = await readArtifact(await session.open(destination, true));
      if (root.kind !== "index") {
        throw new PolypackError(
          "MANIFEST_UNSUPPORTED",
          `${indexText} names an image manifest, not an index`,
          {
            hint: "create an index from it with manifest create",
          },
        );
      }
      // The children of a published index live in its own repository.
      const repository = Reference.parse(destination.reference).name;
      const index = await root.index();
      const locations = Object.fromEntries(index.manifests.map((m) => [m.digest, repository]));
      const { draft, known } = await change({ index, locations }, session);
      const edited = draftIndex(draft, session.openLocation, known);
      // An edit that adds or re-labels images is checked as `manifest push` checks, before writing.
      if (flags.verify !== undefined) {
        const { verifyBeforePublish } = await import("../../manifest/verify-gate.js");
        await verifyBeforePublish(
          edited,
          indexText,
          { verify: flags.verify, allow: flags.allow ?? [] },
          (message) => ctx.output.warn(message),
        );
      }
      const { target, tags } = await openTarget(
        destination,
        session.access,
        session.destCreds ? { creds: session.destCreds } : {},
      );
      const report = await publishIndex(edited, indexText, target, tags);
      ctx.output.result(
        await reportOf(indexText, edited, "written", { tags: [...report.tags], blobs: report.blobs }),
        renderReport,
      );
      return;
    }
    const name = canonicalIndexName(indexText);
    const store = IndexStore.default();
    const stored = await store.read(name);
    if (!stored) {
      throw new PolypackError("MANIFEST_LOCAL_NOT_FOUND", `no local index ${name} in ${store.root}`);
    }
    const { draft, known } = await change(stored, session);
    const edited = draftIndex(draft, session.openLocation, known);
    await checkIndex(edited, name);
    const unchanged = sameDraft(stored, draft);
    if (!unchanged) await store.write({ name, ...draft });
    ctx.output.result(await reportOf(name, edited, unchanged ? "unchanged" : "local"), renderReport);
  } finally {
    await session.close();
  }
}
