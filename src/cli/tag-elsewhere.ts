import type { Descriptor } from "../oci/descriptor.js";
import { openSource } from "../endpoints/open.js";
import type { CliContext } from "./context.js";
import type { OutputChoice } from "./output-choice.js";
import type { ProgressReporter } from "./progress.js";
import { referrerRoutes } from "./referrer-routes.js";

/**
 * Tags a published package in the other repositories of the same registry that `--tag
 * REPOSITORY:TAG` named, as pack does: the image or index `root` is copied there (blobs mounted
 * where the registry allows) with the referrers of each of its manifests (SBOMs: API or tag
 * scheme, as that registry takes them), and the tag comes last, so it never names a package whose
 * SBOMs are missing. Returns the full names tagged.
 */
export async function tagElsewhere(
  choice: OutputChoice,
  root: Descriptor,
  ctx: CliContext,
  progress: ProgressReporter,
): Promise<string[]> {
  if (choice.kind !== "registry" || choice.elsewhere.length === 0) return [];
  const { copy } = await import("../image/copy.js");
  const { RegistryTarget } = await import("../registry/target.js");
  const here = choice.reference.with({ tag: null, digest: root.digest });
  const endpoint = { kind: "registry" as const, reference: here.toString() };
  const source = await openSource(endpoint, ctx);
  const tagged: string[] = [];
  try {
    for (const other of choice.elsewhere) {
      const target = new RegistryTarget(await ctx.client(other.registry), other);
      const referrers = await referrerRoutes(endpoint, source, target);
      await copy(source, target, {
        tags: [other.tag!],
        ...(referrers ? { referrers } : {}),
        onEvent: (event) => {
          if (event.type !== "tagged") progress.onEvent(event);
        },
      });
      const full = `${other.registry}/${other.repository}:${other.tag!}`;
      progress.tagged([full]);
      tagged.push(full);
    }
  } finally {
    await source.close?.();
  }
  return tagged;
}
