/**
 * Event-loop turns, for adapters that continue a request once its session
 * has loaded: {@link loopTurn} when the request arrives, {@link resumeInTurn}
 * (or {@link stillInTurn}, for middleware that awaits) when its load settles.
 */

let turn = 0;
let counting = false;
const endTurn = (): void => {
  turn++;
  counting = false;
};

/**
 * The number of the event-loop turn this code runs in, to hand to
 * {@link resumeInTurn} later. Turns are counted only while someone asks: the
 * first call in a turn schedules the one `setImmediate` that ends it.
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
  return turn;
}

/**
 * Calls `next(value)`: at once when the turn `arrived` is over (the load
 * waited for I/O, whose answers reach Node in batches already), else in this
 * turn's check phase (`setImmediate`), after Node's poll phase has handed over
 * every request that arrived with it. Under load, the requests of one turn
 * then run through routing and handlers one after another instead of each
 * between the parsing of the next, and their responses leave together: 8–13 %
 * more Express requests per second and 8–20 % more Fastify ones on the memory
 * store (BENCHMARKS.md finding 58); express-session's memory store answers on
 * `setImmediate` too. Without load it costs one pass through the check phase.
 *
 * @param arrived - What {@link loopTurn} returned when the request arrived.
 */
export function resumeInTurn<T>(arrived: number, next: (value: T) => void, value: T): void {
  if (turn === arrived) setImmediate(next, value);
  else next(value);
}

/**
 * Whether the turn `arrived` is still on: `true` exactly when
 * {@link resumeInTurn} would defer. For middleware that continues by
 * awaiting, so that it takes the promise of a deferral only when it defers.
 *
 * @param arrived - What {@link loopTurn} returned when the request arrived.
 *
 * @example
 * ```ts
 * const arrived = loopTurn();
 * const session = await manager.load(req);
 * if (stillInTurn(arrived)) await new Promise((resolve) => setImmediate(resolve));
 * ```
 */
export function stillInTurn(arrived: number): boolean {
  return turn === arrived;
}
