import { createSessionManager } from "@sessionkit/core";
import { createMemoryStore } from "@sessionkit/store-memory";

const store = createMemoryStore({ maxEntries: 10_000, gcIntervalMs: false });
const manager = createSessionManager({
  store,
  secrets: ["bench-secret-0123456789-abcdefghijklmnopqrstuv"],
});
const cookies: string[] = [];
for (let i = 0; i < 1000; i++) {
  const s = await manager.load({ headers: {} });
  s.set("userId", `user-${i}`);
  s.set("roles", ["user", "editor"]);
  s.set("csrf", "x".repeat(43));
  s.set("cart", [
    { sku: "a", qty: 1 },
    { sku: "b", qty: 2 },
    { sku: "c", qty: 3 },
  ]);
  s.set("visits", 0);
  const h = (await s.commit()).headers.find(([n]) => n === "Set-Cookie")?.[1] ?? "";
  cookies.push(h.slice(0, h.indexOf(";")));
}
const mode = process.argv[2] ?? "unchanged";
const N = Number(process.env.N ?? 200_000);
let v = 0;
const t0 = process.cpuUsage();
for (let i = 0; i < N; i++) {
  const s = await manager.load({ headers: { cookie: cookies[i % 1000] as string } });
  if (mode === "changed") s.set("visits", ++v);
  else s.get("userId");
  await s.commit();
}
const u = process.cpuUsage(t0);
process.stdout.write(`${mode} ${((u.user + u.system) / N).toFixed(2)} µs/cycle\n`);
