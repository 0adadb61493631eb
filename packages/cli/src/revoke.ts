import { ExitCode, usageError } from "./cli-error.js";
import type { CommandContext } from "./context.js";
import { json, line } from "./io.js";
import { closeQuietly, firstContact, openStore } from "./open.js";
import { confirm } from "./prompt.js";
import { redactUrl } from "./url.js";

/** Options of `sessionkit revoke`: exactly one of `user` and `all`. */
export interface RevokeOptions {
  /** Revoke every session of this user. */
  readonly user?: string | undefined;
  /** Revoke every session of the store (`clear()`). */
  readonly all: boolean;
  /** Skip the confirmation prompt. */
  readonly yes: boolean;
}

/** The JSON document of `sessionkit revoke --json`. */
export interface RevokeReport {
  /** The store URL, credentials redacted. */
  readonly store: string;
  /** The user whose sessions were revoked, or `null` for `--all`. */
  readonly user: string | null;
  /** Sessions revoked (for `--all`: live sessions counted just before, `null` if the store cannot count). */
  readonly revoked: number | null;
  /** False when the operator declined at the prompt (nothing was revoked). */
  readonly confirmed: boolean;
}

/** `sessionkit revoke --user ID` or `--all`, with confirmation on a terminal unless `--yes`. */
export async function revoke(context: CommandContext, options: RevokeOptions): Promise<number> {
  const { url, timeoutMs, io } = context;
  if ((options.user === undefined) === !options.all) {
    throw usageError("revoke needs exactly one of --user ID and --all");
  }
  if (options.user === "") throw usageError("--user needs a non-empty user id");
  const store = await openStore(url, timeoutMs);
  const shown = redactUrl(url);
  const report = (revoked: number | null, confirmed: boolean): RevokeReport => ({
    store: shown,
    user: options.user ?? null,
    revoked,
    confirmed,
  });
  try {
    if (options.user !== undefined) {
      const user = options.user;
      if (!store.capabilities.userIndex || store.destroyByUser === undefined) {
        throw usageError(
          `the ${store.name} store keeps no per-user index: revoke --user is not possible`,
        );
      }
      const sessions = await firstContact(store, url, timeoutMs, async () =>
        store.listByUser ? (await store.listByUser(user)).length : 0,
      );
      if (sessions === 0) {
        if (context.json) json(io.stdout, report(0, true));
        else
          line(io.stdout, `user ${JSON.stringify(user)} has no live sessions: nothing to revoke`);
        return ExitCode.OK;
      }
      if (
        !options.yes &&
        !(await confirm(
          io,
          `Revoke ${sessions} session(s) of user ${JSON.stringify(user)} in ${shown}?`,
        ))
      ) {
        if (context.json) json(io.stdout, report(0, false));
        else line(io.stdout, "cancelled: nothing was revoked");
        return ExitCode.WARNING;
      }
      const revoked = await store.destroyByUser(user);
      if (context.json) json(io.stdout, report(revoked, true));
      else line(io.stdout, `revoked ${revoked} session(s) of user ${JSON.stringify(user)}`);
      return ExitCode.OK;
    }

    if (!store.capabilities.clear || store.clear === undefined) {
      throw usageError(`the ${store.name} store cannot clear: revoke --all is not possible`);
    }
    const clear = store.clear.bind(store);
    const live = store.capabilities.count
      ? await firstContact(store, url, timeoutMs, () => store.count?.() ?? Promise.resolve(0))
      : null;
    const what = live === null ? "every session" : `all ${live} live session(s)`;
    if (
      !options.yes &&
      !(await confirm(io, `Revoke ${what} in ${shown}? Every user is logged out.`))
    ) {
      if (context.json) json(io.stdout, report(0, false));
      else line(io.stdout, "cancelled: nothing was revoked");
      return ExitCode.WARNING;
    }
    await clear();
    if (context.json) json(io.stdout, report(live, true));
    else line(io.stdout, `revoked ${what} in ${shown}`);
    return ExitCode.OK;
  } finally {
    await closeQuietly(store);
  }
}
