import { createHash } from "node:crypto";

/**
 * The Lua scripts of the Redis store (key layout in `layout.ts`). Each script
 * touches the keys of one hash slot only, so it runs atomically on the server
 * in Cluster too: a bucket script updates a session and its bucket indexes in
 * one step, so a late or retried write can neither overwrite a newer version
 * nor recreate a destroyed session.
 *
 * Bucket scripts take `B`, the bucket's base name `<prefix>:{<tag>}:`, as
 * ARGV[1] and the application's clock (epoch ms) as ARGV[2]. A session hash
 * holds p (payload), e (expiresAt), c (createdAt), v (version), and for an
 * owned session u (userId) and i (the score its entry in the user index is
 * known to have, see below). Time is the application's clock only: every
 * expiry is set relative (`PX expiresAt - now`), so a Redis clock that differs
 * from the application's neither shortens nor lengthens a session, and a
 * record whose expiresAt has passed on the application's clock counts as gone
 * and is deleted when met.
 *
 * The user index is a sorted set in its own slot; a session's entry is written
 * before the session (never after), with a score that is an upper bound of the
 * session's expiresAt. Entries are only removed once their score has passed,
 * so no interleaving of writes can leave a live session out of its owner's
 * index; entries of destroyed or re-assigned sessions linger until then and
 * every reader checks the session's own `u`.
 */

// Every call of a script runs its prelude again, each `local function` a
// closure made anew: the prelude holds only what most bucket scripts use, and
// the SET script (the one every changed request runs) writes out the rest in
// place. Measured with INFO commandstats on Redis 7.0, an update alone: 6.66 ->
// 6.15 µs per call, once the write and prune helpers left the prelude.
const BUCKET_PRELUDE = `
local B = ARGV[1]
local NOW = tonumber(ARGV[2])
local K_INDEX = B .. 'k'
local E_INDEX = B .. 'e'

local function int(s)
  return s and #s <= 16 and string.match(s, '^%-?%d+$') and tonumber(s) or nil
end

-- Deletes whatever is under sk (a record, or a value of another type) and its index entries.
local function remove(sk, m)
  -- UNLINK frees a large payload off the main thread.
  redis.call('UNLINK', sk)
  redis.call('ZREM', K_INDEX, m)
  redis.call('ZREM', E_INDEX, m)
end
`;

/**
 * KEYS: session key, k, e. ARGV: B, now, key.
 * Returns {0} (no session), {1, p, e, c, v, u or ''} or {-1} (a malformed record
 * or a value of another type, now deleted). A record expired on the app clock is deleted.
 */
export const GET = `${BUCKET_PRELUDE}
local sk, m = KEYS[1], ARGV[3]
local t = redis.call('TYPE', sk).ok
if t == 'none' then return {0} end
if t ~= 'hash' then remove(sk, m) return {-1} end
local f = redis.call('HMGET', sk, 'p', 'e', 'c', 'v', 'u')
if not (f[1] and int(f[2]) and int(f[3]) and int(f[4]) and int(f[4]) >= 1) then
  remove(sk, m)
  return {-1}
end
if int(f[2]) <= NOW then remove(sk, m) return {0} end
return {1, f[1], f[2], f[3], f[4], f[5] or ''}
`;

/**
 * KEYS: session key, k, e.
 * ARGV: B, now, key, ifVersion, payload, expiresAt, createdAt, version, userId or '',
 * user index score the caller has just written for this key and userId, or ''.
 * Returns 1 (written, or deleted when expiresAt <= now), 0 (condition failed,
 * nothing written) or 2 (condition held but the user index entry must be
 * written first; nothing written).
 */
export const SET = `${BUCKET_PRELUDE}
local sk, m, if_version = KEYS[1], ARGV[3], ARGV[4]
local p, e, c, v, u, indexed = ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10]
local t = 'hash'
-- The stored owner (false for none) and its index score (read only for an owner);
-- the stored expiry of an update.
local old_u, old_i, old_e = false, nil, nil
if if_version == '0' then
  t = redis.call('TYPE', sk).ok
  if t == 'hash' then
    local old_e = int(redis.call('HGET', sk, 'e'))
    if not old_e or old_e > NOW then return 0 end
    -- Expired on the app clock, though Redis has not expired it yet: absent.
    remove(sk, m)
    t = 'none'
  elseif t ~= 'none' then
    -- A value of another type counts as taken: get() reports and deletes it.
    return 0
  end
else
  -- No TYPE first: HMGET on a value of another type fails with WRONGTYPE, which
  -- counts as a failed condition (get() reports and deletes that value).
  local f = redis.pcall('HMGET', sk, 'v', 'e', 'u', 'i')
  if f.err or f[1] ~= if_version then return 0 end
  old_e = int(f[2])
  if not old_e or old_e <= NOW then
    remove(sk, m)
    return 0
  end
  old_u = f[3]
  if old_u then old_i = int(f[4]) end
end
local ne = tonumber(e)
if ne <= NOW then
  -- The contract's "deleted instead of written": true, as the condition held.
  if t ~= 'none' then remove(sk, m) end
  return 1
end
local i = nil
if u ~= '' then
  i = 0
  if indexed ~= '' then i = tonumber(indexed) end
  if old_u == u and old_i and old_i > i then i = old_i end
  -- The owner's index must already cover this expiry: entries are written first.
  if i < ne then return 2 end
end
-- The record is written whole. An update whose owner comes or goes deletes the
-- old hash first, so no owner field of the old record is left behind;
-- otherwise HSET overwrites every field in place.
-- An update that keeps the hash and its expiry (core keeps the expiry until
-- moving it is due) leaves the TTL and the expiry index entry as they are:
-- HSET keeps a key's TTL, and the entry's score is the stored expiry.
local kept = old_e == ne
if t == 'hash' and (not old_u) ~= (u == '') then
  redis.call('UNLINK', sk)
  kept = false
end
if u == '' then
  redis.call('HSET', sk, 'p', p, 'e', e, 'c', c, 'v', v)
else
  redis.call('HSET', sk, 'p', p, 'e', e, 'c', c, 'v', v, 'u', u, 'i', string.format('%d', i))
end
if not kept then
  redis.call('PEXPIRE', sk, string.format('%d', ne - NOW))
  redis.call('ZADD', E_INDEX, e, m)
end
if if_version == '0' then
  -- A create: the key enters the key index (an update's entry is there since
  -- its create), and the index entries (and leftovers) of expired sessions are
  -- removed a bounded batch at a time, so the indexes stay within a constant
  -- of the live set.
  redis.call('ZADD', K_INDEX, 0, m)
  local stale = redis.call('ZRANGEBYSCORE', E_INDEX, '-inf', NOW, 'LIMIT', 0, 32)
  for _, s in ipairs(stale) do remove(B .. 's:' .. s, s) end
end
return 1
`;

/** KEYS: session key, k, e. ARGV: B, now, key. Deletes whatever is under the key. */
export const DESTROY = `${BUCKET_PRELUDE}
remove(KEYS[1], ARGV[3])
return 1
`;

/**
 * KEYS: session key, k, e. ARGV: B, now, key, expiresAt, ifVersion or '',
 * user index score just written or '', the owner it was written for or ''.
 * Returns {1} (extended, or already later), {0} (missing, expired or another
 * version) or {2, owner} (the owner's index entry must be raised first; nothing changed).
 */
export const TOUCH = `${BUCKET_PRELUDE}
local sk, m, e, if_version = KEYS[1], ARGV[3], ARGV[4], ARGV[5]
-- A value of another type (WRONGTYPE) or none: nothing to touch.
local f = redis.pcall('HMGET', sk, 'v', 'e', 'u', 'i')
if f.err then return {0} end
local old_e = int(f[2])
if not f[1] or not old_e then return {0} end
if old_e <= NOW then
  remove(sk, m)
  return {0}
end
if if_version ~= '' and f[1] ~= if_version then return {0} end
local ne = tonumber(e)
-- Never shortens: expiry only moves forward.
if ne <= old_e then return {1} end
if f[3] then
  local i = int(f[4]) or 0
  if ARGV[6] ~= '' and ARGV[7] == f[3] and tonumber(ARGV[6]) > i then i = tonumber(ARGV[6]) end
  if i < ne then return {2, f[3]} end
  redis.call('HSET', sk, 'e', e, 'i', string.format('%d', i))
else
  redis.call('HSET', sk, 'e', e)
end
redis.call('PEXPIRE', sk, string.format('%d', ne - NOW))
redis.call('ZADD', E_INDEX, e, m)
return {1}
`;

/**
 * First step of a rename: deletes the old record if it is live (and at
 * ifVersion, when given), so no write to the old key can succeed afterwards.
 * KEYS: old session key, k, e. ARGV: B, now, oldKey, ifVersion or ''. Returns 1 or 0.
 */
export const RETIRE = `${BUCKET_PRELUDE}
local sk, m = KEYS[1], ARGV[3]
if redis.call('TYPE', sk).ok ~= 'hash' then return 0 end
local f = redis.call('HMGET', sk, 'v', 'e')
local old_e = int(f[2])
if not f[1] or not old_e or old_e <= NOW then return 0 end
if ARGV[4] ~= '' and f[1] ~= ARGV[4] then return 0 end
remove(sk, m)
return 1
`;

/**
 * KEYS: session key, k, e. ARGV: B, now, key, userId.
 * Deletes the record if it belongs to userId. Returns 1 if it was live, else 0.
 */
export const DESTROY_IF_OWNER = `${BUCKET_PRELUDE}
local sk, m = KEYS[1], ARGV[3]
if redis.call('TYPE', sk).ok ~= 'hash' then return 0 end
local f = redis.call('HMGET', sk, 'u', 'e')
if f[1] ~= ARGV[4] then return 0 end
remove(sk, m)
local e = int(f[2])
if e and e > NOW then return 1 end
return 0
`;

/** KEYS: k, e. ARGV: B, now. Returns the number of the bucket's live sessions. */
export const COUNT = `${BUCKET_PRELUDE}
return redis.call('ZCOUNT', E_INDEX, '(' .. ARGV[2], '+inf')
`;

/**
 * KEYS: k, e. ARGV: B, now, cursor ('' for the bucket's start), limit.
 * Returns { the last key looked at if the page was full (the bucket may hold
 * more) else '', live keys }.
 * The k index is ordered by key, so a key live throughout an iteration is
 * returned exactly once whatever is written meanwhile.
 */
export const KEYS_PAGE = `${BUCKET_PRELUDE}
local limit = tonumber(ARGV[4])
local from = '-'
if ARGV[3] ~= '' then from = '(' .. ARGV[3] end
local page = redis.call('ZRANGEBYLEX', K_INDEX, from, '+', 'LIMIT', 0, limit)
local live = {}
for _, m in ipairs(page) do
  local e = tonumber(redis.call('ZSCORE', E_INDEX, m))
  if e and e > NOW and redis.call('EXISTS', B .. 's:' .. m) == 1 then
    live[#live + 1] = m
  else
    remove(B .. 's:' .. m, m)
  end
end
-- A full page may have more after it: the caller resumes after its last key.
local last = ''
if #page == limit then last = page[#page] end
return { last, live }
`;

/** KEYS: k, e. ARGV: B, now, batch size. Deletes up to a batch of sessions; returns how many it looked at. */
export const CLEAR_BATCH = `${BUCKET_PRELUDE}
local page = redis.call('ZRANGE', K_INDEX, 0, tonumber(ARGV[3]) - 1)
for _, m in ipairs(page) do remove(B .. 's:' .. m, m) end
return #page
`;

/**
 * The user index. KEYS: user index key. ARGV: now, key, score.
 * Adds (or raises) the key's entry, drops entries whose score has passed, and
 * keeps the index alive as long as its highest score.
 */
export const INDEX_ADD = `
local uk, now, m, score = KEYS[1], tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', uk, '-inf', '(' .. ARGV[1])
redis.call('ZADD', uk, 'GT', ARGV[3], m)
local ttl = redis.call('PTTL', uk)
if ttl < 0 or ttl < score - now then
  redis.call('PEXPIRE', uk, string.format('%d', score - now))
end
return 1
`;

/** KEYS: user index key. ARGV: now. Drops entries whose score has passed; returns the other keys. */
export const INDEX_LIST = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1])
return redis.call('ZRANGE', KEYS[1], 0, -1)
`;

/** A script and its SHA-1, for `EVALSHA`. */
export interface Script {
  readonly source: string;
  readonly sha: string;
}

const script = (source: string): Script => ({
  source,
  sha: createHash("sha1").update(source).digest("hex"),
});

/** Every script of the store, with its SHA-1. */
export const SCRIPTS = {
  get: script(GET),
  set: script(SET),
  destroy: script(DESTROY),
  touch: script(TOUCH),
  retire: script(RETIRE),
  destroyIfOwner: script(DESTROY_IF_OWNER),
  count: script(COUNT),
  keys: script(KEYS_PAGE),
  clear: script(CLEAR_BATCH),
  indexAdd: script(INDEX_ADD),
  indexList: script(INDEX_LIST),
} as const;
