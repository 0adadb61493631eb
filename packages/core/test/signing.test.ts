import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
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
