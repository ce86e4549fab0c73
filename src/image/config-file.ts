import { encodeGoJSON, sortedByGoKey, type GoJSONValue } from "../oci/go-json.js";
import type { ContainerConfig, ImageConfig } from "../oci/manifest.js";

/** One history entry of an image config. */
export interface HistoryEntry {
  author?: string;
  created?: string;
  created_by?: string;
  comment?: string;
  empty_layer?: boolean;
}

// go-containerregistry's v1.Config, in declaration order: how pack (and crane) write it back.
const CONTAINER_FIELDS = [
  ["AttachStderr", "flag"],
  ["AttachStdin", "flag"],
  ["AttachStdout", "flag"],
  ["Cmd", "list"],
  ["Healthcheck", "value"],
  ["Domainname", "text"],
  ["Entrypoint", "list"],
  ["Env", "list"],
  ["Hostname", "text"],
  ["Image", "text"],
  ["Labels", "map"],
  ["OnBuild", "list"],
  ["OpenStdin", "flag"],
  ["StdinOnce", "flag"],
  ["Tty", "flag"],
  ["User", "text"],
  ["Volumes", "map"],
  ["WorkingDir", "text"],
  ["ExposedPorts", "map"],
  ["ArgsEscaped", "flag"],
  ["NetworkDisabled", "flag"],
  ["MacAddress", "text"],
  ["StopSignal", "text"],
  ["Shell", "list"],
] as const;

/**
 * An image config as go-containerregistry's `v1.ConfigFile` marshals it, which is what pack writes:
 * architecture, author, container, created, docker_version, history, os, rootfs, config,
 * os.version, variant, os.features, each left out when empty (but architecture, os, rootfs and
 * config). Maps are sorted by key, strings escaped as Go escapes them. Fields go-containerregistry
 * does not know are dropped, as it drops them. The same config always gives the same bytes.
 */
export function encodeConfigFile(config: ImageConfig): Buffer {
  const value: Record<string, GoJSONValue> = {
    architecture: config.architecture,
    author: text(config.author),
    container: text(config["container"]),
    created: text(config.created),
    docker_version: text(config["docker_version"]),
    history: config.history && config.history.length > 0 ? config.history.map(historyValue) : undefined,
    os: config.os,
    rootfs: { type: "layers", diff_ids: [...config.rootfs.diff_ids] },
    config: containerValue(config.config ?? {}),
    "os.version": text(config["os.version"]),
    variant: text(config.variant),
    "os.features": list(config["os.features"]),
  };
  return Buffer.from(encodeGoJSON(value), "utf8");
}

function historyValue(entry: HistoryEntry): GoJSONValue {
  return {
    author: text(entry.author),
    created: text(entry.created),
    created_by: text(entry.created_by),
    comment: text(entry.comment),
    empty_layer: entry.empty_layer === true ? true : undefined,
  };
}

function containerValue(config: ContainerConfig): GoJSONValue {
  const value: Record<string, GoJSONValue> = {};
  for (const [key, kind] of CONTAINER_FIELDS) {
    const field = config[key];
    switch (kind) {
      case "flag":
        value[key] = field === true ? true : undefined;
        break;
      case "text":
        value[key] = text(field);
        break;
      case "list":
        value[key] = list(field);
        break;
      case "map":
        value[key] =
          typeof field === "object" && field !== null && Object.keys(field).length > 0
            ? sortedByGoKey(field as Record<string, GoJSONValue>)
            : undefined;
        break;
      case "value":
        value[key] = field === undefined || field === null ? undefined : (field as GoJSONValue);
        break;
    }
  }
  return value;
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function list(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.length > 0 ? value.map(String) : undefined;
}
