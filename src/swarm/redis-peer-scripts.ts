/**
 * The Lua scripts of the Redis peer store (see redis-peer-store.ts for the key layout, the peer
 * record and the protocol between the scripts and the client). Every script touches only the keys
 * it is given, and the client gives a script keys of one hash tag only (one swarm, or one global
 * bucket), except the announce script in standalone mode, which also gets the swarm's bucket keys
 * so that the global counters and the index change in the same step.
 *
 * Redis runs Lua 5.1 with the `struct` and `bit` libraries. Numbers are doubles: the cumulative
 * counters stay exact up to 2^53, and integer replies carry them without loss (a Lua number is
 * converted to a 64-bit integer reply; never `tostring`, which keeps 14 digits).
 */

/** Code shared by the swarm scripts: KEYS[1..6] are the swarm's m, p, s, l, t, u. */
const SWARM_PRELUDE = `
local m, p, s, l, t, u = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local dP, dS, dV = 0, 0, 0

-- Record: flags (1 seeder, 2 IPv6, 4 completed), last announce, uploaded, downloaded, then the
-- compact address (6 or 18 bytes).
local REC = '>BI4dd'
local REC_LEN = 21

local function counts()
  local c = redis.call('HMGET', m, 'S', 'L', 'D')
  return tonumber(c[1]) or 0, tonumber(c[2]) or 0, tonumber(c[3]) or 0
end

-- Removes a known peer whose record flags are f.
local function removePeer(k, f)
  redis.call('HDEL', p, k)
  redis.call('ZREM', t, k)
  if bit.band(f, 1) ~= 0 then
    redis.call('ZREM', s, k)
    redis.call('HINCRBY', m, 'S', -1)
    dS = dS - 1
  else
    redis.call('ZREM', l, k)
    redis.call('HINCRBY', m, 'L', -1)
  end
  if bit.band(f, 2) ~= 0 then
    redis.call('HINCRBY', m, 'V', -1)
    dV = dV - 1
  end
  dP = dP - 1
  local uid = struct.unpack('>I4', k)
  if uid ~= 0 then
    local us = string.format('%d', uid)
    if redis.call('HINCRBY', u, us, -1) <= 0 then redis.call('HDEL', u, us) end
  end
end

local function oldest()
  local r = redis.call('ZRANGE', t, 0, 0, 'WITHSCORES')
  return r[2] or ''
end
`;

/**
 * Applies deltas to a bucket's counters (hash ck: n peers, s seeders, v IPv6 peers, w swarms) and
 * an operation to its index (zset ik of info hashes): 1 set the score, 2 add if missing, 3 set -inf
 * if present, 4 remove, 5 set the score if present, 6 remove if the score is still `score`.
 */
const BUCKET_FN = `
local function bucket(ik, ck, hex, dP, dS, dV, dW, op, score)
  if dP ~= 0 then redis.call('HINCRBY', ck, 'n', dP) end
  if dS ~= 0 then redis.call('HINCRBY', ck, 's', dS) end
  if dV ~= 0 then redis.call('HINCRBY', ck, 'v', dV) end
  if dW ~= 0 then redis.call('HINCRBY', ck, 'w', dW) end
  if op == 1 then redis.call('ZADD', ik, score, hex)
  elseif op == 2 then redis.call('ZADD', ik, 'NX', score, hex)
  elseif op == 3 then redis.call('ZADD', ik, 'XX', '-inf', hex)
  elseif op == 4 then redis.call('ZREM', ik, hex)
  elseif op == 5 then redis.call('ZADD', ik, 'XX', score, hex)
  elseif op == 6 then
    if redis.call('ZSCORE', ik, hex) == score then redis.call('ZREM', ik, hex) end
  end
end
`;

/** Index operations (BUCKET_FN). */
export const IDX_NONE = 0;
export const IDX_SET = 1;
export const IDX_ADD_NX = 2;
export const IDX_EMPTIED = 3;
export const IDX_REMOVE = 4;
export const IDX_SET_XX = 5;
export const IDX_REMOVE_IF = 6;

/** KEYS: ik, ck. ARGV: hex, dP, dS, dV, dW, op, score. */
export const BUCKET_SCRIPT = `${BUCKET_FN}
bucket(KEYS[1], KEYS[2], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7])
return 1
`;

/**
 * The announce: insert, update or remove the peer, apply the per-user cap, count a completion once
 * per peer, select up to numwant peers round robin, and return everything the outcome needs.
 *
 * KEYS: m, p, s, l, t, u [, ik, ck: the swarm's bucket, standalone mode only].
 * ARGV: 1 peer key (4-byte user id + 20-byte peer id), 2 compact address (6 or 18 bytes),
 *       3 uploaded, 4 downloaded, 5 seeder (1/0), 6 event (0 other, 1 completed, 2 stopped),
 *       7 numwant, 8 want peer ids (1/0), 9 now, 10 max peers per user, 11 user id (decimal),
 *       12 index re-assertion period (seconds), 13 info hash (hex).
 * Reply: { refused (0/1), complete, incomplete, downloaded, isNew, prevUploaded, prevDownloaded,
 *          elapsed, wasSeeder, peers4, peers6, ids4, ids6, dPeers, dSeeders, dIpv6, dSwarms,
 *          index op, index score, applied (the bucket was updated here) }.
 */
export const ANNOUNCE_SCRIPT = `${SWARM_PRELUDE}${BUCKET_FN}
local key, addr = ARGV[1], ARGV[2]
local up, down = tonumber(ARGV[3]), tonumber(ARGV[4])
local seeder = ARGV[5] == '1'
local ev = ARGV[6]
local numwant = tonumber(ARGV[7])
local wantIds = ARGV[8] == '1'
local now = tonumber(ARGV[9])
local maxPer = tonumber(ARGV[10])
local user = ARGV[11]
local v6 = #addr == 18
local dW, idxOp, idxScore = 0, 0, ''

local function finish(refused, isNew, pu, pd, elapsed, wasSeeder, p4, p6, i4, i6)
  local S, L, D = counts()
  local applied = 0
  if KEYS[7] and (dP ~= 0 or dS ~= 0 or dV ~= 0 or dW ~= 0 or idxOp ~= 0) then
    bucket(KEYS[7], KEYS[8], ARGV[13], dP, dS, dV, dW, idxOp, idxScore)
    applied = 1
  end
  return { refused, S, L, D, isNew, pu, pd, elapsed, wasSeeder, p4, p6, i4, i6, dP, dS, dV, dW, idxOp, idxScore, applied }
end

-- Takes up to k members of zset z after the cursor (meta field cf), wrapping around once, never
-- the announcing peer; leaves the cursor on the last member looked at.
local function take(z, cf, k, out)
  if k <= 0 then return end
  local cur = redis.call('HGET', m, cf) or '0'
  local got, last = 0, nil
  local r = redis.call('ZRANGEBYSCORE', z, '(' .. cur, '+inf', 'WITHSCORES', 'LIMIT', 0, k + 1)
  for i = 1, #r, 2 do
    if got >= k then break end
    last = r[i + 1]
    if r[i] ~= key then
      out[#out + 1] = r[i]
      got = got + 1
    end
  end
  if got < k then
    r = redis.call('ZRANGEBYSCORE', z, '-inf', cur, 'WITHSCORES', 'LIMIT', 0, k - got + 1)
    for i = 1, #r, 2 do
      if got >= k then break end
      last = r[i + 1]
      if r[i] ~= key then
        out[#out + 1] = r[i]
        got = got + 1
      end
    end
  end
  if last then redis.call('HSET', m, cf, last) end
end

local rec = redis.call('HGET', p, key)
local isNew, pu, pd, elapsed, wasSeeder = 0, 0, 0, 0, 0
local flags

if not rec then
  isNew = 1
  if ev == '2' then return finish(0, 1, 0, 0, 0, 0, '', '', '', '') end
  local exists = redis.call('EXISTS', m) == 1
  if user ~= '0' then
    local have = 0
    if exists then have = tonumber(redis.call('HGET', u, user)) or 0 end
    if have >= maxPer then return finish(1, 1, 0, 0, 0, 0, '', '', '', '') end
  end
  if not exists then
    redis.call('HSET', m, 'S', 0, 'L', 0, 'D', 0, 'V', 0, 'q', 0, 'cs', 0, 'cl', 0, 'ix', now)
    dW = 1
    idxOp = 1
    idxScore = ARGV[9]
  end
  local seq = redis.call('HINCRBY', m, 'q', 1)
  if seeder then
    redis.call('ZADD', s, seq, key)
    redis.call('HINCRBY', m, 'S', 1)
    dS = 1
  else
    redis.call('ZADD', l, seq, key)
    redis.call('HINCRBY', m, 'L', 1)
  end
  if v6 then
    redis.call('HINCRBY', m, 'V', 1)
    dV = 1
  end
  if user ~= '0' then redis.call('HINCRBY', u, user, 1) end
  dP = 1
  flags = (seeder and 1 or 0) + (v6 and 2 or 0)
else
  local f, seen
  f, seen, pu, pd = struct.unpack(REC, rec)
  if now > seen then elapsed = now - seen end
  local ws = bit.band(f, 1) ~= 0
  if ws then wasSeeder = 1 end
  if ev == '2' then
    removePeer(key, f)
    local S, L = counts()
    if S + L == 0 then idxOp = 3 end
    return finish(0, 0, pu, pd, elapsed, wasSeeder, '', '', '', '')
  end
  if ws ~= seeder then
    local seq = redis.call('HINCRBY', m, 'q', 1)
    if ws then
      redis.call('ZREM', s, key)
      redis.call('ZADD', l, seq, key)
      redis.call('HINCRBY', m, 'S', -1)
      redis.call('HINCRBY', m, 'L', 1)
      dS = -1
    else
      redis.call('ZREM', l, key)
      redis.call('ZADD', s, seq, key)
      redis.call('HINCRBY', m, 'L', -1)
      redis.call('HINCRBY', m, 'S', 1)
      dS = 1
    end
  end
  local wv6 = bit.band(f, 2) ~= 0
  if wv6 ~= v6 then
    if v6 then dV = 1 else dV = -1 end
    redis.call('HINCRBY', m, 'V', dV)
  end
  flags = (seeder and 1 or 0) + (v6 and 2 or 0) + bit.band(f, 4)
  local ix = tonumber(redis.call('HGET', m, 'ix')) or 0
  if now - ix >= tonumber(ARGV[12]) then
    redis.call('HSET', m, 'ix', now)
    idxOp = 2
  end
end

if ev == '1' and bit.band(flags, 4) == 0 then
  flags = flags + 4
  redis.call('HINCRBY', m, 'D', 1)
end
redis.call('HSET', p, key, struct.pack(REC, flags, now, up, down) .. addr)
redis.call('ZADD', t, now, key)
if idxOp == 2 then idxScore = oldest() end

local sel = {}
if numwant > 0 then
  local S, L = counts()
  if seeder then
    take(l, 'cl', math.min(numwant, L), sel)
  else
    L = L - 1
    local ks, kl
    if S + L <= numwant then
      ks, kl = S, L
    else
      ks = math.min(S, math.ceil(numwant * S / (S + L)))
      kl = math.min(L, numwant - ks)
      ks = math.min(S, numwant - kl)
    end
    take(s, 'cs', ks, sel)
    take(l, 'cl', kl, sel)
  end
end

local p4, p6, i4, i6 = {}, {}, {}, {}
local i = 1
while i <= #sel do
  local j = math.min(#sel, i + 499)
  local recs = redis.call('HMGET', p, unpack(sel, i, j))
  for k = i, j do
    local r = recs[k - i + 1]
    if r then
      local a = string.sub(r, REC_LEN + 1)
      if #a == 6 then
        p4[#p4 + 1] = a
        if wantIds then i4[#i4 + 1] = string.sub(sel[k], 5) end
      else
        p6[#p6 + 1] = a
        if wantIds then i6[#i6 + 1] = string.sub(sel[k], 5) end
      end
    end
  end
  i = j + 1
end
return finish(0, isNew, pu, pd, elapsed, wasSeeder, table.concat(p4), table.concat(p6), table.concat(i4), table.concat(i6))
`;

/**
 * Expires up to ARGV[2] peers that last announced before ARGV[1].
 * Reply: { expired (-1: no such swarm), dPeers, dSeeders, dIpv6, more (1: call again),
 *          empty (1: no peer left), oldest remaining announce time ('' if none) }.
 */
export const SWEEP_SCRIPT = `${SWARM_PRELUDE}
if redis.call('EXISTS', m) == 0 then return { -1, 0, 0, 0, 0, 0, '' } end
local limit = tonumber(ARGV[2])
local old = redis.call('ZRANGEBYSCORE', t, '-inf', '(' .. ARGV[1], 'LIMIT', 0, limit)
for i = 1, #old do
  local rec = redis.call('HGET', p, old[i])
  if rec then
    removePeer(old[i], struct.unpack('>B', rec))
  else
    redis.call('ZREM', t, old[i])
  end
end
local S, L = counts()
local more = 0
if #old == limit then more = 1 end
local empty = 0
if S + L == 0 then empty = 1 end
return { #old, dP, dS, dV, more, empty, oldest() }
`;

/**
 * Deletes the swarm if it has no peer. Reply: { 1 deleted | 0 not empty | -1 no such swarm,
 * oldest announce time when not empty }.
 */
export const DROP_IF_EMPTY_SCRIPT = `${SWARM_PRELUDE}
if redis.call('EXISTS', m) == 0 then return { -1, '' } end
local S, L = counts()
if S + L > 0 then return { 0, oldest() } end
redis.call('DEL', m, p, s, l, t, u)
return { 1, '' }
`;

/** Deletes the swarm. Reply: { existed (1/0), seeders, leechers, IPv6 peers }. */
export const DROP_SCRIPT = `${SWARM_PRELUDE}
if redis.call('EXISTS', m) == 0 then return { 0, 0, 0, 0 } end
local c = redis.call('HMGET', m, 'S', 'L', 'V')
redis.call('DEL', m, p, s, l, t, u)
return { 1, tonumber(c[1]) or 0, tonumber(c[2]) or 0, tonumber(c[3]) or 0 }
`;
