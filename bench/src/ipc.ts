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

/**
 * Sends `message` to `child`, if given, and resolves with its next message;
 * rejects with the child's `{ error }` answer, or when it exits first.
 */
export async function ask<Reply>(
  child: ChildProcess,
  who: string,
  message?: object,
): Promise<Reply> {
  const reply = nextMessage(child, who);
  if (message !== undefined) child.send(message);
  const answer = await reply;
  if (typeof answer === "object" && answer !== null && "error" in answer) {
    throw new Error(String(answer.error));
  }
  return answer as Reply;
}
