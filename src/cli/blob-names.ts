import type { Descriptor } from "../oci/descriptor.js";

/**
 * What each blob and manifest of a package is, by digest, for progress lines: "linux/arm64 layer",
 * "linux/amd64 config". A blob several targets share (the same layer built twice, say) is named
 * with every target: "linux/amd64, linux/arm64 layer".
 */
export class BlobNames extends Map<string, string> {
  private readonly parts = new Map<string, { targets: string[]; what: string }>();

  /** Records that `digest` is `what` (layer, config, manifest) of `target`. */
  add(digest: string, target: string, what: string): void {
    const entry = this.parts.get(digest) ?? { targets: [], what };
    if (!entry.targets.includes(target)) entry.targets.push(target);
    this.parts.set(digest, entry);
    this.set(digest, `${entry.targets.join(", ")} ${entry.what}`);
  }

  /** Records an image's manifest, config and layers; its own buildpack layer is plain "layer". */
  addImage(
    target: string,
    manifest: Descriptor,
    config: Descriptor,
    layers: readonly Descriptor[],
    ownLayer: string,
  ): void {
    this.add(manifest.digest, target, "manifest");
    this.add(config.digest, target, "config");
    layers.forEach((layer, i) =>
      this.add(layer.digest, target, layer.digest === ownLayer ? "layer" : `layer ${i + 1}`),
    );
  }
}
