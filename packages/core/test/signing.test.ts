import { createHmac, randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  createMac,
  createTokenSigner,
  generateSessionId,
  prepareSecrets,
  TOKEN_LENGTH,
} from "../src/signing.js";
import { OLD_SECRET, SECRET } from "./helpers.js";

const signer = createTokenSigner("__Host-sid", prepareSecrets([SECRET, OLD_SECRET]));

describe("session ids (A1)", () => {
  it("generateSessionId() is 256 random bits in canonical base64url", () => {
    const id = generateSessionId();
    expect(id).toMatch(/^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/);
    expect(Buffer.from(id, "base64url")).toHaveLength(32);
    expect(Buffer.from(id, "base64url").toString("base64url")).toBe(id);
  });
});

describe("the HMAC-SHA256 behind every signature (A12)", () => {
  // RFC 4231, test cases 1, 2, 6 and 7: short keys, a key longer than a block, data longer than the fast path takes.
  const vectors: [Buffer, string, string][] = [
    [
      Buffer.alloc(20, 0x0b),
      "Hi There",
      "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
    ],
    [
      Buffer.from("Jefe"),
      "what do ya want for nothing?",
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    ],
    [
      Buffer.alloc(131, 0xaa),
      "Test Using Larger Than Block-Size Key - Hash Key First",
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
    ],
    [
      Buffer.alloc(131, 0xaa),
      "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.",
      "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
    ],
  ];
  it.each(vectors)("matches RFC 4231 (key of %#)", (key, data, expected) => {
    // Split between prefix and id both ways: the bytes hashed are the same.
    expect(createMac(key, "")(data, "hex")).toBe(expected);
    expect(createMac(key, data.slice(0, 5))(data.slice(5), "hex")).toBe(expected);
  });

  it("gives createHmac's bytes for any key, prefix and id, reusing its buffers call after call", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 200 }),
        fc.string({ maxLength: 40 }),
        fc.array(
          fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: "binary", maxLength: 70 })),
          {
            minLength: 1,
            maxLength: 4,
          },
        ),
        (key, prefix, ids) => {
          const mac = createMac(Buffer.from(key), prefix);
          for (const id of ids) {
            const expected = createHmac("sha256", Buffer.from(key))
              .update(prefix + id)
              .digest("hex");
            expect(mac(id, "hex")).toBe(expected);
            expect(mac(id, "latin1")).toBe(Buffer.from(expected, "hex").toString("latin1"));
          }
        },
      ),
      { numRuns: 500 },
    );
  });
  it("gives createHmac's bytes for session ids and other 43-byte ids (the path with a view made once)", () => {
    const key = randomBytes(32);
    const prefix = "sessionkit/session-cookie/v1\0sid\0";
    const mac = createMac(key, prefix);
    // 43 ASCII units; 42 units that are 43 UTF-8 bytes; 43 units that are more bytes.
    const ids = [
      generateSessionId(),
      generateSessionId(),
      `${"a".repeat(41)}é`,
      `${"b".repeat(42)}€`,
    ];
    for (const id of [...ids, ...ids]) {
      const expected = createHmac("sha256", key).update(prefix + id);
      expect(mac(id, "base64url")).toBe(expected.digest("base64url"));
    }
  });
});

describe("signatures (A2, A12)", () => {
  it("sign() then verify() returns the id and the signing secret's index", () => {
    const id = generateSessionId();
    const token = signer.sign(id);
    expect(token).toHaveLength(TOKEN_LENGTH);
    expect(signer.verify(token)).toEqual({ id, secretIndex: 0 });
    const old = createTokenSigner("__Host-sid", prepareSecrets([OLD_SECRET]));
    expect(signer.verify(old.sign(id))).toEqual({ id, secretIndex: 1 });
  });

  it("a non-canonical encoding of a valid signature is rejected", () => {
    const token = signer.sign(generateSessionId());
    const last = token.at(-1) as string;
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    // Same decoded bytes, different padding bits.
    const sibling = alphabet[(alphabet.indexOf(last) & ~3) | 1] as string;
    const tampered = `${token.slice(0, -1)}${sibling}`;
    expect(Buffer.from(tampered.slice(44), "base64url")).toEqual(
      Buffer.from(token.slice(44), "base64url"),
    );
    expect(signer.verify(tampered)).toBeNull();
  });

  it("a signature from a secret not in the list never verifies", () => {
    const stranger = createTokenSigner("__Host-sid", [randomBytes(32)]);
    expect(signer.verify(stranger.sign(generateSessionId()))).toBeNull();
  });

  it("random strings never verify and never throw (property)", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 120 }),
          fc.stringMatching(/^[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/),
        ),
        (token) => {
          expect(signer.verify(token)).toBeNull();
        },
      ),
      { numRuns: 30_000 },
    );
  });

  it("any single-character change to a valid token is rejected (property)", () => {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=%;\u0000é";
    fc.assert(
      fc.property(
        fc.nat({ max: TOKEN_LENGTH - 1 }),
        fc.nat({ max: alphabet.length - 1 }),
        (position, charIndex) => {
          const token = signer.sign(generateSessionId());
          const replacement = alphabet[charIndex] as string;
          fc.pre(token[position] !== replacement);
          const forged = token.slice(0, position) + replacement + token.slice(position + 1);
          expect(signer.verify(forged)).toBeNull();
        },
      ),
      { numRuns: 20_000 },
    );
  });
});
