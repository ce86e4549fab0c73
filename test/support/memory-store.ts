import { Readable } from "node:stream";
import type {
  ContentSource,
  ContentTarget,
  PutBlobOptions,
  PutBlobResult,
  RegistryLocation,
} from "../../src/oci/content.js";
import type { Descriptor } from "../../src/oci/descriptor.js";
import { verifyBytes, verifyingStream } from "../../src/oci/verify.js";
import { PolypackError } from "../../src/errors/index.js";

/**
 * A content store held in memory for unit tests of the generic copy logic (ordering, dedupe,
 * failure handling). Real backends are tested against a real registry and real layouts elsewhere.
 */
export class MemoryStore implements ContentSource, ContentTarget {
  readonly blobs = new Map<string, Buffer>();
  readonly manifests = new Map<string, Buffer>();
  readonly tags = new Map<string, Descriptor>();
  /** Every write, in order, e.g. `blob sha256:…`, `manifest sha256:…`, `tag latest`. */
  readonly log: string[] = [];
  /** Throws when a write's log line matches. */
  failOn?: RegExp;
  root?: Descriptor;
  /** Called when a copy gives up. */
  abort?: () => Promise<void>;
  /** Whether a failed blob read may be cured by reading again (see ContentSource.refetchable). */
  refetchable?: (error: unknown) => boolean;

  constructor(
    readonly name = "memory",
    readonly location?: RegistryLocation,
  ) {}

  resolve(): Promise<Descriptor> {
    if (!this.root) throw new PolypackError("IMAGE_NOT_FOUND", "no root");
    return Promise.resolve(this.root);
  }
  fetchManifest(descriptor: Descriptor): Promise<Buffer> {
    const bytes = this.manifests.get(descriptor.digest);
    if (!bytes) throw new PolypackError("BLOB_NOT_FOUND", `missing manifest ${descriptor.digest}`);
    verifyBytes(bytes, descriptor, this.name);
    return Promise.resolve(bytes);
  }
  openBlob(descriptor: Descriptor): Promise<Readable> {
    const bytes = this.blobs.get(descriptor.digest);
    if (!bytes) throw new PolypackError("BLOB_NOT_FOUND", `missing blob ${descriptor.digest}`);
    return Promise.resolve(Readable.from([bytes]).pipe(verifyingStream(descriptor, this.name)));
  }
  hasBlob(descriptor: Descriptor): Promise<boolean> {
    return Promise.resolve(this.blobs.has(descriptor.digest));
  }
  async putBlob(
    descriptor: Descriptor,
    open: () => Promise<Readable>,
    options?: PutBlobOptions,
  ): Promise<PutBlobResult> {
    if (this.blobs.has(descriptor.digest)) return "exists";
    this.record(`blob ${descriptor.digest}`);
    if (options?.mountFrom) {
      this.blobs.set(descriptor.digest, Buffer.alloc(0));
      return "mounted";
    }
    const chunks: Buffer[] = [];
    for await (const chunk of await open()) chunks.push(chunk as Buffer);
    this.blobs.set(descriptor.digest, Buffer.concat(chunks));
    options?.onProgress?.(descriptor.size);
    return "uploaded";
  }
  hasManifest(descriptor: Descriptor): Promise<boolean> {
    return Promise.resolve(this.manifests.has(descriptor.digest));
  }
  putManifest(descriptor: Descriptor, bytes: Buffer): Promise<void> {
    this.record(`manifest ${descriptor.digest}`);
    this.manifests.set(descriptor.digest, bytes);
    return Promise.resolve();
  }
  tag(descriptor: Descriptor, tags: readonly string[]): Promise<void> {
    for (const tag of tags) {
      this.record(`tag ${tag}`);
      this.tags.set(tag, descriptor);
    }
    return Promise.resolve();
  }

  private record(line: string): void {
    if (this.failOn?.test(line)) throw new PolypackError("REGISTRY_ERROR", `injected failure at ${line}`);
    this.log.push(line);
  }
}
