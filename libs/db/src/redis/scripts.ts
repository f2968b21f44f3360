import type { ChainableCommander, Redis } from 'ioredis';

/**
 * Lua scripts, registered with defineCommand (ioredis sends EVALSHA and falls back to EVAL on NOSCRIPT, so
 * they survive a Redis restart).
 */

/**
 * Create or update a row hash kept unique on one field through an index hash (value -> id).
 * KEYS: row, unique index, membership set. ARGV: mode (create|update), unique field, id, n, n field/value
 * pairs, then fields to delete. Returns OK, EXISTS (create: id taken), MISSING (update: no row), CONFLICT.
 */
const SAVE_ROW = `
local exists = redis.call('EXISTS', KEYS[1]) == 1
if ARGV[1] == 'create' and exists then return 'EXISTS' end
if ARGV[1] == 'update' and not exists then return 'MISSING' end
local uf, id, n = ARGV[2], ARGV[3], tonumber(ARGV[4])
local fields = {}
local newValue = nil
for i = 5, 4 + 2 * n, 2 do
  fields[#fields + 1] = ARGV[i]
  fields[#fields + 1] = ARGV[i + 1]
  if ARGV[i] == uf then newValue = ARGV[i + 1] end
end
if newValue then
  local owner = redis.call('HGET', KEYS[2], newValue)
  if owner and owner ~= id then return 'CONFLICT' end
  local old = redis.call('HGET', KEYS[1], uf)
  if old and old ~= newValue and redis.call('HGET', KEYS[2], old) == id then redis.call('HDEL', KEYS[2], old) end
  redis.call('HSET', KEYS[2], newValue, id)
end
if #fields > 0 then redis.call("HSET", KEYS[1], unpack(fields)) end
for i = 5 + 2 * n, #ARGV do redis.call('HDEL', KEYS[1], ARGV[i]) end
redis.call('SADD', KEYS[3], id)
return 'OK'
`;

/** Delete a row, its unique index entry and its membership. KEYS: row, index, set. ARGV: unique field, id. */
const DELETE_ROW = `
local value = redis.call('HGET', KEYS[1], ARGV[1])
if value and redis.call('HGET', KEYS[2], value) == ARGV[2] then redis.call('HDEL', KEYS[2], value) end
redis.call('SREM', KEYS[3], ARGV[2])
return redis.call('DEL', KEYS[1])
`;

/**
 * Apply a batch of usage records, each once, in one atomic call: a record whose applied marker is new adds its log
 * row and index entries; the counters of the auth keys and of the stats buckets get one summed increment each per
 * batch (a Redis call per key, not per record: that is what bounds the batch's cost).
 * The records come as one JSON argument rather than a dozen keys and arguments each: sending ~45 arguments per
 * record cost the caller more CPU than the script cost Redis. The per-record keys are built here from the key
 * prefixes of keys.ts (passed in, so the layout stays defined there); like every multi-key script of this layout
 * it assumes one Redis, not a cluster.
 * ARGV: 1-6 key prefixes (applied marker, log hash, logs of user, logs of key, auth key; then the logs index itself),
 * 7 marker ttl (s), 8 the batch as JSON: { b: [[stats bucket key, ttl (s)], ...], r: [[request id, at (ms, as
 * text), at (ISO), user id, auth key id, is error (0/1), prompt tokens, output tokens, [six positions in b (the
 * three stats buckets, then the user's three), 0-based], [log row field/value pairs]], ...] }.
 * Returns one 1 (applied) or 0 (seen before, or twice in this batch) per record, in order.
 */
const APPLY_USAGE_BATCH = `
local markerP, logP, userLogsP, keyLogsP, authKeyP, logsKey = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local markerTtl = ARGV[7]
local batch = cjson.decode(ARGV[8])
local bucketDefs = batch.b
local results = {}
local zsets, zorder = {}, {}
local keys, korder = {}, {}
local buckets, border = {}, {}
local function zadd(key, score, member)
  local z = zsets[key]
  if not z then z = {}; zsets[key] = z; zorder[#zorder + 1] = key end
  z[#z + 1] = score
  z[#z + 1] = member
end
for r, rec in ipairs(batch.r) do
  local id, ms, iso, userId, keyId = rec[1], rec[2], rec[3], rec[4], rec[5]
  local isErr, pt, ot = rec[6], rec[7], rec[8]
  if redis.call('SET', markerP .. id, '1', 'NX', 'EX', markerTtl) then
    results[r] = 1
    redis.call('HSET', logP .. id, unpack(rec[10]))
    zadd(logsKey, ms, id)
    zadd(userLogsP .. userId, ms, id)
    zadd(keyLogsP .. keyId, ms, id)
    local akey = authKeyP .. keyId
    local k = keys[akey]
    if not k then k = { calls = 0, pt = 0, ot = 0, last = iso }; keys[akey] = k; korder[#korder + 1] = akey end
    k.calls = k.calls + 1
    k.pt = k.pt + pt
    k.ot = k.ot + ot
    if iso > k.last then k.last = iso end
    for _, bi in ipairs(rec[9]) do
      local b = buckets[bi]
      if not b then
        b = { req = 0, err = 0, pt = 0, ot = 0, byKey = {}, keyOrder = {} }
        buckets[bi] = b
        border[#border + 1] = bi
      end
      b.req = b.req + 1
      b.err = b.err + isErr
      b.pt = b.pt + pt
      b.ot = b.ot + ot
      if not b.byKey[keyId] then b.byKey[keyId] = 0; b.keyOrder[#b.keyOrder + 1] = keyId end
      b.byKey[keyId] = b.byKey[keyId] + 1
    end
  else
    results[r] = 0
  end
end
for _, key in ipairs(zorder) do redis.call('ZADD', key, unpack(zsets[key])) end
for _, akey in ipairs(korder) do
  if redis.call('EXISTS', akey) == 1 then
    local k = keys[akey]
    redis.call('HINCRBY', akey, 'callCount', k.calls)
    redis.call('HINCRBY', akey, 'promptTokens', k.pt)
    redis.call('HINCRBY', akey, 'outputTokens', k.ot)
    local last = redis.call('HGET', akey, 'lastUsedAt')
    if (not last) or last < k.last then redis.call('HSET', akey, 'lastUsedAt', k.last) end
  end
end
for _, bi in ipairs(border) do
  local b = buckets[bi]
  local def = bucketDefs[bi + 1]
  local bkey = def[1]
  redis.call('HINCRBY', bkey, 'req', b.req)
  redis.call('HINCRBY', bkey, 'err', b.err)
  redis.call('HINCRBY', bkey, 'pt', b.pt)
  redis.call('HINCRBY', bkey, 'ot', b.ot)
  for _, keyId in ipairs(b.keyOrder) do redis.call('HINCRBY', bkey, 'k:' .. keyId, b.byKey[keyId]) end
  redis.call('EXPIRE', bkey, def[2])
end
return results
`;

/**
 * Rotate an auth key's secret. KEYS: 1 row, 2 hash index. ARGV: 1 id, 2 new hash, 3 new prefix, 4 previous-until
 * (ISO) or '' for no grace. The current hash becomes previousHash (indexed) with grace, or leaves the index;
 * an older previous hash always leaves it. Returns MISSING, CONFLICT (new hash taken) or OK.
 */
const ROTATE_KEY = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 'MISSING' end
local id, newHash, prefix, untilIso = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local owner = redis.call('HGET', KEYS[2], newHash)
if owner and owner ~= id then return 'CONFLICT' end
local old = redis.call('HGET', KEYS[1], 'hash')
local older = redis.call('HGET', KEYS[1], 'previousHash')
if older and redis.call('HGET', KEYS[2], older) == id then redis.call('HDEL', KEYS[2], older) end
redis.call('HSET', KEYS[2], newHash, id)
redis.call('HSET', KEYS[1], 'hash', newHash, 'prefix', prefix)
if untilIso ~= '' and old then
  redis.call('HSET', KEYS[1], 'previousHash', old, 'previousHashExpiresAt', untilIso)
else
  if old and redis.call('HGET', KEYS[2], old) == id then redis.call('HDEL', KEYS[2], old) end
  redis.call('HDEL', KEYS[1], 'previousHash', 'previousHashExpiresAt')
end
return 'OK'
`;

/** Drop one index entry if it still points at the id. KEYS: index. ARGV: value, id. */
const DROP_INDEX = `
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end
return 0
`;

type Arg = string | number;
export type SaveRowResult = 'OK' | 'EXISTS' | 'MISSING' | 'CONFLICT';

interface ScriptCommands<R> {
  ggSaveRow(k1: string, k2: string, k3: string, ...argv: Arg[]): R;
  ggDeleteRow(k1: string, k2: string, k3: string, ...argv: Arg[]): R;
  ggApplyUsageBatch(...argv: Arg[]): R;
  ggRotateKey(k1: string, k2: string, ...argv: Arg[]): R;
  ggDropIndex(k1: string, ...argv: Arg[]): R;
}

export type ScriptedRedis = Redis & ScriptCommands<Promise<unknown>>;
export type ScriptedPipeline = ChainableCommander & ScriptCommands<ScriptedPipeline>;

export function defineScripts(redis: Redis): ScriptedRedis {
  redis.defineCommand('ggSaveRow', { numberOfKeys: 3, lua: SAVE_ROW });
  redis.defineCommand('ggDeleteRow', { numberOfKeys: 3, lua: DELETE_ROW });
  redis.defineCommand('ggApplyUsageBatch', { numberOfKeys: 0, lua: APPLY_USAGE_BATCH });
  redis.defineCommand('ggRotateKey', { numberOfKeys: 2, lua: ROTATE_KEY });
  redis.defineCommand('ggDropIndex', { numberOfKeys: 1, lua: DROP_INDEX });
  return redis as ScriptedRedis;
}

export function scriptedPipeline(redis: ScriptedRedis, transaction = false): ScriptedPipeline {
  return (transaction ? redis.multi() : redis.pipeline()) as ScriptedPipeline;
}

/** Answers of a pipeline; the first error is thrown. */
export async function execAll(p: ChainableCommander): Promise<unknown[]> {
  const res = (await p.exec()) ?? [];
  return res.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}
