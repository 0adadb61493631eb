import { failureGroup, getRedisUrl, uniqueName } from "@sessionkit/conformance";
import { createRedisStore } from "@sessionkit/store-redis";

failureGroup({
  async target() {
    const url = new URL(await getRedisUrl());
    return { host: url.hostname, port: url.port === "" ? 6379 : Number(url.port) };
  },
  createStore: ({ host, port }, timeoutMs) =>
    createRedisStore({
      url: `redis://${host}:${port}`,
      prefix: uniqueName("skfail"),
      operationTimeoutMs: timeoutMs,
    }),
  async teardown(store) {
    await store.clear().catch(() => {});
    await store.close();
  },
});
