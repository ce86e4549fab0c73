import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { encodeGoJSON, goTime, sortedByGoKey } from "../../../src/oci/go-json.js";

test("encodes like Go's json.Marshal: HTML characters and line separators escaped, undefined left out", () => {
  assert.equal(
    encodeGoJSON({ b: "<a href='x'>&</a>", a: undefined, c: ["\u2028\u2029", "\n\t\b\f\u0001"], d: true }),
    '{"b":"\\u003ca href=\'x\'\\u003e\\u0026\\u003c/a\\u003e","c":["\\u2028\\u2029","\\n\\t\\b\\f\\u0001"],"d":true}',
  );
});

test("decoding Go's output gives back the value, whatever the string", () => {
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.string(), fc.boolean())), fc.string(), (values, key) => {
      const value = { [key]: values };
      const encoded = encodeGoJSON(value);
      assert.doesNotMatch(encoded, /[<>&\u2028\u2029]/);
      assert.deepEqual(JSON.parse(encoded), JSON.parse(JSON.stringify(value)));
    }),
  );
});

test("map keys sort by UTF-8 bytes, as Go sorts them", () => {
  // U+FF5E sorts before U+1F600 in UTF-8 but after its surrogate pair in UTF-16.
  assert.deepEqual(Object.keys(sortedByGoKey({ "\u{1F600}": 1, "\uFF5E": 2, b: 3, a: 4 })), [
    "a",
    "b",
    "\uFF5E",
    "\u{1F600}",
  ]);
});

test("times are RFC 3339 without needless fractions", () => {
  assert.equal(goTime(new Date("1980-01-01T00:00:01Z")), "1980-01-01T00:00:01Z");
  assert.equal(goTime(new Date("1980-01-01T00:00:10.000Z")), "1980-01-01T00:00:10Z");
  assert.equal(goTime(new Date("2024-05-06T07:08:09.120Z")), "2024-05-06T07:08:09.12Z");
});
