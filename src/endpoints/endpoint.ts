import { existsSync, statSync } from "node:fs";
import { PolypackError } from "../errors/index.js";

/** Where an image lives, as named on the command line. */
export type Endpoint =
  | {
      kind: "registry";
      reference: string;
      /** Set when a bare name (no transport, no `/`) that is no file here was read as an image. */
      bareName?: true;
    }
  | { kind: "layout"; path: string; ref?: string }
  | { kind: "cnb"; path: string; ref?: string };

/**
 * Reads an endpoint string. Explicit transports follow skopeo's spelling: `docker://REF`,
 * `oci:DIR[:REF]`, `oci-archive:FILE[:REF]` (also `cnb:FILE[:REF]`). Without one, an existing
 * directory is an OCI layout, an existing file or a name ending in `.cnb` is a buildpackage file, a
 * path starting with `.` or `/` is a layout, and anything else is a registry reference.
 */
export function parseEndpoint(value: string): Endpoint {
  if (value === "") throw new PolypackError("ENDPOINT_INVALID", "an empty image location was given");
  if (value.startsWith("docker://")) return { kind: "registry", reference: value.slice("docker://".length) };
  for (const [prefix, kind] of [
    ["oci:", "layout"],
    ["oci-archive:", "cnb"],
    ["cnb:", "cnb"],
  ] as const) {
    if (value.startsWith(prefix)) return withRef(kind, value.slice(prefix.length), value);
  }
  if (existsSync(value)) {
    return statSync(value).isDirectory() ? { kind: "layout", path: value } : { kind: "cnb", path: value };
  }
  if (value.endsWith(".cnb")) return { kind: "cnb", path: value };
  if (/^(\.{1,2}\/|\/|~\/)/.test(value) || value === ".") return { kind: "layout", path: value };
  // A bare word that is no file here is an image on Docker Hub (`alpine`), but it may as well be a
  // mistyped path: remembered, so a failure to find the image can say both.
  if (!value.includes("/")) return { kind: "registry", reference: value, bareName: true };
  return { kind: "registry", reference: value };
}

function withRef(kind: "layout" | "cnb", rest: string, original: string): Endpoint {
  // The ref is what follows the last colon, unless that colon is part of the path itself.
  const colon = rest.lastIndexOf(":");
  const path = colon > 0 ? rest.slice(0, colon) : rest;
  const ref = colon > 0 ? rest.slice(colon + 1) : undefined;
  if (path === "") throw new PolypackError("ENDPOINT_INVALID", `no path in ${JSON.stringify(original)}`);
  if (ref !== undefined && (ref === "" || ref.includes("/"))) {
    return { kind, path: rest };
  }
  return ref === undefined ? { kind, path } : { kind, path, ref };
}

/** The endpoint in the form parseEndpoint reads, for messages. */
export function formatEndpoint(endpoint: Endpoint): string {
  switch (endpoint.kind) {
    case "registry":
      return endpoint.reference;
    case "layout":
      return `oci:${endpoint.path}${endpoint.ref ? `:${endpoint.ref}` : ""}`;
    case "cnb":
      return `oci-archive:${endpoint.path}${endpoint.ref ? `:${endpoint.ref}` : ""}`;
  }
}
