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

/**
 * Code shared by the swarm scripts: KEYS[1..6] are the swarm's m, p, s, l, t, u. The meta hash is
 * read once (loadMeta) into locals and written back once (saveMeta) when something changed.
 */
const SWARM_PRELUDE = `
local m, p, s, l, t, u = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local dP, dS, dV = 0, 0, 0

-- Record: flags (1 seeder, 2 IPv6, 4 completed), last announce, uploaded, downloaded, then the
-- compact address (6 or 18 bytes).
local REC = '>BI4dd'
local REC_LEN = 21

-- The meta hash: seeders, leechers, completed, IPv6 peers, insertion sequence, index assertion
-- time, seeder and leecher cursors.
local exists, S, L, D, V, q, ix, cs, cl
local dirty = false
local function loadMeta()
  local r = redis.call('HMGET', m, 'S', 'L', 'D', 'V', 'q', 'ix', 'cs', 'cl')
  exists = r[1] ~= false
  S, L, D, V = tonumber(r[1]) or 0, tonumber(r[2]) or 0, tonumber(r[3]) or 0, tonumber(r[4]) or 0
  q, ix = tonumber(r[5]) or 0, tonumber(r[6]) or 0
  cs, cl = r[7] or '0', r[8] or '0'
end
local function saveMeta()
  if dirty then
    redis.call('HSET', m, 'S', S, 'L', L, 'D', D, 'V', V, 'q', q, 'ix', ix, 'cs', cs, 'cl', cl)
    dirty = false
  end
end

-- Removes a known peer (key k, record rec).
local function removePeer(k, rec)
  local f = struct.unpack('>B', rec)
  local member = k .. string.sub(rec, REC_LEN + 1)
  redis.call('HDEL', p, k)
  redis.call('ZREM', t, k)
  if bit.band(f, 1) ~= 0 then
    redis.call('ZREM', s, member)
    S = S - 1
    dS = dS - 1
  else
    redis.call('ZREM', l, member)
    L = L - 1
  end
  if bit.band(f, 2) ~= 0 then
    V = V - 1
    dV = dV - 1
  end
  dP = dP - 1
  dirty = true
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
 * Credit records (see redis-credit-drain.ts): a swarm's pending credit hash P{H}:cr maps
 * "<user id>:<torrent id>" to 11 big-endian doubles in the order of ENTRY_FIELDS
 * (src/shared/ledger-batch.ts): credited up, down, raw up, down, seed time, leech time, announces,
 * completions, first completion time (-1: none), first seen, last seen. addRecord merges one record
 * into a hash field as the ledger merges two entries (sums; earliest completion and first seen,
 * latest last seen). Returns 1 when the field was new.
 */
export const CREDIT_FN = `
local CR = '>ddddddddddd'
local function addRecord(h, field, cu, cd, ru, rd, st, lt, an, co, ca, fs, ls)
  local old = redis.call('HGET', h, field)
  local isnew = 1
  if old then
    isnew = 0
    local a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11 = struct.unpack(CR, old)
    cu, cd, ru, rd = cu + a1, cd + a2, ru + a3, rd + a4
    st, lt, an, co = st + a5, lt + a6, an + a7, co + a8
    if a9 ~= -1 and (ca == -1 or a9 < ca) then ca = a9 end
    if a10 < fs then fs = a10 end
    if a11 > ls then ls = a11 end
  end
  redis.call('HSET', h, field, struct.pack(CR, cu, cd, ru, rd, st, lt, an, co, ca, fs, ls))
  return isnew
end
`;

/**
 * The announce: insert, update or remove the peer, apply the per-user cap, count a completion once
 * per peer, select up to numwant peers round robin, and return everything the outcome needs.
 *
 * When ARGV[14] is 1 and the user is not 0, the announce is also credited into the swarm's credit
 * hash (KEYS[7]) exactly as TrackerService.account() credits its ledger (raw deltas from the
 * previous counters, or for a new peer from the restored baseline, zero on `started`, else its
 * own counters; a counter gone backwards credits 0; credited = round(raw * factor) rounded as
 * Math.round; seed or leech time capped at the peer timeout), stops and unknown stops included.
 *
 * KEYS: m, p, s, l, t, u, cr [, ik, ck, pending: the swarm's bucket, standalone mode only].
 * ARGV: 1 peer key (4-byte user id + 20-byte peer id), 2 compact address (6 or 18 bytes),
 *       3 uploaded, 4 downloaded, 5 seeder (1/0), 6 event (0 other, 1 completed, 2 stopped),
 *       7 numwant, 8 unused, 9 now, 10 max peers per user, 11 user id (decimal),
 *       12 index re-assertion period (seconds), 13 info hash (hex),
 *       14 credit (1/0), 15 credit field ("<user id>:<torrent id>"), 16 upload factor,
 *       17 download factor, 18 peer timeout, 19 base of a new peer ('r' restored: ARGV 20/21,
 *       's' started: zero, '' its own counters), 20 restored uploaded, 21 restored downloaded.
 * Reply: { refused (0/1), complete, incomplete, downloaded, isNew, prevUploaded, prevDownloaded,
 *          elapsed, wasSeeder, IPv4 members (30 bytes each: peer key + compact address), IPv6
 *          members (42 bytes each), '', '', dPeers, dSeeders, dIpv6, dSwarms, index op, index
 *          score, applied (the bucket was updated here), credited (0/1), credit hash created
 *          (0/1: the client adds the swarm to its bucket's pending set unless `applied` mode) }.
 */
export const ANNOUNCE_SCRIPT = `${SWARM_PRELUDE}${BUCKET_FN}${CREDIT_FN}
local key, addr = ARGV[1], ARGV[2]
local up, down = tonumber(ARGV[3]), tonumber(ARGV[4])
local seeder = ARGV[5] == '1'
local ev = ARGV[6]
local numwant = tonumber(ARGV[7])
local now = tonumber(ARGV[9])
local maxPer = tonumber(ARGV[10])
local user = ARGV[11]
local v6 = #addr == 18
local dW, idxOp, idxScore = 0, 0, ''

local credited, crNew = 0, 0

local function finish(refused, isNew, pu, pd, elapsed, wasSeeder, p4, p6, i4, i6)
  saveMeta()
  local applied = 0
  if KEYS[8] and (dP ~= 0 or dS ~= 0 or dV ~= 0 or dW ~= 0 or idxOp ~= 0) then
    bucket(KEYS[8], KEYS[9], ARGV[13], dP, dS, dV, dW, idxOp, idxScore)
    applied = 1
  end
  if KEYS[10] and crNew == 1 then redis.call('SADD', KEYS[10], ARGV[13]) end
  return { refused, S, L, D, isNew, pu, pd, elapsed, wasSeeder, p4, p6, i4, i6, dP, dS, dV, dW, idxOp, idxScore, applied, credited, crNew }
end

-- Math.round for a non-negative double (x - floor(x) is exact).
local function round(x)
  local f = math.floor(x)
  if x - f >= 0.5 then return f + 1 end
  return f
end

-- Credits this announce (see the comment above): isNew, the previous counters, seconds since the
-- previous announce and whether the peer was a seeder then, as the outcome reports them.
local function credit(isNew, pu, pd, elapsed, wasSeeder)
  if ARGV[14] ~= '1' or user == '0' then return end
  local bu, bd
  if isNew == 0 then
    bu, bd = pu, pd
  elseif ARGV[19] == 'r' then
    bu, bd = tonumber(ARGV[20]), tonumber(ARGV[21])
  elseif ARGV[19] == 's' then
    bu, bd = 0, 0
  else
    bu, bd = up, down
  end
  local ru, rd = 0, 0
  if up >= bu then ru = up - bu end
  if down >= bd then rd = down - bd end
  local tc = elapsed
  local pt = tonumber(ARGV[18])
  if tc > pt then tc = pt end
  local st, lt = 0, 0
  if wasSeeder == 1 then st = tc elseif isNew == 0 then lt = tc end
  local co, ca = 0, -1
  if ev == '1' then co, ca = 1, now end
  local cr = KEYS[7]
  local had = redis.call('EXISTS', cr)
  addRecord(cr, ARGV[15], round(ru * tonumber(ARGV[16])), round(rd * tonumber(ARGV[17])), ru, rd, st, lt, 1, co, ca, now, now)
  if had == 0 then crNew = 1 end
  credited = 1
end

-- Takes up to k members of zset z after the cursor cur, wrapping around once, never the
-- announcing peer (member self); returns the new cursor (the last member looked at).
local self = key .. addr
local function take(z, cur, k, out)
  if k <= 0 then return cur end
  local got, last = 0, nil
  local r = redis.call('ZRANGEBYSCORE', z, '(' .. cur, '+inf', 'LIMIT', 0, k + 1)
  for i = 1, #r do
    if got >= k then break end
    last = r[i]
    if last ~= self then
      out[#out + 1] = last
      got = got + 1
    end
  end
  if got < k then
    r = redis.call('ZRANGEBYSCORE', z, '-inf', cur, 'LIMIT', 0, k - got + 1)
    for i = 1, #r do
      if got >= k then break end
      last = r[i]
      if last ~= self then
        out[#out + 1] = last
        got = got + 1
      end
    end
  end
  if not last then return cur end
  dirty = true
  return redis.call('ZSCORE', z, last)
end

loadMeta()
local rec = false
if exists then rec = redis.call('HGET', p, key) end
local isNew, pu, pd, elapsed, wasSeeder = 0, 0, 0, 0, 0
local flags

if not rec then
  isNew = 1
  if ev == '2' then
    credit(1, 0, 0, 0, 0)
    return finish(0, 1, 0, 0, 0, 0, '', '', '', '')
  end
  if user ~= '0' then
    local have = 0
    if exists then have = tonumber(redis.call('HGET', u, user)) or 0 end
    if have >= maxPer then return finish(1, 1, 0, 0, 0, 0, '', '', '', '') end
  end
  if not exists then
    ix = now
    dW = 1
    idxOp = 1
    idxScore = ARGV[9]
  end
  q = q + 1
  if seeder then
    redis.call('ZADD', s, q, self)
    S = S + 1
    dS = 1
  else
    redis.call('ZADD', l, q, self)
    L = L + 1
  end
  if v6 then
    V = V + 1
    dV = 1
  end
  if user ~= '0' then redis.call('HINCRBY', u, user, 1) end
  dP = 1
  dirty = true
  flags = (seeder and 1 or 0) + (v6 and 2 or 0)
else
  local f, seen
  f, seen, pu, pd = struct.unpack(REC, rec)
  if now > seen then elapsed = now - seen end
  local ws = bit.band(f, 1) ~= 0
  if ws then wasSeeder = 1 end
  if ev == '2' then
    removePeer(key, rec)
    if S + L == 0 then idxOp = 3 end
    credit(0, pu, pd, elapsed, wasSeeder)
    return finish(0, 0, pu, pd, elapsed, wasSeeder, '', '', '', '')
  end
  local old = key .. string.sub(rec, REC_LEN + 1)
  if ws ~= seeder then
    q = q + 1
    if ws then
      redis.call('ZREM', s, old)
      redis.call('ZADD', l, q, self)
      S, L, dS = S - 1, L + 1, -1
    else
      redis.call('ZREM', l, old)
      redis.call('ZADD', s, q, self)
      S, L, dS = S + 1, L - 1, 1
    end
    dirty = true
  elseif old ~= self then
    -- The peer moved: same place in the round robin, new address.
    local z = l
    if ws then z = s end
    local sc = redis.call('ZSCORE', z, old)
    if not sc then
      q = q + 1
      sc = q
      dirty = true
    end
    redis.call('ZREM', z, old)
    redis.call('ZADD', z, sc, self)
  end
  local wv6 = bit.band(f, 2) ~= 0
  if wv6 ~= v6 then
    if v6 then dV = 1 else dV = -1 end
    V = V + dV
    dirty = true
  end
  flags = (seeder and 1 or 0) + (v6 and 2 or 0) + bit.band(f, 4)
  if now - ix >= tonumber(ARGV[12]) then
    ix = now
    dirty = true
    idxOp = 2
  end
end

if ev == '1' and bit.band(flags, 4) == 0 then
  flags = flags + 4
  D = D + 1
  dirty = true
end
redis.call('HSET', p, key, struct.pack(REC, flags, now, up, down) .. addr)
redis.call('ZADD', t, now, key)
if idxOp == 2 then idxScore = oldest() end

local sel = {}
if numwant > 0 then
  if seeder then
    cl = take(l, cl, math.min(numwant, L), sel)
  else
    local others = L - 1
    local ks, kl
    if S + others <= numwant then
      ks, kl = S, others
    else
      ks = math.min(S, math.ceil(numwant * S / (S + others)))
      kl = math.min(others, numwant - ks)
      ks = math.min(S, numwant - kl)
    end
    cs = take(s, cs, ks, sel)
    cl = take(l, cl, kl, sel)
  end
end

-- A class member is the peer key followed by the compact address: no record to read. The
-- members are returned as they are, IPv4 ones (30 bytes) and IPv6 ones (42 bytes) apart; the
-- client cuts them into addresses and peer ids (work taken off the Redis thread).
local m4, m6 = {}, {}
for k = 1, #sel do
  local mb = sel[k]
  if #mb == 30 then m4[#m4 + 1] = mb else m6[#m6 + 1] = mb end
end
credit(isNew, pu, pd, elapsed, wasSeeder)
return finish(0, isNew, pu, pd, elapsed, wasSeeder, table.concat(m4), table.concat(m6), '', '')
`;

/**
 * Expires up to ARGV[2] peers that last announced before ARGV[1].
 * Reply: { expired (-1: no such swarm), dPeers, dSeeders, dIpv6, more (1: call again),
 *          empty (1: no peer left), oldest remaining announce time ('' if none) }.
 */
export const SWEEP_SCRIPT = `${SWARM_PRELUDE}
loadMeta()
if not exists then return { -1, 0, 0, 0, 0, 0, '' } end
local limit = tonumber(ARGV[2])
local old = redis.call('ZRANGEBYSCORE', t, '-inf', '(' .. ARGV[1], 'LIMIT', 0, limit)
for i = 1, #old do
  local rec = redis.call('HGET', p, old[i])
  if rec then
    removePeer(old[i], rec)
  else
    redis.call('ZREM', t, old[i])
  end
end
saveMeta()
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
loadMeta()
if not exists then return { -1, '' } end
if S + L > 0 then return { 0, oldest() } end
redis.call('DEL', m, p, s, l, t, u)
return { 1, '' }
`;

/** Deletes the swarm. Reply: { existed (1/0), seeders, leechers, IPv6 peers }. */
export const DROP_SCRIPT = `${SWARM_PRELUDE}
loadMeta()
if not exists then return { 0, 0, 0, 0 } end
redis.call('DEL', m, p, s, l, t, u)
return { 1, S, L, V }
`;

/**
 * The drain's move (KEYS: cr, crx of one swarm; ARGV: batch id): when the swarm has an in-flight
 * hash already, nothing moves and its batch id is returned; else the pending hash, if any, becomes
 * the in-flight hash tagged with the batch id (field '#').
 * Reply: { 0 nothing pending | 1 moved | 2 in flight already, the in-flight batch id or '' }.
 */
export const CREDIT_MOVE_SCRIPT = `
local tag = redis.call('HGET', KEYS[2], '#')
if tag then return { 2, tag } end
if redis.call('EXISTS', KEYS[1]) == 0 then return { 0, '' } end
redis.call('RENAME', KEYS[1], KEYS[2])
redis.call('HSET', KEYS[2], '#', ARGV[1])
return { 1, ARGV[1] }
`;

/** Deletes the in-flight hash (KEYS[1]) if it is tagged with the batch id ARGV[1]. Reply: 1 deleted. */
export const CREDIT_DONE_SCRIPT = `
if redis.call('HGET', KEYS[1], '#') == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`;

/**
 * Gives an in-flight hash (KEYS[2]) tagged with ARGV[1] back to the pending hash (KEYS[1]), merging
 * its records, when its batch will never apply it. Reply: 1 merged back, 0 not tagged so.
 */
export const CREDIT_RETURN_SCRIPT = `${CREDIT_FN}
if redis.call('HGET', KEYS[2], '#') ~= ARGV[1] then return 0 end
local all = redis.call('HGETALL', KEYS[2])
for i = 1, #all, 2 do
  if all[i] ~= '#' then
    local a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11 = struct.unpack(CR, all[i + 1])
    addRecord(KEYS[1], all[i], a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11)
  end
end
redis.call('DEL', KEYS[2])
return 1
`;

/**
 * Seals a drain batch (KEYS[1]: its composition key): the first caller's composition (ARGV[1],
 * swarms as hex separated by ',') is recorded, every caller gets the recorded one.
 */
export const CREDIT_SEAL_SCRIPT = `
local v = redis.call('GET', KEYS[1])
if v then return v end
redis.call('SET', KEYS[1], ARGV[1])
return ARGV[1]
`;
