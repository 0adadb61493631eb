/**
 * Event-loop turns, for adapters that continue a request once its session
 * has loaded: {@link loopTurn} when the request arrives, {@link resumeInTurn}
 * (or {@link defersInTurn}, for middleware that awaits) when its load settles.
 */

let turn = 0;
let counting = false;
/** Calls of {@link loopTurn} (requests that arrived) in the turn being counted. */
let arrivals = 0;
/** Whether the last counted turn saw more than one request arrive: the server is under load. */
let busy = false;
const endTurn = (): void => {
  turn++;
  counting = false;
  busy = arrivals > 1;
  arrivals = 0;
};

/**
 * The number of the event-loop turn this code runs in, to hand to
 * {@link resumeInTurn} later; call it once per request, when it arrives: each
 * call counts as one arrival of the turn ({@link defersInTurn}). Turns are
 * counted only while someone asks: the first call in a turn schedules the one
 * `setImmediate` that ends it.
 *
 * @example
 * ```ts
 * const arrived = loopTurn();
 * manager.load(req).then((session) => resumeInTurn(arrived, handle, session), fail);
 * ```
 */
export function loopTurn(): number {
  if (!counting) {
    counting = true;
    setImmediate(endTurn);
  }
  arrivals++;
  return turn;
}

/**
 * Calls `next(value)`: in this turn's check phase (`setImmediate`) when the
 * server is under load and the turn `arrived` is still on
 * ({@link defersInTurn}), else at once. Deferred, the request goes on after
 * Node's poll phase has handed over every request that arrived with it: the
 * requests of one turn then run through routing and handlers one after
 * another instead of each between the parsing of the next, and their
 * responses leave together: 8–13 % more Express requests per second and
 * 8–20 % more Fastify ones on the memory store (BENCHMARKS.md finding 58);
 * express-session's memory store answers on `setImmediate` too. A load that
 * waited for I/O (its turn is over; such answers reach Node in batches
 * already), and any request of a server that gets one request per turn, goes
 * on at once: there the deferral would batch nothing and only add a pass
 * through the event loop when the request did not arrive in the poll phase
 * (finding 59).
 *
 * @param arrived - What {@link loopTurn} returned when the request arrived.
 */
export function resumeInTurn<T>(arrived: number, next: (value: T) => void, value: T): void {
  if (defersInTurn(arrived)) setImmediate(next, value);
  else next(value);
}

/**
 * Whether {@link resumeInTurn} would defer a request that arrived in turn
 * `arrived`: that turn is still on, and the last turn counted before it saw
 * more than one request arrive (more than one call of {@link loopTurn}), so
 * requests are arriving together. For middleware that goes on by awaiting, so
 * that it takes the promise of a deferral only when it defers.
 *
 * @param arrived - What {@link loopTurn} returned when the request arrived.
 *
 * @example
 * ```ts
 * const arrived = loopTurn();
 * const session = await manager.load(req);
 * if (defersInTurn(arrived)) await new Promise((resolve) => setImmediate(resolve));
 * ```
 */
export function defersInTurn(arrived: number): boolean {
  return busy && turn === arrived;
}
