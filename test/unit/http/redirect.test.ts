import assert from "node:assert/strict";
import { test } from "node:test";
import { isPolypackError } from "../../../src/errors/index.js";
import type { HttpRequest } from "../../../src/http/message.js";
import { redirectedRequest, withRedirects as withRedirectsNamed } from "../../../src/http/redirect.js";
import { registryErrors } from "../../../src/registry/errors.js";
import { scripted } from "../registry/transport-fakes.js";

const blob = new URL("https://registry.example.com/v2/a/blobs/sha256:00");
const auth = { authorization: "Bearer secret", accept: "*/*" };
const withRedirects = (send: Parameters<typeof withRedirectsNamed>[0], max?: number) =>
  withRedirectsNamed(send, registryErrors, max);
const get = (headers?: Record<string, string>): HttpRequest => ({
  method: "GET",
  url: blob,
  ...(headers ? { headers } : {}),
});

test("a redirect to the same origin keeps credentials", () => {
  const next = redirectedRequest(get(auth), new URL("https://registry.example.com/other"));
  assert.equal(next.headers?.["authorization"], "Bearer secret");
  assert.notEqual(next.authorize, false);
});

test("a redirect to another host, port or scheme drops credentials and further auth", () => {
  for (const target of [
    "https://storage.example.com/blob",
    "https://registry.example.com:8443/x",
    "http://registry.example.com/x",
  ]) {
    const next = redirectedRequest(get(auth), new URL(target));
    assert.equal(next.headers?.["authorization"], undefined, target);
    assert.equal(next.headers?.["accept"], "*/*");
    assert.equal(next.authorize, false, target);
  }
});

test("once credentials were dropped, coming back to the registry does not restore them", () => {
  const away = redirectedRequest(get(auth), new URL("https://cdn.example.com/x"));
  const back = redirectedRequest(away, new URL("https://cdn.example.com/y"));
  assert.equal(back.authorize, false);
});

test("follows relative and absolute Location for GET, leaves PUT answers alone", async () => {
  const inner = scripted((request) => {
    if (request.url.pathname === "/v2/a/blobs/sha256:00")
      return { status: 307, headers: { location: "/mirror/1" } };
    if (request.url.pathname === "/mirror/1")
      return { status: 302, headers: { location: "https://cdn.example.com/b" } };
    return { status: 200, body: "bytes" };
  });
  const response = await withRedirects(inner)(get(auth));
  assert.equal(response.status, 200);
  assert.deepEqual(
    inner.seen.map((r) => [r.url.href, r.headers?.["authorization"]]),
    [
      [blob.href, "Bearer secret"],
      ["https://registry.example.com/mirror/1", "Bearer secret"],
      ["https://cdn.example.com/b", undefined],
    ],
  );
  const put = scripted(() => ({ status: 307, headers: { location: "/elsewhere" } }));
  assert.equal((await withRedirects(put)({ method: "PUT", url: blob, body: Buffer.from("x") })).status, 307);
  assert.equal(put.seen.length, 1);
});

test("caps the number of redirects and refuses non-http targets", async () => {
  const loop = scripted((_r, i) => ({ status: 302, headers: { location: `/hop/${i}` } }));
  await assert.rejects(withRedirects(loop, 3)({ method: "GET", url: blob }), (e) =>
    isPolypackError(e, "REGISTRY_ERROR"),
  );
  assert.equal(loop.seen.length, 4);
  const file = scripted(() => ({ status: 302, headers: { location: "file:///etc/passwd" } }));
  await assert.rejects(withRedirects(file)({ method: "GET", url: blob }), (e) =>
    isPolypackError(e, "REGISTRY_ERROR"),
  );
});

test("a redirect or error body that never ends is dropped, not read forever", async () => {
  const { Readable } = await import("node:stream");
  const { discard } = await import("../../../src/http/message.js");
  let destroyed = false;
  let produced = 0;
  const endless = new Readable({
    read() {
      produced += 16 * 1024;
      this.push(Buffer.alloc(16 * 1024, 1));
    },
    destroy(error, callback) {
      destroyed = true;
      callback(error);
    },
  });
  await discard({ status: 302, headers: {}, body: endless, url: blob });
  assert.ok(destroyed, "the endless body was dropped");
  assert.ok(produced <= 256 * 1024, `read ${produced} bytes of it`);
  // A short body is read to its end, so its connection can be reused.
  const short = Readable.from([Buffer.from("moved")]);
  await discard({ status: 302, headers: {}, body: short, url: blob });
  assert.equal(short.readableEnded, true);
});
