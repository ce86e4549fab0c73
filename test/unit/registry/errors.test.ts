import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { test } from "node:test";
import fc from "fast-check";
import { isPolypackError, PolypackError } from "../../../src/errors/index.js";
import { createConnection } from "../../../src/http/connection.js";
import { chunksOf } from "../../../src/registry/chunks.js";
import { errorFromResponse, RegistryError, registryErrors } from "../../../src/registry/errors.js";
import { redactHeaders, redactUrl } from "../../../src/http/redact.js";
import { response } from "./transport-fakes.js";

const request = {
  method: "GET" as const,
  url: new URL("https://user:pw@registry.example.com/v2/a/manifests/1?access_token=abc&n=1"),
};

test("maps statuses and registry codes to stable codes and keeps the registry's codes", async () => {
  const cases: [number, string, string][] = [
    [
      401,
      '{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
      "REGISTRY_UNAUTHORIZED",
    ],
    [
      403,
      '{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}',
      "REGISTRY_DENIED",
    ],
    [404, '{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}', "REGISTRY_NOT_FOUND"],
    [400, '{"errors":[{"code":"NAME_UNKNOWN"}]}', "REGISTRY_NOT_FOUND"],
    [429, '{"errors":[{"code":"TOOMANYREQUESTS"}]}', "REGISTRY_UNAVAILABLE"],
    [503, "<html>down</html>", "REGISTRY_UNAVAILABLE"],
    [400, '{"errors":[{"code":"MANIFEST_INVALID","message":"bad"}]}', "REGISTRY_ERROR"],
  ];
  for (const [status, body, code] of cases) {
    const error = await errorFromResponse(response(request, { status, body }), request, "reading a/b:1");
    assert.ok(error instanceof RegistryError && error instanceof PolypackError);
    assert.equal(error.code, code, `${status} ${body}`);
    assert.equal(error.status, status);
    assert.equal(error.temporary, code === "REGISTRY_UNAVAILABLE");
    assert.ok(!error.message.includes("pw") && !error.message.includes("abc"), error.message);
    assert.ok(error.message.startsWith("reading a/b:1: the registry answered"), error.message);
  }
  const unknown = await errorFromResponse(
    response(request, { status: 404, body: '{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]}' }),
    request,
    "x",
  );
  assert.deepEqual(unknown.registryCodes, ["BLOB_UNKNOWN"]);
  assert.match(unknown.message, /BLOB_UNKNOWN: blob unknown/);
});

test("reads Retry-After into the error and caps the body it reads", async () => {
  const error = await errorFromResponse(
    response(request, { status: 429, headers: { "retry-after": "12" }, body: "x".repeat(200_000) }),
    request,
    "x",
  );
  assert.equal(error.retryAfterMs, 12_000);
  assert.deepEqual(error.registryCodes, []);
});

test("redacts credentials from URLs and headers", () => {
  assert.equal(
    redactUrl(request.url),
    "https://registry.example.com/v2/a/manifests/1?access_token=REDACTED&n=1",
  );
  assert.deepEqual(
    redactHeaders({ Authorization: "Bearer abc.def", accept: "x", cookie: "s=1", "set-cookie": ["a", "b"] }),
    {
      Authorization: "Bearer REDACTED",
      accept: "x",
      cookie: "REDACTED",
      "set-cookie": "REDACTED",
    },
  );
});

test("property: chunksOf regroups any stream into exact chunks with the same bytes", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.uint8Array({ maxLength: 50 }), { maxLength: 20 }),
      fc.integer({ min: 1, max: 64 }),
      async (pieces, size) => {
        const chunks: Buffer[] = [];
        for await (const chunk of chunksOf(Readable.from(pieces.map((p) => Buffer.from(p))), size))
          chunks.push(chunk);
        assert.deepEqual(Buffer.concat(chunks), Buffer.concat(pieces.map((p) => Buffer.from(p))));
        chunks.slice(0, -1).forEach((c) => assert.equal(c.length, size));
        if (chunks.length > 0) assert.ok(chunks.at(-1)!.length > 0 && chunks.at(-1)!.length <= size);
      },
    ),
  );
});

test("an unreadable CA bundle is a typed error naming the file", () => {
  assert.throws(
    () => createConnection({ caFile: "/nonexistent/polypack-ca.pem", errors: registryErrors }),
    (e) => isPolypackError(e, "PATH_UNREADABLE") && e.message.includes("/nonexistent/polypack-ca.pem"),
  );
});
