import { createSessionManager, createStoreRegistry } from "@sessionkit/core";
import { createPostgresStore, postgresProvider } from "@sessionkit/store-postgres";
import pg from "pg";

export async function createSessions(options: {
  databaseUrl: string;
  sessionSecret: string;
  schema?: string;
}) {
  // Your pool: the store uses it and leaves it open on close().
  const pool = new pg.Pool({
    connectionString: options.databaseUrl,
    statement_timeout: 2_000,
    connectionTimeoutMillis: 2_000,
  });
  pool.on("error", (error) => console.error("idle Postgres client failed:", error.message));

  const store = createPostgresStore({ pool, schema: options.schema ?? "public" });
  // Idempotent, and safe when every instance runs it at start-up.
  await store.migrate();

  const sessions = createSessionManager<{ cart: string[] }>({
    store,
    secrets: [options.sessionSecret],
  });

  async function handle(request: Request): Promise<Response> {
    const session = await sessions.load(request);
    session.set("cart", [...(session.get("cart") ?? []), "apple"]);
    const { headers } = await session.commit();
    const response = new Response("added");
    for (const [name, value] of headers) response.headers.append(name, value);
    return response;
  }

  return { pool, store, handle };
}

export async function openOtherWays(databaseUrl: string, schema = "public") {
  // The store creates its own pool, with timeouts, and ends it on close():
  const owned = createPostgresStore({ connectionString: databaseUrl, schema });

  // Or from configuration, through a registry, with options as query parameters:
  const url = new URL(databaseUrl);
  url.searchParams.set("schema", schema);
  url.searchParams.set("createTableIfMissing", "true");
  const registry = createStoreRegistry().register(postgresProvider);
  const configured = await registry.open(url.toString());

  return { owned, configured };
}
