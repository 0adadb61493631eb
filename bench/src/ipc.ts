import type { ChildProcess } from "node:child_process";

/**
 * The next IPC message of `child`, or `{ error }` naming `who` if the child
 * exits first. Listens before the caller sends its request, so no answer is
 * missed.
 */
export function nextMessage(child: ChildProcess, who: string): Promise<unknown> {
  return new Promise((resolve) => {
    const onExit = (code: number | null) =>
      resolve({ error: `${who} process exited (code ${code})` });
    child.once("exit", onExit);
    child.once("message", (message) => {
      child.off("exit", onExit);
      resolve(message);
    });
  });
}
