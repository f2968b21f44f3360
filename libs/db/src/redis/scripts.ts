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
 * Apply one usage record once. KEYS: 1 applied marker, 2 log hash, 3 logs, 4 logs of user, 5 logs of key,
 * 6 auth key, 7-9 stats buckets (60 s, 30 min, 2 h), 10-12 the user's stats buckets.
 * ARGV: 1 request id, 2 at (ms), 3 marker ttl (s), 4 at (ISO), 5 auth key id, 6 is error (0/1), 7 prompt tokens,
 * 8 output tokens, 9-11 ttl (s) of the three bucket sizes, 12.. the log row's field/value pairs.
 * Returns 1 when applied, 0 when seen before.
 */
const APPLY_USAGE = `
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[3]) then return 0 end
local row = {}
for i = 12, #ARGV do row[#row + 1] = ARGV[i] end
redis.call('HSET', KEYS[2], unpack(row))
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[5], ARGV[2], ARGV[1])
if redis.call('EXISTS', KEYS[6]) == 1 then
  redis.call('HINCRBY', KEYS[6], 'callCount', 1)
  redis.call('HINCRBY', KEYS[6], 'promptTokens', ARGV[7])
  redis.call('HINCRBY', KEYS[6], 'outputTokens', ARGV[8])
  local last = redis.call('HGET', KEYS[6], 'lastUsedAt')
  if (not last) or last < ARGV[4] then redis.call('HSET', KEYS[6], 'lastUsedAt', ARGV[4]) end
end
for i = 7, 12 do
  redis.call('HINCRBY', KEYS[i], 'req', 1)
  redis.call('HINCRBY', KEYS[i], 'err', ARGV[6])
  redis.call('HINCRBY', KEYS[i], 'pt', ARGV[7])
  redis.call('HINCRBY', KEYS[i], 'ot', ARGV[8])
  redis.call('HINCRBY', KEYS[i], 'k:' .. ARGV[5], 1)
  redis.call('EXPIRE', KEYS[i], ARGV[9 + (i - 7) % 3])
end
return 1
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
  ggApplyUsage(...keysAndArgs: Arg[]): R;
  ggRotateKey(k1: string, k2: string, ...argv: Arg[]): R;
  ggDropIndex(k1: string, ...argv: Arg[]): R;
}

export type ScriptedRedis = Redis & ScriptCommands<Promise<unknown>>;
export type ScriptedPipeline = ChainableCommander & ScriptCommands<ScriptedPipeline>;

export function defineScripts(redis: Redis): ScriptedRedis {
  redis.defineCommand('ggSaveRow', { numberOfKeys: 3, lua: SAVE_ROW });
  redis.defineCommand('ggDeleteRow', { numberOfKeys: 3, lua: DELETE_ROW });
  redis.defineCommand('ggApplyUsage', { numberOfKeys: 12, lua: APPLY_USAGE });
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
