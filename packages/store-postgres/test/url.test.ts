import { describe, expect, it } from "vitest";
import { parsePostgresUrl } from "../src/index.js";

// The URL grammar of the store (and of `sessionkit` for Postgres URLs). No
// server needed: parsing never connects. A39: no URL text in any error.

const invalidConfig = (fragment?: string) =>
  expect.objectContaining({
    name: "SessionError",
    code: "INVALID_CONFIG",
    ...(fragment === undefined ? {} : { message: expect.stringContaining(fragment) }),
  });

describe("parsePostgresUrl(url)", () => {
  it("parsePostgresUrl(url) splits store parameters from pg's, keeping pg's in the connection string", () => {
    expect(
      parsePostgresUrl(
        "postgres://app:pw@db.internal:6432/sessions?schema=s&table=t&sslmode=require&pooler=transaction&migrate=verify&unlogged=true&operationTimeoutMs=750&gcIntervalMs=false&gcBatchSize=50&application_name=web",
      ),
    ).toEqual({
      connection: {
        connectionString:
          "postgres://app:pw@db.internal:6432/sessions?sslmode=require&application_name=web",
        host: "db.internal",
        port: 6432,
        database: "sessions",
        user: "app",
      },
      options: {
        schema: "s",
        table: "t",
        pooler: "transaction",
        migrate: "verify",
        unlogged: true,
        operationTimeoutMs: 750,
        gcIntervalMs: false,
        gcBatchSize: 50,
      },
    });
  });

  it("parsePostgresUrl(url) of a URL without parameters returns it unchanged, with the default port", () => {
    expect(parsePostgresUrl("postgresql://localhost/app")).toEqual({
      connection: {
        connectionString: "postgresql://localhost/app",
        host: "localhost",
        port: 5432,
        database: "app",
        user: undefined,
      },
      options: {},
    });
  });

  it("parsePostgresUrl(url) reads the host and port pg would use: query parameters, IPv6 brackets, a socket directory", () => {
    expect(parsePostgresUrl("postgres://[::1]:5433/db").connection).toMatchObject({
      host: "::1",
      port: 5433,
    });
    expect(
      parsePostgresUrl("postgres://u@/db?host=/var/run/postgresql&table=t").connection,
    ).toEqual({
      connectionString: "postgres://u@/db?host=%2Fvar%2Frun%2Fpostgresql",
      host: "/var/run/postgresql",
      port: 5432,
      database: "db",
      user: "u",
    });
    expect(parsePostgresUrl("postgres://h/db?port=6000").connection.port).toBe(6000);
    expect(parsePostgresUrl("postgres://u%40corp:p@h/my%20db").connection).toMatchObject({
      user: "u@corp",
      database: "my db",
    });
  });

  it("parsePostgresUrl(url) refuses an unknown parameter, naming it, with INVALID_CONFIG", () => {
    expect(() => parsePostgresUrl("postgres://h/db?tabel=t")).toThrow(invalidConfig('"tabel"'));
    // Renamed store options are unknown, not aliases.
    for (const name of ["createTableIfMissing", "statementTimeoutMs", "connectTimeoutMs"]) {
      expect(() => parsePostgresUrl(`postgres://h/db?${name}=1`)).toThrow(invalidConfig(name));
    }
    // Timeouts come from operationTimeoutMs, so pg's own are refused too.
    for (const name of ["statement_timeout", "query_timeout", "connect_timeout"]) {
      expect(() => parsePostgresUrl(`postgres://h/db?${name}=1`)).toThrow(invalidConfig(name));
    }
  });

  it("parsePostgresUrl(url) refuses repeated and malformed parameters with INVALID_CONFIG", () => {
    for (const url of [
      "postgres://h/db?table=a&table=b",
      "postgres://h/db?sslmode=require&sslmode=disable",
      "postgres://h/db?operationTimeoutMs=fast",
      "postgres://h/db?operationTimeoutMs=-1",
      "postgres://h/db?gcIntervalMs=1.5",
      "postgres://h/db?unlogged=yes",
      "postgres://h/db?pooler=session",
      "postgres://h/db?migrate=true",
      "postgres://h/db?port=http",
    ]) {
      expect(() => parsePostgresUrl(url), url).toThrow(invalidConfig());
    }
  });

  it("parsePostgresUrl(url) refuses other schemes and malformed URLs without repeating them (A39)", () => {
    for (const url of [
      "mysql://u:s3cret@h/db",
      "redis://u:s3cret@h/0",
      "postgres:/u:s3cret@h",
      "postgres://u:s3cret@[bad/db",
      "postgres://u:s3cret@h:99999/db",
      "",
    ]) {
      let error: unknown;
      try {
        parsePostgresUrl(url);
      } catch (e) {
        error = e;
      }
      expect(error, url).toMatchObject({ code: "INVALID_CONFIG" });
      expect((error as Error).message).not.toContain("s3cret");
      expect((error as Error).message).not.toContain("u:");
    }
  });

  it("parsePostgresUrl(url) never echoes a password given as a query parameter in its errors (A39)", () => {
    expect(() => parsePostgresUrl("postgres://h/db?password=s3cret&password=again")).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining("s3cret") }),
    );
  });
});
