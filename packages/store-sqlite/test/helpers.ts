import { type ChildProcess, fork, type Serializable } from "node:child_process";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { uniqueName } from "@sessionkit/conformance";
import Database from "better-sqlite3";

/** A fresh database path under the OS temp directory; nothing is created. */
export function tempDbPath(): string {
  return join(tmpdir(), `${uniqueName("sk_sqlite")}.db`);
}

/** Removes a database file and the files SQLite keeps beside it. */
export function removeDbFiles(path: string): void {
  for (const suffix of ["", "-wal", "-shm", "-journal"])
    rmSync(`${path}${suffix}`, { force: true });
}

/** Runs `read` on a separate read-only connection, bypassing the store entirely. */
export function withRawConnection<T>(path: string, read: (db: Database.Database) => T): T {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

/** A child process running a TypeScript fixture, with its messages as a queue. */
export interface Worker<Message> {
  readonly child: ChildProcess;
  /** The next message the child sends; rejects if it exits first. */
  next(): Promise<Message>;
  /** Resolves with the exit code (or signal) once the child has exited. */
  readonly exited: Promise<number | NodeJS.Signals | null>;
  send(message: unknown): void;
}

const packageDir = fileURLToPath(new URL("..", import.meta.url));

/**
 * Forks `test/fixtures/<name>.ts` under tsx, resolving workspace packages from
 * their TypeScript sources as the tests do.
 */
export function forkFixture<Message>(name: string, args: readonly string[] = []): Worker<Message> {
  const child = fork(join(packageDir, "test", "fixtures", `${name}.ts`), [...args], {
    cwd: packageDir,
    execArgv: ["--conditions=dev-source", "--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const queue: Message[] = [];
  const waiting: { resolve(m: Message): void; reject(e: Error): void }[] = [];
  let exitReason: Error | undefined;
  child.on("message", (message) => {
    const waiter = waiting.shift();
    if (waiter) waiter.resolve(message as Message);
    else queue.push(message as Message);
  });
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) => {
    child.once("exit", (code, signal) => {
      exitReason = new Error(`fixture ${name} exited (code ${code}, signal ${signal})`);
      for (const waiter of waiting.splice(0)) waiter.reject(exitReason);
      resolve(code ?? signal);
    });
  });
  return {
    child,
    exited,
    next() {
      const queued = queue.shift();
      if (queued !== undefined) return Promise.resolve(queued);
      if (exitReason !== undefined) return Promise.reject(exitReason);
      return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
    },
    send(message) {
      child.send(message as Serializable);
    },
  };
}

/** Kills a fixture still running after a failed test, so none outlives the run. */
export function killIfRunning(worker: Worker<unknown>): void {
  if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill();
}
