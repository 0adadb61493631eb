import { createRequire } from "node:module";
import { getPostgresUrl, uniqueName } from "@sessionkit/conformance";
import { openStore } from "../src/store.js";
import { describeDemoHttp } from "./http-suite.js";

// The demo depends on pg but not on @types/pg: type the three calls used here.
interface PgClient {
  connect(): Promise<void>;
  query(sql: string): Promise<unknown>;
  end(): Promise<void>;
}
const { Client } = createRequire(import.meta.url)("pg") as {
  Client: new (config: { connectionString: string }) => PgClient;
};

const schema = uniqueName("demo");
let databaseUrl: string;

describeDemoHttp("postgres", {
  async open() {
    databaseUrl = await getPostgresUrl();
    const url = new URL(databaseUrl);
    // The store creates its table on first use (migrate: "auto"), as for SESSION_STORE_URL.
    url.searchParams.set("schema", schema);
    return openStore(url.toString());
  },
  async cleanup() {
    const client = new Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    } finally {
      await client.end();
    }
  },
});
