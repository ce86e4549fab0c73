/**
 * A JSON value as Go's `encoding/json` would see it: objects keep the order their keys were added
 * in (a struct's declaration order), and `undefined` members are left out (an `omitempty` field).
 */
export type GoJSONValue =
  | string
  | number
  | boolean
  | null
  | undefined
  | readonly GoJSONValue[]
  | { readonly [key: string]: GoJSONValue };

// Go escapes these for safe embedding in HTML; JSON.stringify leaves them alone.
const GO_ESCAPES: Record<string, string> = {
  "<": "\\u003c",
  ">": "\\u003e",
  "&": "\\u0026",
  "\u2028": "\\u2028",
  "\u2029": "\\u2029",
};

/**
 * Encodes a value byte for byte as Go's `json.Marshal` does: compact, members in the given order,
 * `<`, `>`, `&`, U+2028 and U+2029 escaped as `\u003c`-style sequences. Control characters are
 * written alike by both (`\n`, `\b`, `\u0001`, ...). Map keys must be sorted by the caller
 * (`sortedByGoKey`), since only the caller knows which objects are maps and which are structs.
 */
export function encodeGoJSON(value: GoJSONValue): string {
  return (JSON.stringify(value) ?? "null").replace(/[<>&\u2028\u2029]/g, (char) => GO_ESCAPES[char] ?? char);
}

/**
 * A copy of a map with its keys in Go's order: sorted by their UTF-8 bytes, which differs from
 * JavaScript's UTF-16 order only for characters beyond the Basic Multilingual Plane.
 */
export function sortedByGoKey<T>(map: Readonly<Record<string, T>>): Record<string, T> {
  const keys = Object.keys(map).sort((a, b) =>
    Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8")),
  );
  const out: Record<string, T> = {};
  for (const key of keys) out[key] = map[key]!;
  return out;
}

/** A time as Go's `time.Time` marshals it (RFC 3339 with nanoseconds, trailing zeros dropped). */
export function goTime(date: Date): string {
  return date.toISOString().replace(/\.?0+Z$/, "Z");
}
