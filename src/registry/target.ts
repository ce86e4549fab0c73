import type { Readable } from "node:stream";
import type { ContentTarget, PutBlobOptions, PutBlobResult, RegistryLocation } from "../oci/content.js";
import type { Descriptor } from "../oci/descriptor.js";
import { parseManifest } from "../oci/manifest.js";
import { verifyBytes } from "../oci/verify.js";
import { blobSize } from "./blobs.js";
import type { RegistryClient } from "./client.js";
import type { Reference } from "./reference.js";

/**
 * A registry repository written through the generic ContentTarget interface. Manifests are stored
 * by digest; tags are written last by `tag`, so a tag never points at something incomplete.
 * Concurrent putBlob calls for one digest share a single upload.
 */
export class RegistryTarget implements ContentTarget {
  /** What messages call it. */
  readonly name: string;
  /** Registry and repository. */
  readonly location: RegistryLocation;
  private readonly blobs = new Map<string, Promise<PutBlobResult>>();
  private readonly manifests = new Map<string, { bytes: Buffer; mediaType: string }>();

  constructor(
    /** The client it goes through (referrers are read and written through the same one). */
    readonly client: RegistryClient,
    /** The repository (its tag, if any, is not used; `tag` names the tags). */
    readonly reference: Reference,
  ) {
    this.name = `registry ${reference.name}`;
    this.location = { registry: reference.registry, repository: reference.repository };
  }

  /**
   * Whether the repository holds the blob with the declared size (a registry that gives no size is
   * believed: it stores blobs by digest and checked the digest when the blob was pushed).
   */
  async hasBlob(descriptor: Descriptor): Promise<boolean> {
    const size = await blobSize(this.client.transport, this.location, descriptor.digest);
    return size === null || size === descriptor.size;
  }

  /** Pushes a blob once per target, however many callers ask for it at the same time. */
  putBlob(
    descriptor: Descriptor,
    open: () => Promise<Readable>,
    options: PutBlobOptions = {},
  ): Promise<PutBlobResult> {
    const inFlight = this.blobs.get(descriptor.digest);
    if (inFlight)
      return inFlight.then((result) => (result === "uploaded" || result === "mounted" ? "exists" : result));
    const pushed = this.client.pushBlob(this.location, descriptor, open, options);
    this.blobs.set(descriptor.digest, pushed);
    // A failed push may be tried again by a later call.
    pushed.catch(() => this.blobs.delete(descriptor.digest));
    return pushed;
  }

  /** Whether the manifest is stored under its digest, with the declared size. */
  async hasManifest(descriptor: Descriptor): Promise<boolean> {
    return (await this.client.headManifest(this.location, descriptor.digest))?.size === descriptor.size;
  }

  /** Stores a manifest or index under its digest, with its own media type as Content-Type. */
  async putManifest(descriptor: Descriptor, bytes: Buffer): Promise<void> {
    verifyBytes(bytes, descriptor, this.name);
    const mediaType = parseManifest(bytes, descriptor.mediaType, `manifest ${descriptor.digest}`).mediaType;
    await this.client.putManifest(this.location, descriptor.digest, bytes, mediaType);
    this.manifests.set(descriptor.digest, { bytes, mediaType });
  }

  /**
   * Points each tag at the manifest by pushing the very same bytes under the tag, unless the tag
   * already names that manifest.
   */
  async tag(descriptor: Descriptor, tags: readonly string[]): Promise<void> {
    const names: string[] = [];
    for (const tag of tags.map((t) => this.reference.with({ tag: t, digest: null }).tag!)) {
      // A tag that already names this very manifest is left as it is: a re-run writes nothing.
      const current = await this.client.headManifest(this.location, tag).catch(() => undefined);
      if (current?.digest !== descriptor.digest) names.push(tag);
    }
    if (names.length === 0) return;
    let stored = this.manifests.get(descriptor.digest);
    if (!stored) {
      // Stored by an earlier run or found present: take the bytes from the registry itself.
      const fetched = await this.client.getManifest(this.location, descriptor.digest);
      verifyBytes(fetched.bytes, descriptor, this.name);
      stored = { bytes: fetched.bytes, mediaType: fetched.descriptor.mediaType };
    }
    for (const tag of names)
      await this.client.putManifest(this.location, tag, stored.bytes, stored.mediaType);
  }
}
