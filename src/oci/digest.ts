import { createHash, type Hash } from "node:crypto";
import { PolypackError } from "../errors/index.js";

/** The digest algorithms polypack accepts; others are refused before any use. */
export type DigestAlgorithm = "sha256" | "sha512";

const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };
const DIGEST_PATTERN = /^(sha256|sha512):([0-9a-f]+)$/;

/**
 * A content digest such as `sha256:<64 hex>`. Parsing is strict (lower-case hex of the exact
 * length), so a parsed digest is always safe to put into a file path or a URL.
 */
export class Digest {
  private constructor(
    /** The hash algorithm. */
    readonly algorithm: DigestAlgorithm,
    /** The lower-case hex encoding of the hash. */
    readonly hex: string,
  ) {}

  /** Parses `algorithm:hex`; `context` names where the value came from for the error message. */
  static parse(value: string, context?: string): Digest {
    const match = DIGEST_PATTERN.exec(value);
    const algorithm = match?.[1] as DigestAlgorithm | undefined;
    const hex = match?.[2];
    if (!algorithm || !hex || hex.length !== HEX_LENGTH[algorithm]) {
      const where = context ? ` in ${context}` : "";
      throw new PolypackError("DIGEST_INVALID", `invalid digest ${JSON.stringify(value)}${where}`, {
        hint: "a digest is sha256:<64 lower-case hex digits> or sha512:<128 lower-case hex digits>",
      });
    }
    return new Digest(algorithm, hex);
  }

  /** Whether `value` parses as a digest. */
  static isValid(value: string): boolean {
    const match = DIGEST_PATTERN.exec(value);
    return !!match && match[2]!.length === HEX_LENGTH[match[1] as DigestAlgorithm];
  }

  /** The digest of a complete buffer. */
  static of(data: Uint8Array | string, algorithm: DigestAlgorithm = "sha256"): Digest {
    return new Digest(algorithm, createHash(algorithm).update(data).digest("hex"));
  }

  /** Wraps a finished node:crypto hash. */
  static fromHash(algorithm: DigestAlgorithm, hash: Hash): Digest {
    return new Digest(algorithm, hash.digest("hex"));
  }

  /** `algorithm:hex`. */
  toString(): string {
    return `${this.algorithm}:${this.hex}`;
  }

  /** Same as toString, so digests serialise as strings. */
  toJSON(): string {
    return this.toString();
  }

  /** Value equality. */
  equals(other: Digest | string): boolean {
    return this.toString() === other.toString();
  }
}

/** An incremental hasher that yields a Digest at the end. */
export class Digester {
  private readonly hash: Hash;
  /** Bytes seen so far. */
  size = 0;

  constructor(readonly algorithm: DigestAlgorithm = "sha256") {
    this.hash = createHash(algorithm);
  }

  /** Feeds a chunk. */
  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
    this.size += chunk.length;
  }

  /** Finishes; may be called once. */
  digest(): Digest {
    return Digest.fromHash(this.algorithm, this.hash);
  }
}
