import { createSessionManager, type Session } from "@sessionkit/core";
import { expectTypeOf, test } from "vitest";
import { mapStore } from "./map-store.js";

interface Data {
  userName: string;
  cart: { sku: string; quantity: number }[];
}
interface Flash {
  info: string;
  error: { field: string; message: string };
}

const sessions = createSessionManager<Data, Flash>({
  store: mapStore(),
  secrets: ["type-test-secret-0123456789-abcdefghijklmnop"],
});

test("session values are typed by key", async () => {
  const session = await sessions.load(new Request("https://x.test"));
  expectTypeOf(session).toEqualTypeOf<Session<Data, Flash>>();
  expectTypeOf(session.get("userName")).toEqualTypeOf<string | undefined>();
  expectTypeOf(session.get("cart")).toEqualTypeOf<
    { sku: string; quantity: number }[] | undefined
  >();
  // @ts-expect-error unknown key
  session.get("nope");
  // @ts-expect-error wrong value type
  session.set("userName", 42);
  session.set("cart", [{ sku: "a", quantity: 1 }]);
  session.regenerate({ keep: ["cart"] });
  // @ts-expect-error keep lists session keys only
  session.regenerate({ keep: ["nope"] });
});

test("flash messages are typed by kind", async () => {
  const session = await sessions.load(new Request("https://x.test"));
  session.flash("info", "saved");
  session.flash("error", { field: "email", message: "taken" });
  // @ts-expect-error wrong message type
  session.flash("info", { field: "x" });
  expectTypeOf(session.consumeFlash("error")).toEqualTypeOf<{ field: string; message: string }[]>();
});
