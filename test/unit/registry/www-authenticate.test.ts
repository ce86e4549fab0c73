import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { parseWwwAuthenticate } from "../../../src/registry/www-authenticate.js";

test("parses distribution's Bearer challenge with a quoted scope containing commas", () => {
  const header =
    'Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:org/app:pull,push",error="insufficient_scope"';
  assert.deepEqual(parseWwwAuthenticate(header), [
    {
      scheme: "bearer",
      params: {
        realm: "https://auth.example.com/token",
        service: "registry.example.com",
        scope: "repository:org/app:pull,push",
        error: "insufficient_scope",
      },
    },
  ]);
});

test("parses Basic, unquoted values, escapes and mixed case names", () => {
  assert.deepEqual(parseWwwAuthenticate('Basic realm="Registry \\"R\\" Realm"'), [
    { scheme: "basic", params: { realm: 'Registry "R" Realm' } },
  ]);
  assert.deepEqual(parseWwwAuthenticate("BEARER Realm=https://a/b , Service = reg"), [
    { scheme: "bearer", params: { realm: "https://a/b", service: "reg" } },
  ]);
});

test("parses several challenges in one header and across headers", () => {
  const challenges = parseWwwAuthenticate([
    'Basic realm="r1", Bearer realm="https://t/token",service="s"',
    'Negotiate abc123==, Basic realm="r2"',
  ]);
  assert.deepEqual(
    challenges.map((c) => [c.scheme, c.params]),
    [
      ["basic", { realm: "r1" }],
      ["bearer", { realm: "https://t/token", service: "s" }],
      ["negotiate", { "": "abc123==" }],
      ["basic", { realm: "r2" }],
    ],
  );
});

test("empty and missing headers give no challenges", () => {
  assert.deepEqual(parseWwwAuthenticate(undefined), []);
  assert.deepEqual(parseWwwAuthenticate(""), []);
  assert.deepEqual(parseWwwAuthenticate("   ,  "), []);
});

test("property: any header text parses without throwing, into lower-case schemes", () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), (value) => {
      for (const challenge of parseWwwAuthenticate(value)) {
        assert.equal(challenge.scheme, challenge.scheme.toLowerCase());
      }
    }),
  );
});

test("property: quoted values round-trip whatever they contain", () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 50 }), fc.string({ maxLength: 50 }), (realm, scope) => {
      const quote = (s: string): string => `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`;
      const [challenge] = parseWwwAuthenticate(`Bearer realm=${quote(realm)},scope=${quote(scope)}`);
      assert.deepEqual(challenge, { scheme: "bearer", params: { realm, scope } });
    }),
  );
});
