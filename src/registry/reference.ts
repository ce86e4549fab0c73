import { PolypackError } from "../errors/index.js";
import { Digest } from "../oci/digest.js";

/** The registry a reference without one means, as Docker writes it. */
export const DOCKER_HUB_REGISTRY = "docker.io";
/** The host that serves Docker Hub's registry API. */
export const DOCKER_HUB_API_HOST = "index.docker.io";

// The grammar of github.com/distribution/reference, written out piece by piece.
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN_NAME = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*`;
const IPV6 = "\\[[a-fA-F0-9:]+\\]";
const DOMAIN = new RegExp(`^(?:${DOMAIN_NAME}|${IPV6})(?::[0-9]+)?$`);
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const MAX_NAME_LENGTH = 255;
const LEGACY_HUB_HOSTS = new Set(["index.docker.io", "registry-1.docker.io"]);

/**
 * An image reference `[registry[:port]/]path[:tag][@digest]`, normalised the way Docker does: no
 * registry means Docker Hub, and a single-component Docker Hub name gets the `library/` prefix.
 */
export class Reference {
  private constructor(
    /** Registry host with optional port, e.g. `docker.io` or `127.0.0.1:5000`. */
    readonly registry: string,
    /** Repository path, e.g. `library/alpine`. */
    readonly repository: string,
    /** Tag, when one was given. */
    readonly tag: string | undefined,
    /** Digest, when one was given. */
    readonly digest: Digest | undefined,
  ) {}

  /** Parses and normalises a reference; malformed input throws REFERENCE_INVALID. */
  static parse(input: string): Reference {
    const shown = redactReference(input);
    const fail = (why: string, hint?: string): PolypackError =>
      new PolypackError("REFERENCE_INVALID", `invalid image reference ${JSON.stringify(shown)}: ${why}`, {
        hint: hint ?? "write [registry[:port]/]repository[:tag][@digest], e.g. ghcr.io/org/buildpack:1.0",
      });
    if (shown !== input) {
      throw fail(
        "credentials cannot be written into an image reference",
        "pass them with --src-creds / --dest-creds USER:PASSWORD, or POLYPACK_REGISTRY_USERNAME and POLYPACK_REGISTRY_PASSWORD",
      );
    }
    let rest = input;
    let digest: Digest | undefined;
    const at = rest.indexOf("@");
    if (at !== -1) {
      const value = rest.slice(at + 1);
      if (!Digest.isValid(value)) throw fail(`${JSON.stringify(value)} is not a sha256 or sha512 digest`);
      digest = Digest.parse(value);
      rest = rest.slice(0, at);
    }
    let tag: string | undefined;
    const colon = rest.lastIndexOf(":");
    if (colon > rest.lastIndexOf("/")) {
      tag = rest.slice(colon + 1);
      if (!TAG.test(tag)) throw fail(`${JSON.stringify(tag)} is not a valid tag`);
      rest = rest.slice(0, colon);
    }
    const slash = rest.indexOf("/");
    const first = slash === -1 ? "" : rest.slice(0, slash);
    const hasRegistry =
      slash !== -1 && (/[.:]/.test(first) || first === "localhost" || first !== first.toLowerCase());
    let registry = hasRegistry ? first : DOCKER_HUB_REGISTRY;
    let repository = hasRegistry ? rest.slice(slash + 1) : rest;
    if (hasRegistry && !DOMAIN.test(registry))
      throw fail(`${JSON.stringify(registry)} is not a registry host`);
    if (LEGACY_HUB_HOSTS.has(registry)) registry = DOCKER_HUB_REGISTRY;
    if (repository === "") throw fail("the repository name is empty");
    for (const component of repository.split("/")) {
      if (!PATH_COMPONENT.test(component)) {
        const why =
          component !== component.toLowerCase() ? "must be lower case" : "is not a valid path component";
        throw fail(`repository component ${JSON.stringify(component)} ${why}`);
      }
    }
    if (registry === DOCKER_HUB_REGISTRY && !repository.includes("/")) repository = `library/${repository}`;
    if (registry.length + 1 + repository.length > MAX_NAME_LENGTH) {
      throw fail(`the name is longer than ${MAX_NAME_LENGTH} characters`);
    }
    return new Reference(registry, repository, tag, digest);
  }

  /** Builds a reference from parts; validated through `parse` so every instance is well formed. */
  static of(parts: {
    registry: string;
    repository: string;
    tag?: string;
    digest?: Digest | string;
  }): Reference {
    const digest = parts.digest === undefined ? "" : `@${parts.digest.toString()}`;
    const tag = parts.tag === undefined ? "" : `:${parts.tag}`;
    return Reference.parse(`${parts.registry}/${parts.repository}${tag}${digest}`);
  }

  /** The host (with port) that serves this registry's API; Docker Hub's API lives on another host. */
  get apiHost(): string {
    return this.registry === DOCKER_HUB_REGISTRY ? DOCKER_HUB_API_HOST : this.registry;
  }

  /** What to ask the registry for: the digest when known, else the tag, else `latest`. */
  get identifier(): string {
    return this.digest?.toString() ?? this.tag ?? "latest";
  }

  /** `registry/repository`, always with the registry. */
  get name(): string {
    return `${this.registry}/${this.repository}`;
  }

  /** A copy with another tag and/or digest; `null` removes one. */
  with(changes: { tag?: string | null; digest?: Digest | string | null }): Reference {
    const tag = changes.tag === undefined ? this.tag : (changes.tag ?? undefined);
    const digest = changes.digest === undefined ? this.digest : (changes.digest ?? undefined);
    return Reference.of({ registry: this.registry, repository: this.repository, tag, digest });
  }

  /** Value equality on the normalised form. */
  equals(other: Reference): boolean {
    return this.toString() === other.toString();
  }

  /** The familiar form: Docker Hub's registry and `library/` prefix left out. */
  toString(): string {
    return `${this.familiarName}${this.tag === undefined ? "" : `:${this.tag}`}${this.digest ? `@${this.digest.toString()}` : ""}`;
  }

  /** The repository as Docker prints it, leaving out only what parsing would put back. */
  private get familiarName(): string {
    if (this.registry !== DOCKER_HUB_REGISTRY) return this.name;
    const short = /^library\/[^/]+$/.test(this.repository) ? this.repository.slice(8) : this.repository;
    const first = short.split("/")[0]!;
    // A first component that looks like a host would be read back as a registry.
    const ambiguous = short.includes("/") && (first.includes(".") || first === "localhost");
    return ambiguous ? this.name : short;
  }
}

/**
 * A reference as typed, fit for messages: anything before an `@` that is not the digest's (a
 * `user:password@` someone wrote in front of the registry) is replaced, as is a URL's userinfo.
 */
export function redactReference(input: string): string {
  const digest = /@[A-Za-z0-9_+.-]+:[A-Za-z0-9=_-]+$/.exec(input);
  const head = digest ? input.slice(0, digest.index) : input;
  const at = head.lastIndexOf("@");
  if (at === -1) return input;
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(head)?.[0] ?? "";
  return `${scheme}REDACTED@${head.slice(at + 1)}${digest?.[0] ?? ""}`;
}
