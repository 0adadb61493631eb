import { ErrorCode, SessionError } from "./errors.js";
import type { SessionStore } from "./store.js";

/**
 * A named way to create a store, as beego's `session.Register("redis", …)`.
 * Each store package exports one (`redisProvider`, `postgresProvider`, …).
 */
export interface StoreProvider<Options = never> {
  /** Lowercase name, such as `"redis"`. Unique within a registry. */
  readonly name: string;
  /** URL schemes this provider opens, without the colon, such as `["redis", "rediss"]`. */
  readonly schemes: readonly string[];
  /** Creates a store from provider-specific options. */
  create(options: Options): SessionStore | Promise<SessionStore>;
  /** Creates a store from a URL of one of its `schemes`. */
  fromUrl(url: string): SessionStore | Promise<SessionStore>;
}

/** Config form of {@link StoreRegistry.open}. */
export interface StoreConfig {
  /** A registered provider name. */
  readonly provider: string;
  /** Passed to the provider's `create()`. */
  readonly options?: unknown;
}

/** Stores registered by name and opened from config or a URL. */
export interface StoreRegistry {
  /** Registers a provider. Throws `DUPLICATE_PROVIDER` when its name or a scheme is taken. */
  register(provider: StoreProvider<never>): this;
  /** Opens a store from a URL (`redis://…`, `postgres://…`, `sqlite:./sessions.db`, `memory:`) or `{ provider, options }`. */
  open(config: string | StoreConfig): Promise<SessionStore>;
  /** Whether a provider of that name is registered. */
  has(name: string): boolean;
  /** Names of the registered providers, in registration order. */
  names(): string[];
}

const NAME = /^[a-z][a-z0-9-]{0,63}$/;
const SCHEME = /^[a-z][a-z0-9+.-]{0,31}$/;

/**
 * Creates an empty registry. Registration is explicit, so bundlers see every
 * store the application uses; names never turn into dynamic `import()`s.
 *
 * @example
 * ```ts
 * import { createStoreRegistry } from "@sessionkit/core";
 * import { memoryProvider } from "@sessionkit/store-memory";
 *
 * const registry = createStoreRegistry().register(memoryProvider);
 * const store = await registry.open(process.env.SESSION_STORE_URL ?? "memory:");
 * ```
 */
export function createStoreRegistry(providers: Iterable<StoreProvider<never>> = []): StoreRegistry {
  const byName = new Map<string, StoreProvider<never>>();
  const byScheme = new Map<string, StoreProvider<never>>();

  const unknown = (what: string): SessionError => {
    const known = byName.size === 0 ? "none" : [...byName.keys()].join(", ");
    return new SessionError(
      ErrorCode.UNKNOWN_PROVIDER,
      `no session store provider for ${what} (registered: ${known}). ` +
        "Forgotten registration? Import the store package and call " +
        "registry.register(provider), e.g. registry.register(redisProvider) from @sessionkit/store-redis.",
    );
  };

  const registry: StoreRegistry = {
    register(provider) {
      if (provider === null || typeof provider !== "object") {
        throw new TypeError("registry.register(provider): provider must be an object");
      }
      const { name, schemes } = provider;
      if (typeof name !== "string" || !NAME.test(name)) {
        throw new TypeError(
          `registry.register(provider): name must match ${NAME} (got ${JSON.stringify(name)})`,
        );
      }
      if (typeof provider.create !== "function" || typeof provider.fromUrl !== "function") {
        throw new TypeError(`provider "${name}" must have create() and fromUrl() functions`);
      }
      if (
        !Array.isArray(schemes) ||
        !schemes.every((s) => typeof s === "string" && SCHEME.test(s))
      ) {
        throw new TypeError(
          `provider "${name}": schemes must be lowercase URL schemes without ":"`,
        );
      }
      if (byName.has(name)) {
        throw new SessionError(
          ErrorCode.DUPLICATE_PROVIDER,
          `a session store provider named "${name}" is already registered`,
        );
      }
      for (const scheme of schemes) {
        const owner = byScheme.get(scheme);
        if (owner !== undefined) {
          throw new SessionError(
            ErrorCode.DUPLICATE_PROVIDER,
            `URL scheme "${scheme}:" is already registered by provider "${owner.name}"`,
          );
        }
      }
      byName.set(name, provider);
      for (const scheme of schemes) byScheme.set(scheme, provider);
      return this;
    },

    async open(config) {
      if (typeof config === "string") {
        const colon = config.indexOf(":");
        const scheme = colon > 0 ? config.slice(0, colon).toLowerCase() : "";
        // Only the scheme ever goes into a message: the rest may hold credentials.
        if (!SCHEME.test(scheme)) {
          throw new SessionError(
            ErrorCode.INVALID_CONFIG,
            'store URL must start with a scheme such as "redis:", "postgres:", "sqlite:" or "memory:"',
          );
        }
        const provider = byScheme.get(scheme);
        if (provider === undefined) throw unknown(`URL scheme "${scheme}:"`);
        return provider.fromUrl(config);
      }
      if (config === null || typeof config !== "object" || typeof config.provider !== "string") {
        throw new TypeError("registry.open(config): pass a URL string or { provider, options }");
      }
      const provider = byName.get(config.provider);
      if (provider === undefined) throw unknown(`name "${config.provider}"`);
      return provider.create(config.options as never);
    },

    has: (name) => byName.has(name),
    names: () => [...byName.keys()],
  };
  for (const provider of providers) registry.register(provider);
  return registry;
}
