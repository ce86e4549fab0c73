import type { ContentSource, ContentTarget } from "../oci/content.js";
import { PolypackError } from "../errors/index.js";
import { Reference } from "../registry/reference.js";
import type { Endpoint } from "./endpoint.js";
import type { ClientScope, RegistryAccess } from "./registry-access.js";

/** How the two sides of a copy share out explicit credentials. */
export interface SideOptions {
  /** `--src-creds` / `--dest-creds` for this side, already split. */
  creds?: { username: string; password: string };
  /**
   * For a source: the command's destination. Given, unscoped credentials belong to it (or to
   * POLYPACK_REGISTRY) and never reach the source; absent (a command with one registry, such as
   * `manifest inspect`), they belong to the source itself.
   */
  destination?: Endpoint;
}

/** Opens the read side of an endpoint. */
export async function openSource(
  endpoint: Endpoint,
  access: RegistryAccess,
  side: SideOptions = {},
): Promise<ContentSource> {
  switch (endpoint.kind) {
    case "registry": {
      const reference = Reference.parse(endpoint.reference);
      const { RegistrySource } = await import("../registry/source.js");
      const scoped = side.creds ? { scoped: { registry: reference.registry, credential: side.creds } } : {};
      let scope: ClientScope;
      if ("destination" in side) {
        const destination = side.destination;
        const defaultRegistry =
          destination?.kind === "registry" ? Reference.parse(destination.reference).registry : undefined;
        scope = { ...(defaultRegistry ? { defaultRegistry } : {}), ignoreUnbound: true, ...scoped };
      } else {
        scope = { defaultRegistry: reference.registry, ...scoped };
      }
      const source = new RegistrySource(await access.client(scope), reference);
      return endpoint.bareName ? explainBareName(source, endpoint.reference, reference) : source;
    }
    case "layout": {
      const { LayoutSource } = await import("../layout/layout-source.js");
      return LayoutSource.open(endpoint.path, endpoint.ref);
    }
    case "cnb": {
      const { CnbSource } = await import("../layout/cnb-source.js");
      return CnbSource.open(endpoint.path, endpoint.ref);
    }
  }
}

/**
 * A source named by a bare word that is no file here: when the image cannot be found or reached,
 * the error's hint says the word was read as an image reference, and how to name a path instead.
 */
function explainBareName(source: ContentSource, name: string, reference: Reference): ContentSource {
  const resolve = source.resolve.bind(source);
  source.resolve = () =>
    resolve().catch((error: unknown) => {
      if (!(error instanceof PolypackError)) throw error;
      throw new PolypackError(error.code, error.message, {
        cause: error,
        hint:
          `no file or folder ${JSON.stringify(name)} is here, so it was read as the image ${reference.name}${reference.digest ? "@" : ":"}${reference.identifier}; ` +
          `for a local path write ./${name}, for an image its full reference`,
      });
    });
  return source;
}

/**
 * Opens the write side of an endpoint, with the tags the endpoint names: a registry reference's
 * tag (none when it names only a digest), or a layout's or `.cnb`'s ref name, `latest` when it
 * names none (as `buildpack package` does), so skopeo and pack can find the image by ref.
 */
export async function openTarget(
  endpoint: Endpoint,
  access: RegistryAccess,
  side: Pick<SideOptions, "creds"> = {},
): Promise<{ target: ContentTarget; tags: string[] }> {
  switch (endpoint.kind) {
    case "registry": {
      const reference = Reference.parse(endpoint.reference);
      const { RegistryTarget } = await import("../registry/target.js");
      const client = await access.client({
        defaultRegistry: reference.registry,
        ...(side.creds ? { scoped: { registry: reference.registry, credential: side.creds } } : {}),
      });
      return { target: new RegistryTarget(client, reference), tags: reference.tag ? [reference.tag] : [] };
    }
    case "layout": {
      await checkOutputPath("layout", endpoint.path);
      const { LayoutTarget, DEFAULT_REF } = await import("../layout/layout-target.js");
      return { target: await LayoutTarget.create(endpoint.path), tags: [endpoint.ref ?? DEFAULT_REF] };
    }
    case "cnb": {
      await checkOutputPath("file", endpoint.path);
      const { CnbTarget } = await import("../layout/cnb-target.js");
      const { DEFAULT_REF } = await import("../layout/layout-target.js");
      return { target: await CnbTarget.create(endpoint.path), tags: [endpoint.ref ?? DEFAULT_REF] };
    }
  }
}

// The same checks as a package's output (no symlinks or devices, no folder for a .cnb, a folder
// that takes new entries), made before anything is copied.
async function checkOutputPath(kind: "file" | "layout", path: string): Promise<void> {
  const { checkOutput } = await import("../package/output-check.js");
  await checkOutput(kind, path);
}
