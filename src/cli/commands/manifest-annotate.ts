import type { Command } from "commander";
import { addExamples } from "../help.js";
import type { CliContext } from "../context.js";
import {
  addAccessOptions,
  addVerifyOptions,
  entryDigest,
  keyValues,
  type AccessFlags,
} from "./manifest-common.js";
import { collect } from "../flag-parsers.js";
import { runEdit } from "./manifest-edit-flow.js";

interface AnnotateFlags extends AccessFlags {
  verify: boolean;
  allow: string[];
  publish?: boolean;
  os?: string;
  arch?: string;
  variant?: string;
  osVersion?: string;
  features?: string;
  annotations?: string[];
  indexAnnotation?: string[];
}

/**
 * `polypack manifest annotate INDEX SRC` (pack's verb and flags): sets an entry's platform fields
 * and descriptor annotations, and with `--index-annotation` the index's own. The entry must be
 * listed (MANIFEST_ENTRY_NOT_FOUND), and its platform must still agree with its image's config
 * (checked before the index is kept or pushed).
 */
export function registerManifestAnnotate(manifest: Command, context: () => CliContext): void {
  const command = manifest
    .command("annotate")
    .description("set an index entry's platform fields and annotations (local, or published with --publish)")
    .argument("<index>", "the index: a local index's reference, or a published one with --publish")
    .argument("<source>", "the entry: its digest, a reference with its digest, or the image itself")
    .option("--os <os>", "the entry's os")
    .option("--arch <arch>", "the entry's architecture")
    .option("--variant <variant>", "the entry's CPU variant")
    .option("--os-version <version>", "the entry's os.version")
    .option("--features <list>", "the entry's os.features, comma-separated")
    .option("--annotations <key=value>", "descriptor annotation of the entry (repeatable)", collect)
    .option(
      "--index-annotation <key=value>",
      "index-level annotation; an empty value removes it (repeatable)",
      collect,
    )
    .option("--publish", "edit the index published at INDEX in place (tag moved last)");
  addVerifyOptions(command);
  addExamples(command, [
    {
      does: "set the variant of an entry",
      run: "polypack manifest annotate registry.example.com/me/bp:1.0.0 registry.example.com/me/bp@sha256:2b… --variant v8",
    },
    {
      does: "annotate an entry",
      run: "polypack manifest annotate registry.example.com/me/bp:1.0.0 registry.example.com/me/bp@sha256:2b… --annotations org.opencontainers.image.source=https://example.com/bp",
    },
  ]);
  addAccessOptions(command).action(async (indexText: string, sourceText: string, flags: AnnotateFlags) => {
    const { annotateImage, annotateIndex } = await import("../../manifest/draft.js");
    const annotations = keyValues("--annotations", flags.annotations);
    const indexAnnotations = keyValues("--index-annotation", flags.indexAnnotation);
    await runEdit(context(), command, indexText, flags, [sourceText], async (draft, session) => {
      const digest = await entryDigest(session, sourceText);
      const changed = annotateImage(
        draft,
        digest,
        {
          ...(flags.os !== undefined ? { os: flags.os } : {}),
          ...(flags.arch !== undefined ? { architecture: flags.arch } : {}),
          ...(flags.variant !== undefined ? { variant: flags.variant } : {}),
          ...(flags.osVersion !== undefined ? { osVersion: flags.osVersion } : {}),
          ...(flags.features !== undefined
            ? {
                osFeatures: flags.features
                  .split(",")
                  .map((f) => f.trim())
                  .filter((f) => f !== ""),
              }
            : {}),
          annotations,
        },
        indexText,
      );
      return { draft: annotateIndex(changed, indexAnnotations) };
    });
  });
}
