/**
 * The Lua scripts: each runs atomically inside Redis, in one round trip. Records are stored as
 * `version:json`; versions come from a per-namespace counter seeded from Redis's clock, so after
 * a restart that lost the data every new version is higher than any an instance still remembers.
 * Versions travel as strings: Lua numbers are doubles and would print them as `1.7e+15`.
 */
import { luaScript } from './link.js';

const SEED_VERSIONS = `
local function seed(seqKey)
  if redis.call('EXISTS', seqKey) == 0 then
    local t = redis.call('TIME')
    redis.call('SET', seqKey, t[1] .. string.format('%06d', tonumber(t[2])))
  end
end`;

/**
 * Compare-and-set of one record. KEYS: hash, version counter, this attempt's op key, then the op
 * keys of earlier attempts whose answer was lost. ARGV: field, expected version ('0' = absent),
 * mode (set | delete | check), json, channel, namespace, origin, op key ttl.
 * Answers {code, i, version, json}: code 1 committed (or checked), 0 conflict, 2 the i-th earlier
 * attempt had committed after all (so its updates are not applied twice); with 0 and 2, the
 * record as it is (an absent one: json '' and, as its version, the counter: no later change is
 * older than that).
 */
export const COMPARE_AND_SET = luaScript(`${SEED_VERSIONS}
local current = redis.call('HGET', KEYS[1], ARGV[1])
local version, data = '0', ''
if current then
  local colon = string.find(current, ':', 1, true)
  version, data = string.sub(current, 1, colon - 1), string.sub(current, colon + 1)
end
local function as_is(code, index)
  if current then return {code, index, version, data} end
  seed(KEYS[2])
  return {code, index, redis.call('GET', KEYS[2]), ''}
end
for i = 4, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then return as_is(2, i - 3) end
end
if version ~= ARGV[2] then return as_is(0, 0) end
if ARGV[3] == 'check' or (ARGV[3] == 'delete' and not current) then return {1, 0, version, ''} end
seed(KEYS[2])
redis.call('INCR', KEYS[2])
local next = redis.call('GET', KEYS[2])
if ARGV[3] == 'delete' then
  data = ''
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  data = ARGV[4]
  redis.call('HSET', KEYS[1], ARGV[1], next .. ':' .. data)
end
redis.call('SET', KEYS[3], '1', 'PX', ARGV[8])
redis.call('PUBLISH', ARGV[5], cjson.encode({ARGV[6], ARGV[1], next, data, ARGV[7]}))
return {1, 0, next, ''}`);

/** A namespace's snapshot: {version counter, flat field/value list}. KEYS: hash, version counter. */
export const LOAD_RECORDS = luaScript(`${SEED_VERSIONS}
seed(KEYS[2])
return {redis.call('GET', KEYS[2]), redis.call('HGETALL', KEYS[1])}`);

const TOKENS_OF = `local function tokensOf(member) return tonumber(string.match(member, ':(%d+)$')) end`;
/**
 * The window's clock: Redis's own (TIME), so instances whose clocks disagree share one window; a
 * caller may pass its own time instead (tests do).
 */
const NOW = `local function nowMs(given)
  local n = tonumber(given)
  if n then return n end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end`;

/**
 * One rate-limit decision. KEYS: requests zset, charges zset, token sum. ARGV: now ('' for Redis's), window,
 * requests limit (0 = none), tokens limit (0 = none), member for this request.
 * Answers {allowed, requests counted, requests reset ms, tokens used, tokens reset ms}.
 */
export const RATE_HIT = luaScript(`${TOKENS_OF}
${NOW}
local now, window = nowMs(ARGV[1]), tonumber(ARGV[2])
local rpm, tpm = tonumber(ARGV[3]), tonumber(ARGV[4])
local edge = now - window
local count, used = 0, 0
if rpm > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', edge)
  count = redis.call('ZCARD', KEYS[1])
end
if tpm > 0 then
  local gone = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', edge)
  if #gone > 0 then
    local sum = 0
    for i = 1, #gone do sum = sum + tokensOf(gone[i]) end
    redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', edge)
    if redis.call('ZCARD', KEYS[2]) == 0 then redis.call('DEL', KEYS[3]) else redis.call('DECRBY', KEYS[3], sum) end
  end
  used = tonumber(redis.call('GET', KEYS[3]) or '0')
end
local allowed = (rpm == 0 or count < rpm) and (tpm == 0 or used < tpm)
if allowed and rpm > 0 then
  redis.call('ZADD', KEYS[1], now, ARGV[5])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  count = count + 1
end
local requestsReset, tokensReset = 0, 0
if rpm > 0 then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  if oldest[2] then requestsReset = tonumber(oldest[2]) + window - now end
end
if tpm > 0 then
  local charges = redis.call('ZRANGE', KEYS[2], 0, used >= tpm and -1 or 0, 'WITHSCORES')
  local left = used
  for i = 1, #charges, 2 do
    tokensReset = tonumber(charges[i + 1]) + window - now
    left = left - tokensOf(charges[i])
    if left < tpm then break end
  end
end
return {allowed and 1 or 0, count, requestsReset, used, tokensReset}`);

/** Adds a charge. KEYS: charges zset, token sum. ARGV: now ('' for Redis's), window, tokens, unique member. */
export const RATE_CHARGE = luaScript(`${NOW}
redis.call('ZADD', KEYS[1], nowMs(ARGV[1]), ARGV[4] .. ':' .. ARGV[3])
redis.call('INCRBY', KEYS[2], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1`);

/** Deletes a lock only if this store holds it. KEYS: lock. ARGV: holder token. */
export const RELEASE_LOCK = luaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`);

/** A remembered provider and how long it has left. KEYS: affinity key. */
export const RECALL = luaScript(`return {redis.call('GET', KEYS[1]) or '', redis.call('PTTL', KEYS[1])}`);
