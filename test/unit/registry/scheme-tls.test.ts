import assert from "node:assert/strict";
import { createServer as createHttpServer } from "node:http";
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { after, test } from "node:test";
import { isPolypackError } from "../../../src/errors/index.js";
import { RegistryError, registryErrors } from "../../../src/registry/errors.js";
import { tlsError, tlsFailureOf } from "../../../src/http/tls-errors.js";
import { probeTls } from "../../../src/http/tls-probe.js";

const coded = (code: string, message = ""): Error => Object.assign(new Error(message), { code });

test("certificate failures are 'untrusted', plain-text answers 'plaintext', the rest 'handshake'", () => {
  for (const code of [
    "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    "DEPTH_ZERO_SELF_SIGNED_CERT",
    "SELF_SIGNED_CERT_IN_CHAIN",
    "CERT_HAS_EXPIRED",
    "ERR_TLS_CERT_ALTNAME_INVALID",
  ]) {
    assert.equal(tlsFailureOf(coded(code)), "untrusted", code);
  }
  assert.equal(tlsFailureOf(coded("ERR_SSL_WRONG_VERSION_NUMBER", "wrong version number")), "plaintext");
  assert.equal(tlsFailureOf(coded("EPROTO", "write EPROTO ...:wrong version number:...")), "plaintext");
  assert.equal(tlsFailureOf(coded("ERR_SSL_PACKET_LENGTH_TOO_LONG")), "plaintext");
  assert.equal(tlsFailureOf(coded("ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE")), "handshake");
  assert.equal(tlsFailureOf(coded("EPROTO", "tlsv1 alert protocol version")), "handshake");
});

test("a reset is plain text only during a handshake; other errors are not TLS failures", () => {
  assert.equal(tlsFailureOf(coded("ECONNRESET"), true), "plaintext");
  assert.equal(tlsFailureOf(coded("ECONNRESET")), undefined);
  assert.equal(tlsFailureOf(coded("ECONNREFUSED"), true), undefined);
  assert.equal(tlsFailureOf(new Error("no code")), undefined);
  assert.equal(tlsFailureOf(undefined), undefined);
});

test("TLS errors are typed, final, and point at --ca-file or --insecure-registry", () => {
  const request = { method: "GET" as const, url: new URL("https://user:pw@127.0.0.1:5443/v2/?token=t") };
  const untrusted = tlsError(
    "untrusted",
    request,
    new Error("unable to verify the first certificate"),
    registryErrors,
  );
  assert.ok(untrusted instanceof RegistryError);
  assert.equal(untrusted.code, "REGISTRY_TLS_UNTRUSTED");
  assert.equal(untrusted.temporary, false);
  assert.match(untrusted.message, /127\.0\.0\.1:5443.*unable to verify the first certificate/);
  assert.match(untrusted.hint ?? "", /--ca-file/);
  assert.doesNotMatch(untrusted.message, /pw|token=t\b/);
  const plain = tlsError("plaintext", request, new Error("wrong version number"), registryErrors);
  assert.equal(plain.code, "REGISTRY_TLS_FAILED");
  assert.match(plain.hint ?? "", /--insecure-registry/);
  assert.equal(
    tlsError("handshake", request, new Error("alert"), registryErrors).code,
    "REGISTRY_TLS_FAILED",
  );
});

/** Starts a server on a free loopback port and stops it after the file's tests. */
async function listen(server: Server): Promise<URL> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return new URL(`https://127.0.0.1:${(server.address() as AddressInfo).port}/v2/`);
}

const probeOptions = { verify: true, timeoutMs: 2000, errors: registryErrors };

test("a plain HTTP server answering the handshake with 400 is 'plaintext'", async () => {
  const url = await listen(createHttpServer((_req, res) => res.end()));
  assert.equal(await probeTls({ method: "GET", url }, probeOptions), "plaintext");
});

test("a server that hangs up on the handshake is 'plaintext'", async () => {
  const url = await listen(createServer((socket) => socket.destroy()));
  assert.equal(await probeTls({ method: "GET", url }, probeOptions), "plaintext");
});

test("a refused connection is a temporary REGISTRY_UNAVAILABLE, not a reason to change scheme", async () => {
  const server = createServer();
  const url = await listen(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await assert.rejects(
    probeTls({ method: "HEAD", url }, probeOptions),
    (e) => isPolypackError(e, "REGISTRY_UNAVAILABLE") && e instanceof RegistryError && e.temporary,
  );
});

test("a server that never answers the handshake times out as REGISTRY_UNAVAILABLE", async () => {
  const sockets: Socket[] = [];
  const server = createServer((socket) => sockets.push(socket));
  after(() => sockets.forEach((s) => s.destroy()));
  const url = await listen(server);
  const started = Date.now();
  await assert.rejects(
    probeTls({ method: "GET", url }, { verify: true, timeoutMs: 150, errors: registryErrors }),
    (e) => isPolypackError(e, "REGISTRY_UNAVAILABLE"),
  );
  assert.ok(Date.now() - started < 2000);
});
