/**
 * The Lua scripts of the Redis store. Each store operation that reads before
 * it writes is one script, so it runs atomically on the server: a late or
 * retried write can neither overwrite a newer version nor recreate a destroyed
 * session (checklist A18), and no interleaving splits a session from its
 * index entries.
 *
 * Layout, with `B` the hash-tagged base `{prefix}:` passed as ARGV[1]:
 * - `B s:<key>`  hash: p (payload), e (expiresAt, epoch ms), c (createdAt), v (version), u (userId, optional).
 *   Its native expiry is PEXPIREAT e, on the Redis server's clock.
 * - `B k`        sorted set, every member at score 0: all keys, in key order, for cursor paging.
 * - `B e`        sorted set scored by expiresAt: counts live sessions and finds index entries to prune.
 * - `B u:<sha1(userId)>` set of the user's keys; its expiry follows the user's latest session.
 *
 * Every key starts with the same `{prefix}` hash tag, so in Redis Cluster they
 * share one slot and a script may touch the user index of a session it only
 * learns about inside the script (derived keys are in the same slot as the
 * declared ones). SHA-1 only names the user set: a collision would merely share
 * a set, and every reader checks the record's own `u` field.
 */

const PRELUDE = `
local B = ARGV[1]
local K_INDEX = B .. 'k'
local E_INDEX = B .. 'e'

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function user_key(u)
  return B .. 'u:' .. redis.sha1hex(u)
end

-- A user set lives as long as the user's longest-lived session, never shorter.
local function extend(uk, e, now)
  local ttl = redis.call('PTTL', uk)
  if ttl < 0 or now + ttl < tonumber(e) then redis.call('PEXPIREAT', uk, e) end
end

-- Deletes the record under sk (member m) with its index entries. A foreign
-- value of another type under our key is deleted too, never read as a hash.
local function remove(sk, m)
  if redis.call('TYPE', sk).ok == 'hash' then
    local u = redis.call('HGET', sk, 'u')
    if u then redis.call('SREM', user_key(u), m) end
  end
  -- UNLINK frees a large payload off the main thread.
  redis.call('UNLINK', sk)
  redis.call('ZREM', K_INDEX, m)
  redis.call('ZREM', E_INDEX, m)
end

-- Writes a record the caller has just removed. An expiresAt not in the future
-- writes nothing (the contract's "deleted instead of written").
local function write(sk, m, p, e, c, v, u, now)
  if tonumber(e) <= now then return end
  if u == '' then
    redis.call('HSET', sk, 'p', p, 'e', e, 'c', c, 'v', v)
  else
    redis.call('HSET', sk, 'p', p, 'e', e, 'c', c, 'v', v, 'u', u)
  end
  redis.call('PEXPIREAT', sk, e)
  redis.call('ZADD', K_INDEX, 0, m)
  redis.call('ZADD', E_INDEX, e, m)
  if u ~= '' then
    local uk = user_key(u)
    redis.call('SADD', uk, m)
    extend(uk, e, now)
  end
end

-- Index entries of natively expired sessions are pruned a bounded batch at a
-- time on every write, so the indexes stay within a constant of the live set
-- without a timer. Scores and PEXPIREAT use the same server clock, so an entry
-- at or below now names a key Redis has already expired.
local function prune(now)
  local stale = redis.call('ZRANGEBYSCORE', E_INDEX, '-inf', now, 'LIMIT', 0, 32)
  if #stale > 0 then
    redis.call('ZREM', K_INDEX, unpack(stale))
    redis.call('ZREM', E_INDEX, unpack(stale))
  end
end
`;

/** KEYS: session key, k, e. ARGV: B, key, ifVersion, payload, expiresAt, createdAt, version, userId or ''. Returns 1 or 0. */
export const SET = `${PRELUDE}
local sk, m, if_version = KEYS[1], ARGV[2], ARGV[3]
if if_version == '0' then
  if redis.call('EXISTS', sk) == 1 then return 0 end
  local now = now_ms()
  write(sk, m, ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], now)
  -- Creates (as many as sessions expire, over time) prune the index entries of expired ones.
  prune(now)
  return 1
end
local f = redis.call('HMGET', sk, 'v', 'e', 'u')
if f[1] ~= if_version then return 0 end
local p, e, c, v, u = ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local now = now_ms()
local old_u = f[3] or ''
if tonumber(e) <= now or u ~= old_u then
  -- Rare: a deletion, or a change of owner that moves the session between user sets.
  remove(sk, m)
  write(sk, m, p, e, c, v, u, now)
  return 1
end
-- The common update: same key, same owner. The key index (k) already holds
-- it; only the record, its expiry, the expiry index and the owner's set
-- expiry (when the session now outlives it) change.
redis.call('HSET', sk, 'p', p, 'e', e, 'c', c, 'v', v)
redis.call('PEXPIREAT', sk, e)
redis.call('ZADD', E_INDEX, e, m)
if u ~= '' and tonumber(e) > (tonumber(f[2]) or 0) then extend(user_key(u), e, now) end
return 1
`;

/** KEYS: session key, k, e. ARGV: B, key. */
export const DESTROY = `${PRELUDE}
remove(KEYS[1], ARGV[2])
return 1
`;

/** KEYS: session key, k, e. ARGV: B, key, expiresAt, ifVersion or ''. Returns 1 or 0. */
export const TOUCH = `${PRELUDE}
local sk, m, e, if_version = KEYS[1], ARGV[2], ARGV[3], ARGV[4]
local f = redis.call('HMGET', sk, 'v', 'e', 'u')
if not f[1] or not f[2] then return 0 end
if if_version ~= '' and f[1] ~= if_version then return 0 end
-- Never shortens: expiry only moves forward (checklist A20).
if tonumber(e) > tonumber(f[2]) then
  local now = now_ms()
  redis.call('HSET', sk, 'e', e)
  redis.call('PEXPIREAT', sk, e)
  redis.call('ZADD', E_INDEX, e, m)
  if f[3] then extend(user_key(f[3]), e, now) end
end
return 1
`;

/**
 * KEYS: old session key, new session key, k, e.
 * ARGV: B, oldKey, newKey, ifVersion or '', payload, expiresAt, createdAt, version, userId or ''.
 * Returns 1 (moved), 0 (old missing or at another version), -1 (new key taken).
 */
export const RENAME = `${PRELUDE}
local old_sk, new_sk = KEYS[1], KEYS[2]
local v = redis.call('HGET', old_sk, 'v')
if not v then return 0 end
if ARGV[4] ~= '' and v ~= ARGV[4] then return 0 end
if redis.call('EXISTS', new_sk) == 1 then return -1 end
local now = now_ms()
remove(old_sk, ARGV[2])
write(new_sk, ARGV[3], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9], now)
prune(now)
return 1
`;

/**
 * KEYS: k, e (for routing). ARGV: B, userId.
 * Returns a flat list: key, payload, expiresAt, createdAt, version for each live session.
 * Members whose record is gone or now belongs to someone else are dropped from the set.
 */
export const LIST_BY_USER = `${PRELUDE}
local u = ARGV[2]
local uk = user_key(u)
local out = {}
for _, m in ipairs(redis.call('SMEMBERS', uk)) do
  local sk = B .. 's:' .. m
  local f = false
  if redis.call('TYPE', sk).ok == 'hash' then f = redis.call('HMGET', sk, 'p', 'e', 'c', 'v', 'u') end
  if f and f[5] == u and f[1] and f[2] and f[3] and f[4] then
    out[#out + 1] = m
    out[#out + 1] = f[1]
    out[#out + 1] = f[2]
    out[#out + 1] = f[3]
    out[#out + 1] = f[4]
  else
    redis.call('SREM', uk, m)
  end
end
return out
`;

/** KEYS: k, e (for routing). ARGV: B, userId, exceptKey or ''. Returns how many sessions were destroyed. */
export const DESTROY_BY_USER = `${PRELUDE}
local u, except = ARGV[2], ARGV[3]
local uk = user_key(u)
local destroyed = 0
for _, m in ipairs(redis.call('SMEMBERS', uk)) do
  local sk = B .. 's:' .. m
  local owner = false
  if redis.call('TYPE', sk).ok == 'hash' then owner = redis.call('HGET', sk, 'u') end
  if owner ~= u then
    redis.call('SREM', uk, m)
  elseif m ~= except then
    remove(sk, m)
    destroyed = destroyed + 1
  end
end
return destroyed
`;

/** KEYS: k, e. ARGV: B. Returns the number of live sessions. */
export const COUNT = `${PRELUDE}
return redis.call('ZCOUNT', E_INDEX, '(' .. now_ms(), '+inf')
`;

/**
 * KEYS: k, e. ARGV: B, cursor ('' for the start), limit.
 * Returns { next cursor or '', live keys }. The cursor is the last key looked
 * at: the k index is ordered by key, so a key live throughout the iteration is
 * returned exactly once whatever is written meanwhile.
 */
export const KEYS_PAGE = `${PRELUDE}
local limit = tonumber(ARGV[3])
local from = '-'
if ARGV[2] ~= '' then from = '(' .. ARGV[2] end
local page = redis.call('ZRANGEBYLEX', K_INDEX, from, '+', 'LIMIT', 0, limit)
local live, stale = {}, {}
for _, m in ipairs(page) do
  if redis.call('EXISTS', B .. 's:' .. m) == 1 then live[#live + 1] = m else stale[#stale + 1] = m end
end
if #stale > 0 then
  redis.call('ZREM', K_INDEX, unpack(stale))
  redis.call('ZREM', E_INDEX, unpack(stale))
end
local cursor = ''
if #page == limit then cursor = page[#page] end
return { cursor, live }
`;

/** KEYS: k, e. ARGV: B, batch size. Deletes up to a batch of sessions; returns how many keys it looked at. */
export const CLEAR_BATCH = `${PRELUDE}
local page = redis.call('ZRANGE', K_INDEX, 0, tonumber(ARGV[2]) - 1)
for _, m in ipairs(page) do remove(B .. 's:' .. m, m) end
return #page
`;
