// parseStrictJson on its own: it agrees with JSON.parse on every valid text, and names each key that an
// object repeats (after unescaping) by its path from the root, at any depth.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_REPORTED_DUPLICATES, parseStrictJson } from "../../worker/shared/json";

const duplicatesOf = (text: string) => {
  const result = parseStrictJson(text);
  return result.ok ? [] : result.duplicateKeys;
};

describe("parseStrictJson", () => {
  it("returns JSON.parse's value for valid JSON without repeats: __proto__, escapes, big numbers, deep nesting", () => {
    const texts = [
      '{"symbol":"AAPL","side":"BUY","quantity":10,"order_type":"MARKET"}',
      '{"__proto__":{"admin":true},"constructor":1}',
      '{"s\\u0069de":"BUY","\\u0073ymbol":"\\u0041APL"}',
      '{"n":123456789012345678901234567890,"tiny":1e-400,"neg":-0}',
      '{"a":"\\"}{,:[]\\\\","b":"\\\\","c\\"d":1,"c":2}',
      '{"":1,"\\u0000":2,"😀":3,"\\ud83d":4}',
      ' \n\t{ "a" : [ 1 , { "b" : null } ] , "c" : true } \r\n',
      '"just a string"',
      "42",
      "null",
      "[]",
      "{}",
    ];
    for (const text of texts) {
      const result = parseStrictJson(text);
      expect(result, text.slice(0, 80)).toEqual({ ok: true, value: JSON.parse(text) });
    }
    // As deep as a 16 KiB body can nest (walked in a loop: a recursive deep-equal would overflow the stack).
    const deep = parseStrictJson('{"a":['.repeat(4000) + "1" + "]}".repeat(4000));
    let depth = 0;
    for (let v = deep.ok ? deep.value : null; v !== 1; v = (v as { a: unknown[] }).a[0]) depth++;
    expect(depth).toBe(4000);
    const proto = parseStrictJson('{"__proto__":{"admin":true}}');
    expect(proto.ok && Object.getPrototypeOf(proto.value)).toBe(Object.prototype);
    expect(proto.ok && Object.keys(proto.value as object)).toEqual(["__proto__"]);
  });

  it("names a key repeated at the top level, and only once however often it repeats", () => {
    const result = parseStrictJson('{"symbol":"AAPL","side":"SELL","quantity":10,"order_type":"MARKET","side":"BUY","side":"SELL"}');
    expect(result).toEqual({ ok: false, message: expect.stringContaining("side"), duplicateKeys: ["side"] });
  });

  it("compares keys after unescaping: \\u0073ide and s\\u0069de repeat side", () => {
    expect(duplicatesOf('{"side":"SELL","s\\u0069de":"BUY"}')).toEqual(["side"]);
    expect(duplicatesOf('{"\\u0073\\u0069\\u0064\\u0065":"SELL","side":"BUY"}')).toEqual(["side"]);
    expect(duplicatesOf('{"😀":1,"\\ud83d\\ude00":2}')).toEqual(['["😀"]']);
    expect(duplicatesOf('{"a\\/b":1,"a/b":2}')).toEqual(['["a/b"]']);
    expect(duplicatesOf('{"__proto__":1,"__\\u0070roto__":2}')).toEqual(["__proto__"]);
  });

  it("names nested repeats by path, in objects inside arrays and arrays inside arrays", () => {
    expect(duplicatesOf('{"legs":[{"price":1},{"price":2,"qty":1,"price":3}]}')).toEqual(["legs[1].price"]);
    expect(duplicatesOf('[[{"a":1}],[{"b":1},{"a":1,"a":2}]]')).toEqual(["[1][1].a"]);
    expect(duplicatesOf('{"a":{"b":{"c":1,"c":2}},"a":0}')).toEqual(["a.b.c", "a"]);
    expect(duplicatesOf('{"a b":{"x":1,"x":2},"":{"":1,"":2}}')).toEqual(['["a b"].x', '[""][""]']);
    expect(duplicatesOf('{"meta":{"a.b":1,"a.b":2}}')).toEqual(['meta["a.b"]']);
  });

  it("does not count the same key in two different objects, nor key-like text inside strings", () => {
    expect(parseStrictJson('{"a":{"x":1},"b":{"x":2}}').ok).toBe(true);
    expect(parseStrictJson('[{"side":"BUY"},{"side":"SELL"}]').ok).toBe(true);
    expect(parseStrictJson('{"note":"\\"side\\":1,\\"side\\":2","side":"BUY"}').ok).toBe(true);
    expect(parseStrictJson('{"a\\\\":1,"a":2}').ok).toBe(true);
    expect(parseStrictJson('{"a":{},"b":[{}],"c":[[],{}],"d":1}').ok).toBe(true);
  });

  it("finds a repeat in a wide object and at the bottom of deep nesting", () => {
    const wide = `{${Array.from({ length: 200 }, (_, i) => `"k${i}":${i}`).join(",")},"k150":0}`;
    expect(duplicatesOf(wide)).toEqual(["k150"]);
    const deep = "[".repeat(10_000) + '{"a":1,"a":2}' + "]".repeat(10_000);
    expect(duplicatesOf(deep)).toEqual(["[0]".repeat(9_999) + "[0].a"]);
  });

  it(`names at most ${MAX_REPORTED_DUPLICATES} repeats`, () => {
    const text = `{${Array.from({ length: 30 }, (_, i) => `"k${i}":1,"k${i}":2`).join(",")}}`;
    expect(duplicatesOf(text)).toEqual(Array.from({ length: MAX_REPORTED_DUPLICATES }, (_, i) => `k${i}`));
  });

  it("reports text that is not JSON with JSON.parse's message and no keys", () => {
    for (const text of ["", "{", '{"a":1,}', "{a:1}", '{"a":1,"a":2', "NaN", "\ufeff{}", '{"a":"\\x"}']) {
      const result = parseStrictJson(text);
      expect(result.ok, text).toBe(false);
      expect(!result.ok && result.duplicateKeys, text).toEqual([]);
      expect(!result.ok && result.message.length, text).toBeGreaterThan(0);
    }
  });

  it("never reports a repeat in what JSON.stringify writes", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = JSON.stringify(value);
        expect(parseStrictJson(text)).toEqual({ ok: true, value: JSON.parse(text) });
      }),
      { numRuns: 500, seed: 0x5eed0001 },
    );
  });

  it("names exactly the repeats of generated documents, whatever the keys' escaping and the spacing", () => {
    type Tree = { object: [string, boolean, Tree][] } | { array: Tree[] } | { leaf: unknown };
    const KEYS = ["a", "b", "side", "__proto__", "a.b", "", "é", "😀", 'x"y', "\\"];
    const { tree } = fc.letrec<{ tree: Tree; object: Tree; array: Tree }>((tie) => ({
      tree: fc.oneof({ depthSize: "small" }, fc.jsonValue({ maxDepth: 0 }).map((leaf) => ({ leaf })), tie("object"), tie("array")),
      object: fc.array(fc.tuple(fc.constantFrom(...KEYS), fc.boolean(), tie("tree")), { maxLength: 5 }).map((object) => ({ object })),
      array: fc.array(tie("tree"), { maxLength: 4 }).map((array) => ({ array })),
    }));
    const escapeAll = (key: string) => `"${[...Array(key.length).keys()].map((i) => `\\u${key.charCodeAt(i).toString(16).padStart(4, "0")}`).join("")}"`;
    const render = (t: Tree, gap: string): string =>
      "leaf" in t
        ? JSON.stringify(t.leaf)
        : "array" in t
          ? `[${gap}${t.array.map((x) => render(x, gap)).join(`,${gap}`)}]`
          : `{${gap}${t.object.map(([k, esc, v]) => `${esc ? escapeAll(k) : JSON.stringify(k)}${gap}:${gap}${render(v, gap)}`).join(`,${gap}`)}${gap}}`;
    // The notation parseStrictJson documents: identifiers after a dot, indexes and other keys in brackets.
    const format = (path: (string | number)[]) =>
      path.reduce<string>((s, at) => (typeof at === "number" ? `${s}[${at}]` : /^[A-Za-z_$][\w$]*$/.test(at) ? (s ? `${s}.${at}` : at) : `${s}[${JSON.stringify(at)}]`), "");
    const expected = (t: Tree, path: (string | number)[], out: string[]): string[] => {
      if ("array" in t) t.array.forEach((x, i) => expected(x, [...path, i], out));
      if ("object" in t) {
        const seen = new Set<string>();
        for (const [k, , v] of t.object) {
          if (seen.has(k)) {
            if (!out.includes(format([...path, k]))) out.push(format([...path, k]));
          } else seen.add(k);
          expected(v, [...path, k], out);
        }
      }
      return out;
    };
    fc.assert(
      fc.property(tree, fc.constantFrom("", " ", "\n  "), (t, gap) => {
        const text = render(t, gap);
        const want = expected(t, [], []).slice(0, MAX_REPORTED_DUPLICATES);
        const result = parseStrictJson(text);
        if (want.length === 0) expect(result, text).toEqual({ ok: true, value: JSON.parse(text) });
        else expect(result, text).toEqual({ ok: false, message: expect.any(String), duplicateKeys: want });
      }),
      { numRuns: 1000, seed: 0x5eed0002 },
    );
  });
});
