import { loopTurn } from "@sessionkit/core/node";

/**
 * The two event-loop conditions scheduling is tested in (`resumeInTurn`):
 * under load a session loaded without I/O goes on in the turn's check phase,
 * with one request per turn at once.
 */
export const TURN_LOADS = [
  { name: "under load (two requests arrived in the last turn)", arrivals: 2, deferred: true },
  { name: "one request per turn", arrivals: 1, deferred: false },
] as const;

/**
 * Ends the current event-loop turn, then one in which exactly `arrivals`
 * requests arrived (calls of `loopTurn`).
 */
export async function afterTurnWith(arrivals: number): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  for (let i = 0; i < arrivals; i++) loopTurn();
  await new Promise((resolve) => setImmediate(resolve));
}
