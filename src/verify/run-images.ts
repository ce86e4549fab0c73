import type { Artifact } from "../image/image.js";
import { artifactImageFor } from "../image/image.js";
import type { Platform } from "../oci/platform.js";
import type { Finding } from "./findings.js";

/** Reads the image or index a run image reference names (through the caller's registry access). */
export type RunImageResolver = (reference: string) => Promise<Artifact>;

type Emit = (finding: Omit<Finding, "platform">) => void;

/**
 * The run images (and mirrors) a builder's metadata label names: `images` as pack writes it today,
 * and the older `stack.runImage`, each reference once. A label that is not valid JSON is the
 * labels check's finding, not this one's.
 */
export function runImagesOf(label: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(label);
  } catch {
    return [];
  }
  const metadata = (parsed ?? {}) as {
    images?: unknown;
    stack?: { runImage?: unknown };
  };
  const listed: unknown[] = Array.isArray(metadata.images) ? (metadata.images as unknown[]) : [];
  const entries = [...listed, metadata.stack?.runImage];
  const names = new Set<string>();
  for (const entry of entries) {
    const { image, mirrors } = (entry ?? {}) as { image?: unknown; mirrors?: unknown };
    if (typeof image === "string" && image !== "") names.add(image);
    for (const mirror of Array.isArray(mirrors) ? mirrors : []) {
      if (typeof mirror === "string" && mirror !== "") names.add(mirror);
    }
  }
  return [...names];
}

/**
 * Each run image and mirror has an image for `platform`: a builder whose arm64 run image does not
 * exist builds apps that cannot be exported for arm64. A run image that cannot be read (missing,
 * unreachable, refused) is a finding too: a release is not signed off on what was not seen.
 * `resolve` is called once per reference for all platforms (the caller memoizes).
 */
export async function checkRunImages(
  label: string,
  platform: Platform,
  resolve: RunImageResolver,
  emit: Emit,
): Promise<number> {
  const names = runImagesOf(label);
  const expected = `a run image for ${platform.toString()}`;
  for (const name of names) {
    const subject = `run image ${name}`;
    let root: Artifact;
    try {
      root = await resolve(name);
    } catch (error) {
      emit({ check: "metadata", subject, expected, found: `could not be read: ${message(error)}` });
      continue;
    }
    try {
      if ((await artifactImageFor(root, platform)) === undefined) {
        emit({ check: "metadata", subject, expected, found: await platformsOf(root) });
      }
    } catch (error) {
      emit({ check: "metadata", subject, expected, found: `could not be read: ${message(error)}` });
    }
  }
  return names.length;
}

async function platformsOf(root: Artifact): Promise<string> {
  if (root.kind === "image") {
    const config = await root.config();
    return `only ${[config.os, config.architecture, config.variant].filter(Boolean).join("/")}`;
  }
  const platforms = (await root.entries())
    .map((entry) => entry.descriptor.platform)
    .filter((p) => p !== undefined)
    .map((p) => [p.os, p.architecture, p.variant].filter(Boolean).join("/"));
  return platforms.length > 0 ? `only ${platforms.join(", ")}` : "no platform";
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
