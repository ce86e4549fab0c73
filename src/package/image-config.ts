import type { PlatformJSON } from "../oci/platform.js";
import { encodeGoJSON, goTime, sortedByGoKey, type GoJSONValue } from "../oci/go-json.js";

/**
 * The config blob of one buildpackage image, in go-containerregistry's field order (as pack writes
 * it): architecture, created, history (one entry per layer), os, rootfs, config with the labels,
 * then os.version and variant when the platform has them. Encoded as Go would, so the same
 * inputs give the same digest as pack's would and on every machine.
 */
export function encodeImageConfig(
  platform: PlatformJSON,
  diffIDs: readonly string[],
  labels: Readonly<Record<string, string>>,
  created: Date,
): Buffer {
  const time = goTime(created);
  const value: Record<string, GoJSONValue> = {
    architecture: platform.architecture,
    created: time,
    history: diffIDs.map(() => ({ created: time })),
    os: platform.os,
    rootfs: { type: "layers", diff_ids: [...diffIDs] },
    config: { Labels: sortedByGoKey(labels) },
    "os.version": platform["os.version"] || undefined,
    variant: platform.variant || undefined,
  };
  return Buffer.from(encodeGoJSON(value), "utf8");
}
