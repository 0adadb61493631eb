import { existsSync, statSync } from "node:fs";
import { CURRENT_SCHEMA_VERSION, sqliteSchemaVersion } from "@sessionkit/store-sqlite";
import Database from "better-sqlite3";
import { type Check, check, schemaCheck } from "./check.js";
import { quoteIdentifier } from "./postgres-target.js";
import type { SqliteTarget } from "./url.js";

/** Judges a file's permission bits: sessions must not be readable by other users. */
export function fileModeCheck(path: string, mode: number): Check {
  const bits = mode & 0o777;
  const octal = `0${bits.toString(8).padStart(3, "0")}`;
  const fix = `chmod 600 ${path}`;
  if ((bits & 0o007) !== 0) {
    return check(
      "file-mode",
      "error",
      `${path} has mode ${octal}: every user of this machine can access the sessions`,
      fix,
    );
  }
  if ((bits & 0o070) !== 0) {
    return check(
      "file-mode",
      "warning",
      `${path} has mode ${octal}: its group can access the sessions (0600 expected)`,
      fix,
    );
  }
  return check("file-mode", "ok", `${path} has mode ${octal}`);
}

/**
 * `doctor` for SQLite. It opens the file read-only and never creates or
 * changes it (opening it through the store would switch it to WAL and migrate it).
 */
export function sqliteDoctor(target: SqliteTarget): Check[] {
  const { path, table } = target;
  if (path === ":memory:") {
    return [
      check(
        "file",
        "info",
        "sqlite::memory: is a database private to each process: the CLI sees an empty one of its own",
      ),
    ];
  }
  if (!existsSync(path)) {
    return [
      check(
        "file",
        "error",
        `${path} does not exist`,
        "check the path (relative paths are resolved from the current directory); the store creates the file, with mode 0600, when it first opens it",
      ),
    ];
  }
  const checks: Check[] = [];
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    if (existsSync(file)) checks.push(fileModeCheck(file, statSync(file).mode));
  }
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const version = String(db.prepare("SELECT sqlite_version() AS v").pluck().get());
    checks.unshift(check("version", "ok", `SQLite ${version}, file ${path}`));
    const journal = String(db.pragma("journal_mode", { simple: true })).toLowerCase();
    checks.push(
      journal === "wal"
        ? check("journal-mode", "ok", "journal mode WAL")
        : check(
            "journal-mode",
            "warning",
            `journal mode ${journal}, not WAL: readers block the writer`,
            "open the file through the store once (it switches to WAL), or run PRAGMA journal_mode = WAL; on network filesystems WAL is not possible, keep the file on a local disk",
          ),
    );
    const found = sqliteSchemaVersion(db, table);
    const schema = schemaCheck(
      table,
      found,
      CURRENT_SCHEMA_VERSION,
      "warning",
      " (the store applies it when it opens the file)",
    );
    checks.push(schema);
    if (schema.status === "ok") {
      const columns = new Set<string>();
      for (const index of db.prepare(`PRAGMA index_list(${quoteIdentifier(table)})`).all() as {
        name: string;
      }[]) {
        const first = db.prepare(`PRAGMA index_info(${quoteIdentifier(index.name)})`).get() as
          | { name: string }
          | undefined;
        if (first !== undefined) columns.add(first.name);
      }
      const missing = ["key", "expires_at", "user_id"].filter((column) => !columns.has(column));
      checks.push(
        missing.length === 0
          ? check("indexes", "ok", "indexes on key, expires_at and user_id present")
          : check(
              "indexes",
              "error",
              `table ${table} has no index on ${missing.join(", ")}: those operations scan the whole table`,
            ),
      );
    }
  } finally {
    db.close();
  }
  return checks;
}
