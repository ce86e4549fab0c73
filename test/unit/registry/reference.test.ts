import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { isPolypackError } from "../../../src/errors/index.js";
import { Reference } from "../../../src/registry/reference.js";

const HEX = "0123456789abcdef".repeat(4);
const DIGEST = `sha256:${HEX}`;

test("normalises references the way Docker does", () => {
  const cases: [string, string, string, string | undefined, string | undefined][] = [
    ["alpine", "docker.io", "library/alpine", undefined, undefined],
    ["alpine:3.20", "docker.io", "library/alpine", "3.20", undefined],
    ["paketobuildpacks/go:latest", "docker.io", "paketobuildpacks/go", "latest", undefined],
    ["docker.io/alpine", "docker.io", "library/alpine", undefined, undefined],
    ["index.docker.io/library/alpine", "docker.io", "library/alpine", undefined, undefined],
    ["localhost/app", "localhost", "app", undefined, undefined],
    ["localhost:5000/org/app:v1", "localhost:5000", "org/app", "v1", undefined],
    ["127.0.0.1:5000/a/b/c", "127.0.0.1:5000", "a/b/c", undefined, undefined],
    ["ghcr.io/org/bp@" + DIGEST, "ghcr.io", "org/bp", undefined, DIGEST],
    ["ghcr.io/org/bp:1.0@" + DIGEST, "ghcr.io", "org/bp", "1.0", DIGEST],
    ["Registry/app", "Registry", "app", undefined, undefined],
    ["[::1]:5000/app:tag", "[::1]:5000", "app", "tag", undefined],
    ["a__b/c-d/e--f.g_h:T_a.g-1", "docker.io", "a__b/c-d/e--f.g_h", "T_a.g-1", undefined],
  ];
  for (const [input, registry, repository, tag, digest] of cases) {
    const ref = Reference.parse(input);
    assert.equal(ref.registry, registry, input);
    assert.equal(ref.repository, repository, input);
    assert.equal(ref.tag, tag, input);
    assert.equal(ref.digest?.toString(), digest, input);
  }
});

test("prints the familiar form and knows Docker Hub's API host", () => {
  assert.equal(Reference.parse("docker.io/library/alpine:3").toString(), "alpine:3");
  assert.equal(Reference.parse("docker.io/library/a/b").toString(), "library/a/b");
  assert.equal(Reference.parse("docker.io/foo.bar/baz").toString(), "docker.io/foo.bar/baz");
  assert.equal(Reference.parse("ghcr.io/org/bp:1").toString(), "ghcr.io/org/bp:1");
  assert.equal(Reference.parse("alpine").apiHost, "index.docker.io");
  assert.equal(Reference.parse("ghcr.io/org/bp").apiHost, "ghcr.io");
  assert.equal(Reference.parse("alpine").identifier, "latest");
  assert.equal(Reference.parse(`alpine:3@${DIGEST}`).identifier, DIGEST);
});

test("with() replaces or removes the tag and digest", () => {
  const ref = Reference.parse("ghcr.io/org/bp:1.0");
  assert.equal(ref.with({ tag: "2.0" }).toString(), "ghcr.io/org/bp:2.0");
  assert.equal(ref.with({ digest: DIGEST }).toString(), `ghcr.io/org/bp:1.0@${DIGEST}`);
  assert.equal(ref.with({ tag: null }).toString(), "ghcr.io/org/bp");
  assert.equal(ref.toString(), "ghcr.io/org/bp:1.0");
  assert.throws(
    () => ref.with({ tag: "bad tag" }),
    (e) => isPolypackError(e, "REFERENCE_INVALID"),
  );
});

test("refuses malformed references with REFERENCE_INVALID naming the input", () => {
  for (const bad of [
    "",
    "app/UPPER",
    "ghcr.io/Org/app",
    "ghcr.io/",
    "ghcr.io//app",
    "app:",
    "app:-tag",
    `app:${"t".repeat(129)}`,
    "app@sha256:abc",
    "app@md5:" + "a".repeat(32),
    "-host.io/app",
    "host.io/app-",
    "a/b_-c",
    "ghcr.io/a/b:tag/x",
    `ghcr.io/${"a".repeat(250)}`,
  ]) {
    assert.throws(
      () => Reference.parse(bad),
      (e) => isPolypackError(e, "REFERENCE_INVALID") && e.message.includes(JSON.stringify(bad)),
      bad,
    );
  }
});

test("a reference with user:password@ in front is refused without echoing the credentials", () => {
  for (const bad of [
    "alice:pa55word@ghcr.io/org/app:1.0",
    "alice:pa55word@ghcr.io/org/app@" + DIGEST,
    "alice:pa/55@word@127.0.0.1:5000/app",
    "pa55word@ghcr.io",
    "docker://alice:pa55word@ghcr.io/org/app",
  ]) {
    assert.throws(
      () => Reference.parse(bad),
      (e) => {
        assert.ok(isPolypackError(e, "REFERENCE_INVALID"), String(e));
        assert.doesNotMatch(e.message, /pa55|alice|word/);
        assert.doesNotMatch(JSON.stringify(e.toJSON()), /pa55|alice/);
        assert.match(e.message, /REDACTED@/);
        return true;
      },
      bad,
    );
  }
});

const component = fc.stringMatching(/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/).filter((s) => s.length <= 20);
const domain = fc.oneof(
  fc.constant("localhost"),
  fc
    .tuple(fc.stringMatching(/^[a-z0-9]{1,10}$/), fc.stringMatching(/^[a-z]{2,5}$/))
    .map(([a, b]) => `${a}.${b}`),
  fc.integer({ min: 1, max: 65535 }).map((port) => `127.0.0.1:${port}`),
);
const tag = fc.stringMatching(/^[\w][\w.-]{0,20}$/);
const digest = fc.stringMatching(/^[0-9a-f]{64}$/).map((hex) => `sha256:${hex}`);

test("property: generated valid references round-trip through toString", () => {
  fc.assert(
    fc.property(
      fc.option(domain, { nil: undefined }),
      fc.array(component, { minLength: 1, maxLength: 4 }),
      fc.option(tag, { nil: undefined }),
      fc.option(digest, { nil: undefined }),
      (registry, path, tagValue, digestValue) => {
        // Without a registry, a first component that looks like a host is one, by Docker's rule.
        fc.pre(registry !== undefined || (!path[0]!.includes(".") && path[0] !== "localhost"));
        const text = `${registry ? `${registry}/` : ""}${path.join("/")}${tagValue ? `:${tagValue}` : ""}${digestValue ? `@${digestValue}` : ""}`;
        const ref = Reference.parse(text);
        if (registry) assert.equal(ref.registry, registry);
        assert.equal(ref.tag, tagValue);
        assert.equal(ref.digest?.toString(), digestValue);
        const again = Reference.parse(ref.toString());
        assert.ok(again.equals(ref));
        assert.equal(again.name, ref.name);
      },
    ),
  );
});

test("property: arbitrary strings parse or throw REFERENCE_INVALID", () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 80 }), (value) => {
      try {
        const ref = Reference.parse(value);
        assert.ok(Reference.parse(ref.toString()).equals(ref));
      } catch (error) {
        assert.ok(isPolypackError(error, "REFERENCE_INVALID"), String(error));
      }
    }),
  );
});
