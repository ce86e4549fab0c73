import assert from "node:assert/strict";
import { test } from "node:test";
import { isPolypackError } from "../../../src/errors/index.js";
import { displayUri, resolveDependencyUri } from "../../../src/dependencies/source-uri.js";

const BASE = "/work/buildpacks/hello";

test("a relative file: URI is resolved against the buildpack directory", () => {
  assert.deepEqual(resolveDependencyUri("file:dependencies-src/hello-1.0.0.tgz", BASE), {
    kind: "file",
    path: "/work/buildpacks/hello/dependencies-src/hello-1.0.0.tgz",
  });
  assert.deepEqual(resolveDependencyUri("file:../shared/x.tgz", BASE), {
    kind: "file",
    path: "/work/buildpacks/shared/x.tgz",
  });
});

test("a relative file: URI is percent-decoded and loses its query and fragment", () => {
  assert.deepEqual(resolveDependencyUri("file:deps/my%20file.tgz?x=1#frag", BASE), {
    kind: "file",
    path: "/work/buildpacks/hello/deps/my file.tgz",
  });
});

test("absolute file URIs ignore the base directory", () => {
  for (const uri of [
    "file:///srv/deps/a%2Bb.tgz",
    "file:/srv/deps/a%2Bb.tgz",
    "file://localhost/srv/deps/a%2Bb.tgz",
  ]) {
    assert.deepEqual(resolveDependencyUri(uri, BASE), { kind: "file", path: "/srv/deps/a+b.tgz" }, uri);
  }
});

test("http and https URIs become URLs", () => {
  const source = resolveDependencyUri(" https://example.com/a/b.tgz?x=1 ", BASE);
  assert.equal(source.kind, "http");
  assert.equal(source.kind === "http" ? source.url.href : "", "https://example.com/a/b.tgz?x=1");
  assert.equal(resolveDependencyUri("HTTP://example.com/x", BASE).kind, "http");
});

test("other schemes, missing schemes and remote file hosts are refused", () => {
  for (const uri of [
    "ftp://example.com/x.tgz",
    "s3://bucket/x",
    "just/a/path.tgz",
    "file://otherhost/x",
    "file:",
    "file:%zz",
  ]) {
    assert.throws(
      () => resolveDependencyUri(uri, BASE),
      (e) => isPolypackError(e, "DEPENDENCY_URI_UNSUPPORTED"),
      uri,
    );
  }
});

test("displayUri removes credentials and secret query values from HTTP URLs only", () => {
  const shown = displayUri("https://alice:s3cret@example.com/dl/x.tgz?token=abc&arch=arm64");
  assert.doesNotMatch(shown, /alice|s3cret|abc/);
  assert.match(shown, /^https:\/\/example\.com\/dl\/x\.tgz\?token=REDACTED&arch=arm64$/);
  assert.equal(displayUri("file:dependencies-src/x.tgz"), "file:dependencies-src/x.tgz");
});
