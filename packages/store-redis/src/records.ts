import type { SessionRecord } from "@sessionkit/core/store";

const INTEGER = /^-?\d{1,16}$/;

function safeInteger(text: unknown): number | undefined {
  if (typeof text !== "string" || !INTEGER.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}

/**
 * A record from the fields of a session hash (as the GET script returns
 * them), or undefined when they are not one of ours.
 */
export function toRecord(
  payload: unknown,
  expires: unknown,
  created: unknown,
  versionText: unknown,
  userId: unknown,
): SessionRecord | undefined {
  const expiresAt = safeInteger(expires);
  const createdAt = safeInteger(created);
  const version = safeInteger(versionText);
  if (
    typeof payload !== "string" ||
    expiresAt === undefined ||
    createdAt === undefined ||
    version === undefined ||
    version < 1 ||
    (userId !== undefined && typeof userId !== "string")
  ) {
    return undefined;
  }
  const record: SessionRecord = { payload, expiresAt, createdAt, version };
  return typeof userId === "string" ? { ...record, userId } : record;
}

/** A record as the SET script's ARGV: payload, expiresAt, createdAt, version, userId or ''. */
export function recordArgs(record: SessionRecord): string[] {
  return [
    record.payload,
    String(record.expiresAt),
    String(record.createdAt),
    String(record.version),
    record.userId ?? "",
  ];
}
