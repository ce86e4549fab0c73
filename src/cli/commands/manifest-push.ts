import type { Command } from "commander";
import { addExamples } from "../help.js";
import { parseEndpoint } from "../../endpoints/endpoint.js";
import { openTarget } from "../../endpoints/open.js";
import { PolypackError } from "../../errors/index.js";
import type { CliContext } from "../context.js";
import { choiceFlag, collect } from "../flag-parsers.js";
import { chooseOutput } from "../output-choice.js";
import {
  addAccessOptions,
  ManifestSession,
  registryHosts,
  renderReport,
  reportOf,
  addVerifyOptions,
  type AccessFlags,
} from "./manifest-common.js";

interface PushFlags extends AccessFlags {
  verify: boolean;
  allow: string[];
  format?: "oci" | "docker";
  purge?: boolean;
  tag?: string[];
  byDigest?: boolean;
  dryRun?: boolean;
}

/**
 * `polypack manifest push INDEX` (pack's verb and flags): writes a local index to the registry
 * INDEX names. Every child and blob the repository lacks is copied, or mounted when it lives in
 * another repository of the same registry (pack pushes only the index), each blob once; the
 * children are checked first, and the tags move last. `--purge` deletes the local index after.
 */
export function registerManifestPush(manifest: Command, context: () => CliContext): void {
  const command = manifest
    .command("push")
    .description("push a local index with its children (copied or mounted into its repository), tags last")
    .argument("<index>", "the local index's reference")
    .option(
      "--format <format>",
      "oci (image index) or docker (manifest list)",
      choiceFlag("--format", ["oci", "docker"] as const),
    )
    .option("--purge", "delete the local index once pushed")
    .option("--tag <tag>", "another tag for the index (repeatable)", collect)
    .option("--by-digest", "push without moving any tag")
    .option("--dry-run", "print the index and its digest; write nothing");
  addVerifyOptions(command);
  addExamples(command, [
    {
      does: "push a local index (children mounted or copied into its repository)",
      run: "polypack manifest push registry.example.com/me/bp:1.0.0",
    },
    {
      does: "push it and forget the local copy",
      run: "polypack manifest push registry.example.com/me/bp:1.0.0 --purge",
    },
  ]);
  addAccessOptions(command).action(async (indexText: string, flags: PushFlags) => {
    const { canonicalIndexName, IndexStore } = await import("../../manifest/store.js");
    const { withFormat } = await import("../../manifest/draft.js");
    const { checkIndex } = await import("../../manifest/check.js");
    const { draftIndex, publishIndex } = await import("../../manifest/publish.js");
    if (flags.byDigest && (flags.tag ?? []).length > 0) {
      throw new PolypackError("FLAGS_CONFLICT", "--by-digest pushes no tag, and --tag asks for one");
    }
    const ctx = context();
    const name = canonicalIndexName(indexText);
    const store = IndexStore.default();
    const stored = await store.read(name);
    if (!stored)
      throw new PolypackError("MANIFEST_LOCAL_NOT_FOUND", `no local index ${name} in ${store.root}`);
    const choice = chooseOutput(name, {
      publish: true,
      tags: flags.tag ?? [],
      byDigest: flags.byDigest ?? false,
    });
    if (choice.kind !== "registry") throw new Error("a push always goes to a registry");
    const destination = parseEndpoint(name);
    const session = new ManifestSession(
      ctx,
      command,
      flags,
      destination,
      registryHosts([name, ...Object.values(stored.locations)]),
    );
    try {
      const draft = flags.format ? withFormat(stored, flags.format) : stored;
      const index = draftIndex(draft, session.openLocation);
      if (flags.dryRun) {
        await checkIndex(index, name);
        ctx.output.result(await reportOf(name, index, "dry-run"), renderReport);
        return;
      }
      await checkIndex(index, name);
      const { verifyBeforePublish } = await import("../../manifest/verify-gate.js");
      await verifyBeforePublish(index, name, flags, (message) => ctx.output.warn(message));
      const { target } = await openTarget(
        destination,
        session.access,
        session.destCreds ? { creds: session.destCreds } : {},
      );
      const report = await publishIndex(index, name, target, choice.tags);
      if (flags.purge) await store.remove(name);
      ctx.output.result(
        await reportOf(name, index, "written", { tags: [...report.tags], blobs: report.blobs }),
        renderReport,
      );
    } finally {
      await session.close();
    }
  });
}
