import { getRedisUrl, uniqueName } from "@sessionkit/conformance";
import { openStore } from "../src/store.js";
import { describeDemoHttp } from "./http-suite.js";

describeDemoHttp("redis", {
  async open() {
    const url = new URL(await getRedisUrl());
    url.searchParams.set("prefix", uniqueName("demo"));
    return openStore(url.toString());
  },
  async cleanup(store) {
    await store.clear?.();
  },
});
