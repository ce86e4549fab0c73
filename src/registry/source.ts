import type { Readable } from "node:stream";
import type { ContentSource, RegistryLocation } from "../oci/content.js";
import type { Descriptor } from "../oci/descriptor.js";
import { verifyBytes } from "../oci/verify.js";
import { isPolypackError, type ErrorCode } from "../errors/index.js";
import { isNetworkError, isTemporary } from "../http/errors.js";
import type { RegistryClient } from "./client.js";
import { RegistryError } from "./errors.js";
import type { Reference } from "./reference.js";

// What a second GET may cure, besides temporary and network failures.
const REFETCH_CODES: readonly ErrorCode[] = ["DIGEST_MISMATCH", "SIZE_MISMATCH"];

/** A registry repository read through the generic ContentSource interface. */
export class RegistrySource implements ContentSource {
  /** What messages call it. */
  readonly name: string;
  /** Registry and repository, so a target on the same registry can mount from here. */
  readonly location: RegistryLocation;

  constructor(
    /** The client it goes through (referrers are read and written through the same one). */
    readonly client: RegistryClient,
    /** The image or index the user named. */
    readonly reference: Reference,
  ) {
    this.name = `registry ${reference.toString()}`;
    this.location = { registry: reference.registry, repository: reference.repository };
  }

  /** The descriptor of the named manifest; REGISTRY_NOT_FOUND when the tag or digest is unknown. */
  async resolve(): Promise<Descriptor> {
    const descriptor = await this.client.headManifest(this.location, this.reference.identifier);
    if (!descriptor) {
      throw new RegistryError("REGISTRY_NOT_FOUND", `${this.reference.toString()} does not exist`, {
        url: this.reference.toString(),
        status: 404,
        registryCodes: ["MANIFEST_UNKNOWN"],
        hint: "check the repository name and tag",
      });
    }
    return descriptor;
  }

  /** Manifest bytes by digest, checked against the descriptor's digest and size. */
  async fetchManifest(descriptor: Descriptor): Promise<Buffer> {
    const { bytes } = await this.client.getManifest(this.location, descriptor.digest);
    verifyBytes(bytes, descriptor, this.name);
    return bytes;
  }

  /** A blob as a stream that fails (instead of ending) unless exactly the descriptor's bytes arrive. */
  openBlob(descriptor: Descriptor): Promise<Readable> {
    return this.client.openBlob(this.location, descriptor);
  }

  /**
   * Whether a failed read may succeed when the blob is fetched again: a body cut short or altered
   * on the way, or a dropped connection. Writers then start the blob over (see `write`), so a
   * destination gets the second chance without the blob being stored twice.
   */
  refetchable(error: unknown): boolean {
    return (
      isTemporary(error) ||
      isNetworkError(error) ||
      REFETCH_CODES.some((code) => isPolypackError(error, code))
    );
  }
}
