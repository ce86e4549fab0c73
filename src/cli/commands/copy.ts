import type { Command } from "commander";
import { addExamples } from "../help.js";
import { copy, type CopyReport } from "../../image/copy.js";
import { formatEndpoint, parseEndpoint } from "../../endpoints/endpoint.js";
import { integerFlag } from "../flag-parsers.js";
import { formatBytes, renderTable } from "../table.js";
import { openSource, openTarget } from "../../endpoints/open.js";
import type { CliContext } from "../context.js";
import { addCredsOptions, parseCreds } from "../creds-option.js";

/** `polypack copy SRC DST`: copies an image or a whole multi-arch index. */
export function registerCopy(program: Command, context: () => CliContext): void {
  const command = program
    .command("copy")
    .description("copy an image or a whole multi-arch index between registries, OCI layouts and .cnb files")
    .argument("<source>", "registry reference, oci:DIR[:REF] or a .cnb file")
    .argument("<destination>", "registry reference, oci:DIR[:REF] or a .cnb file")
    .option("--concurrency <n>", "blobs copied at once (1 to 64)", integerFlag("--concurrency", 1, 64), 4)
    // Like `oras cp -r`, unlike skopeo and crane: a copied package keeps its SBOMs and signatures.
    .option(
      "--no-referrers",
      "do not carry OCI referrers (SBOMs, signatures) along; by default a registry destination gets them, before its tag (a layout or .cnb never does)",
    );
  addExamples(command, [
    {
      does: "copy a multi-arch buildpack between registries",
      run: "polypack copy docker.io/paketobuildpacks/go:latest registry.example.com/mirror/go:latest",
    },
    { does: "save it as one .cnb file", run: "polypack copy docker.io/paketobuildpacks/go:latest ./go.cnb" },
    {
      does: "push an OCI layout's image to a registry",
      run: "polypack copy oci:./out:latest registry.example.com/me/bp:1.0.0",
    },
  ]);
  addCredsOptions(command).action(async (sourceText: string, destinationText: string, options: CopyFlags) => {
    const srcCreds = parseCreds(command, "--src-creds", options.srcCreds);
    const destCreds = parseCreds(command, "--dest-creds", options.destCreds);
    const ctx = context();
    const destination = parseEndpoint(destinationText);
    const sourceEndpoint = parseEndpoint(sourceText);
    const source = await openSource(sourceEndpoint, ctx, {
      destination,
      ...(srcCreds ? { creds: srcCreds } : {}),
    });
    try {
      const { target, tags } = await openTarget(destination, ctx, destCreds ? { creds: destCreds } : {});
      const progress = ctx.output.progress({ local: destination.kind !== "registry" });
      const { referrerRoutes } = await import("../referrer-routes.js");
      const referrers = options.referrers ? await referrerRoutes(sourceEndpoint, source, target) : undefined;
      let report: CopyReport;
      try {
        report = await copy(source, target, {
          tags,
          ...(referrers ? { referrers } : {}),
          concurrency: options.concurrency,
          onEvent: progress.onEvent,
        });
      } finally {
        progress.finish();
      }
      ctx.output.result({ source: source.name, destination: formatEndpoint(destination), ...report }, (r) =>
        renderTable(
          ["DESTINATION", "DIGEST", "MANIFESTS", "UPLOADED", "MOUNTED", "PRESENT"],
          [
            [
              r.destination,
              r.root.digest,
              String(r.manifests),
              `${r.blobs.uploaded} (${formatBytes(r.blobs.bytesUploaded)})`,
              String(r.blobs.mounted),
              r.upToDate ? "all" : String(r.blobs.existing),
            ],
          ],
        ),
      );
    } finally {
      await source.close?.();
    }
  });
}

interface CopyFlags {
  concurrency: number;
  /** False with --no-referrers. */
  referrers: boolean;
  srcCreds?: string;
  destCreds?: string;
}
