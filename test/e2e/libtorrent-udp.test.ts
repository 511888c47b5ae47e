/**
 * End to end with libtorrent-rasterbar 2.0 (Debian's python3-libtorrent, driven by
 * test/e2e/lt_client.py) over the UDP tracker, with NO proxy in between: libtorrent sends the
 * BEP 41 URL data itself (`/<passkey>/announce` from the torrent's
 * `udp://127.0.0.1:<port>/<passkey>/announce`), which is how Essaim's private mode finds the
 * member over UDP. (aria2 1.36 and Transmission 3.00 send none; private-transfer.test.ts has to
 * add it with a proxy.)
 *
 * Essaim runs in private mode (HTTP tracker on as well, unused); two members are created with the
 * CLI and a random payload is made into a private torrent with mktorrent and registered. Each
 * member gets their own .torrent (same `info` bytes, hence the same info hash, only `announce`
 * differs; its ONLY tracker is Essaim's UDP URL with that member's passkey). One libtorrent seeds,
 * another downloads (the file must arrive byte-identical) and stops once complete; then the seeder
 * stops. Both stops are graceful (the torrent is paused, libtorrent announces event=stopped with
 * its final counters, and the script waits for the answer). Essaim is stopped with SIGTERM (final
 * ledger flush) and `essaim user show --json` must show exactly what the clients announced:
 *
 *   - libtorrent 2.0 announces `uploaded` = torrent_status.total_payload_upload and `downloaded` =
 *     total_payload_download - total_failed_bytes - total_redundant_bytes, counted since the torrent
 *     was started (so the first announce, `started`, carries zeros). Verified once with a recording
 *     proxy while writing this test: the `stopped` announce carried exactly the counters that the
 *     script prints before pausing (`stopping`) and after the answer (`final`).
 *   - The test asserts `stopping` == `final` for the counters (nothing moved during the stop: the
 *     stopped announce, built in between, carries exactly them), that failed/redundant bytes are 0
 *     (so announced downloaded == payload downloaded), and that the database equals them exactly.
 *   - all_time_upload/all_time_download are NOT what libtorrent announces: it folds the session
 *     counters into them once a second (the torrent's second tick), so they lag; a leecher that
 *     stops right after completing typically still reports all_time_download = 0. Only the bound
 *     all_time <= session counter is asserted.
 *
 * Unknown passkey: a third libtorrent, whose torrent carries the passkey 000...0, announces through
 * a recording UDP proxy (only to see the bytes it gets back): Essaim answers the BEP 15 error
 * `Unknown passkey: ...` and libtorrent posts a tracker_error_alert with error "tracker sent a
 * failure message". libtorrent 2.0.8 loses the text itself (failure_reason() is empty: it builds
 * the message from the whole datagram, whose first byte, the high byte of action=3, is 0, and
 * takes it as a C string), so the text is checked on the wire, and once more with a scripted UDP
 * announce straight to Essaim.
 *
 * Skips when `/usr/bin/python3 -c "import libtorrent"` fails (apt-get install python3-libtorrent)
 * or mktorrent is missing. Takes about 10 s.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  libtorrentUnavailable,
  LtClient,
  makePayload,
  makeTorrent,
  requireBinaries,
  tempDir,
  type LtCounters,
  type LtFinal,
  type LtLine,
  type TorrentFile,
} from '../helpers/clients.js';
import { Essaim, essaimUnavailable, traffic } from '../helpers/essaim.js';
import { bdecodeDict, bencode, infoHashOf } from '../helpers/bencode.js';
import { formatRecords, UdpAnnounceProxy, UdpTrackerClient, type AnnounceRecord } from '../helpers/announce.js';

const PAYLOAD_BYTES = 4 * 1024 * 1024 + 54_321; // the last piece is short
const BAD_PASSKEY = '0'.repeat(32);

const sha1 = (b: Buffer) => createHash('sha1').update(b).digest('hex');
const tail = (s: string, n = 6000) => (s.length > n ? '...' + s.slice(-n) : s);

/** The same torrent with another `announce` (and no announce-list): same `info` bytes, same info hash. */
async function withAnnounce(src: TorrentFile, announce: string, out: string): Promise<TorrentFile> {
  const top = bdecodeDict(src.bytes);
  delete top['announce-list'];
  top.announce = Buffer.from(announce, 'latin1');
  const bytes = bencode(top);
  await writeFile(out, bytes);
  const infoHash = infoHashOf(bytes);
  assert.equal(infoHash, src.infoHash, `re-bencoding ${out} changed the info hash`);
  return { path: out, infoHash, name: src.name, bytes };
}

const COUNTER_KEYS = ['payload_up', 'payload_down', 'all_time_up', 'all_time_down', 'failed', 'redundant', 'announced_down'] as const;
const countersOf = (l: LtCounters) => Object.fromEntries(COUNTER_KEYS.map((k) => [k, l[k]]));

test('libtorrent seeds to libtorrent over UDP with BEP 41 passkeys (no proxy); credited exactly', { timeout: 120_000 }, async (t) => {
  if (!requireBinaries(t, 'mktorrent')) return;
  const noEssaim = essaimUnavailable();
  if (noEssaim) return t.skip(noEssaim);
  const noLt = await libtorrentUnavailable();
  if (noLt) return t.skip(noLt);

  const t0 = Date.now();
  const lap = (what: string) => t.diagnostic(`${((Date.now() - t0) / 1000).toFixed(1)} s: ${what}`);
  const root = await tempDir(t, 'essaim-e2e-lt-');

  // The tracker: private mode, members and torrent created before the start (loaded at start-up).
  const e = await Essaim.create(t, { mode: 'private', flushInterval: 1, interval: 60, minInterval: 1 });
  await e.migrate();
  const seederUser = await e.createUser('seeder');
  const leecherUser = await e.createUser('leecher');

  const seedDir = join(root, 'seed');
  const payload = await makePayload(seedDir, PAYLOAD_BYTES, 'lt-payload.bin');
  const seederTorrent = await makeTorrent(payload, e.udpAnnounceUrl(seederUser.passkey), join(root, 'seeder.torrent'));
  const leecherTorrent = await withAnnounce(seederTorrent, e.udpAnnounceUrl(leecherUser.passkey), join(root, 'leecher.torrent'));
  for (const tf of [seederTorrent, leecherTorrent]) {
    const d = bdecodeDict(tf.bytes);
    assert.equal(d['announce-list'], undefined, `${tf.path}: no announce-list (one tracker only)`);
  }
  const reg = await e.registerTorrent(seederTorrent.path, 'lt-udp');
  assert.ok(reg.infoHashes.includes(seederTorrent.infoHash), `torrent register: ${JSON.stringify(reg)}`);
  await e.start();
  lap(`Essaim up (UDP ${e.udpPort}, HTTP ${e.httpPort}), info hash ${seederTorrent.infoHash}`);

  // The wrong-passkey client talks to Essaim through a recording proxy (to see the error bytes).
  const badRecords: AnnounceRecord[] = [];
  const badProxy = await UdpAnnounceProxy.start('127.0.0.1', e.udpPort, { label: 'bad', records: badRecords });
  t.after(() => badProxy.close());
  const badTorrent = await withAnnounce(seederTorrent, badProxy.url(`/${BAD_PASSKEY}/announce`), join(root, 'bad.torrent'));

  const clients: LtClient[] = [];
  const diag = () =>
    [
      ...clients.map((c) => tail(c.describe())),
      `announces of the wrong-passkey client (through the proxy):\n${formatRecords(badRecords)}`,
      `Essaim output:\n${tail(e.output())}`,
    ].join('\n');
  const startClient = async (...a: Parameters<typeof LtClient.start>) => {
    const c = await LtClient.start(...a);
    clients.push(c);
    t.after(() => c.kill());
    return c;
  };
  /** The first tracker answer after the client's `started` announce; fails fast on an error. */
  const answered = (c: LtClient, timeoutMs: number) =>
    c.waitLine(
      'its `started` announce to be answered',
      (l) => {
        if (l.ev === 'tracker_error') throw new Error(`tracker error: ${JSON.stringify(l)}`);
        return l.ev === 'reply';
      },
      timeoutMs,
    );

  try {
    // 1. The seeder checks the payload, then announces `started` (left=0). The wrong-passkey
    //    client starts alongside.
    const [seeder, bad] = await Promise.all([
      startClient({ name: 'seeder', torrent: seederTorrent.path, save: seedDir, mode: 'seed', timeoutS: 80 }),
      startClient({ name: 'wrong-passkey', torrent: badTorrent.path, save: join(root, 'bad'), mode: 'leech', timeoutS: 80 }),
    ]);
    await seeder.waitLine('payload checked, seeding', (l) => l.ev === 'finished', 20_000);
    await answered(seeder, 15_000);
    lap('seeder announced');

    // 2. The wrong passkey: Essaim refuses with a BEP 15 error; libtorrent reports a tracker error.
    const badErr = await bad.waitLine('a tracker error', (l) => l.ev === 'tracker_error', 15_000);
    assert.equal(badErr.error, 'tracker sent a failure message', `libtorrent's error for a BEP 15 error answer: ${JSON.stringify(badErr)}`);
    // libtorrent 2.0.8 drops the text (see the header comment); accept it if a fixed version shows it.
    assert.ok(badErr.msg === '' || /^Unknown passkey/.test(String(badErr.msg)), `failure_reason: ${JSON.stringify(badErr.msg)}`);
    assert.ok(!bad.lines.some((l) => l.ev === 'reply'), 'no announce of the wrong-passkey client may succeed');
    const badAnn = badRecords.find((r) => r.ok !== null);
    assert.ok(badAnn, 'the proxy saw the wrong-passkey announce answered');
    assert.equal(badAnn.urlData, `/${BAD_PASSKEY}/announce`, 'libtorrent sent the URL path as BEP 41 URL data');
    assert.equal(badAnn.injectedUrlData, undefined);
    assert.equal(badAnn.event, 'started');
    assert.equal(badAnn.ok, false);
    assert.match(badAnn.failure ?? '', /^Unknown passkey/, 'the BEP 15 error text Essaim sent to libtorrent');
    // Stopping it sends nothing (libtorrent announces `stopped` only where `started` was accepted).
    const badExit = await bad.stop(10_000);
    assert.equal(badExit.code, 0, `wrong-passkey client exit\n${bad.describe()}`);
    assert.equal(bad.final()?.stopped_announced, false);
    // The same refusal for a scripted announce sent straight to Essaim.
    const udp = await UdpTrackerClient.open('127.0.0.1', e.udpPort);
    t.after(() => udp.close());
    const direct = await udp.announce({
      infoHash: Buffer.from(seederTorrent.infoHash, 'hex'),
      peerId: randomBytes(20),
      downloaded: 0,
      left: PAYLOAD_BYTES,
      uploaded: 0,
      event: 'started',
      port: 6881,
      urlData: `/${BAD_PASSKEY}/announce`,
    });
    assert.equal(direct.action, 'error', `direct announce with a wrong passkey: ${direct.action}`);
    if (direct.action === 'error') assert.match(direct.message, /^Unknown passkey/);
    lap('wrong passkey refused');

    // 3. The leecher: its `started` announce returns the seeder, which it dials; once complete it
    //    waits for the answer to `completed`, pauses (event=stopped), waits for that answer, exits.
    const leechDir = join(root, 'leech');
    const leecher = await startClient({ name: 'leecher', torrent: leecherTorrent.path, save: leechDir, mode: 'leech', timeoutS: 60, stopAfterComplete: true });
    await answered(leecher, 15_000);
    const lExit = await leecher.waitExit(60_000);
    assert.ok(lExit, 'the leecher exits on its own once complete');
    assert.equal(lExit.code, 0, 'leecher exit code (2: its --timeout expired)');
    lap('leecher complete and stopped');
    const got = await readFile(join(leechDir, seederTorrent.name));
    const want = await readFile(payload);
    assert.equal(got.length, want.length, 'downloaded file size');
    assert.equal(sha1(got), sha1(want), 'downloaded file must be byte-identical');

    // 4. The seeder stops gracefully (SIGTERM: pause, event=stopped, answer, exit 0).
    const sExit = await seeder.stop(15_000);
    assert.equal(sExit.code, 0, 'seeder exit code');
    lap('seeder stopped');

    // 5. What each client announced last.
    const announcesOf = (c: LtClient) => c.lines.filter((l) => l.ev === 'announce').map((l) => String(l.event));
    assert.deepEqual(announcesOf(leecher), ['started', 'completed', 'stopped'], 'leecher announces');
    assert.deepEqual(announcesOf(seeder), ['started', 'stopped'], 'seeder announces');
    for (const c of [seeder, leecher]) {
      assert.ok(!c.lines.some((l: LtLine) => l.ev === 'tracker_error'), `${c.opts.name}: no tracker error`);
    }
    const final = (c: LtClient): LtFinal => {
      const f = c.final();
      assert.ok(f, `${c.opts.name} printed its final counters`);
      assert.equal(f.stopped_announced, true, `${c.opts.name} announced stopped`);
      assert.equal(f.stopped_answered, true, `${c.opts.name}'s stopped announce was answered`);
      const s = c.stopping();
      assert.ok(s);
      assert.deepEqual(countersOf(f), countersOf(s), `${c.opts.name}: counters moved while stopping`);
      assert.equal(f.failed, 0, `${c.opts.name}: failed bytes`);
      assert.equal(f.redundant, 0, `${c.opts.name}: redundant bytes`);
      assert.equal(f.announced_down, f.payload_down);
      // all_time_* lag the session counters by up to a second (see the header comment).
      assert.ok(f.all_time_up <= f.payload_up && f.all_time_down <= f.payload_down, `${c.opts.name}: all_time counters ${JSON.stringify(countersOf(f))}`);
      return f;
    };
    const sFinal = final(seeder);
    const lFinal = final(leecher);
    t.diagnostic(`seeder final: ${JSON.stringify(countersOf(sFinal))}`);
    t.diagnostic(`leecher final: ${JSON.stringify(countersOf(lFinal))}`);
    assert.equal(lFinal.payload_down, PAYLOAD_BYTES, 'the leecher downloaded the payload exactly once');
    assert.equal(lFinal.payload_up, 0, 'the leecher uploaded nothing (the only other peer is a seed)');
    assert.equal(sFinal.payload_down, 0);
    assert.ok(sFinal.payload_up >= PAYLOAD_BYTES && sFinal.payload_up <= PAYLOAD_BYTES * 1.05, `seeder uploaded ${sFinal.payload_up}`);

    // 6. SIGTERM: the final flush writes what is still in the ledger; the totals must equal the
    //    final announces exactly (factors 1.0: credited == raw).
    const st = await e.stop('SIGTERM');
    assert.equal(st.code, 0, 'Essaim exit code after SIGTERM');
    lap('Essaim stopped');
    const expected = {
      seeder: { uploaded: sFinal.payload_up, downloaded: sFinal.announced_down, rawUploaded: sFinal.payload_up, rawDownloaded: sFinal.announced_down },
      leecher: { uploaded: lFinal.payload_up, downloaded: lFinal.announced_down, rawUploaded: lFinal.payload_up, rawDownloaded: lFinal.announced_down },
    };
    const seederShown = await e.showUser('seeder');
    const leecherShown = await e.showUser('leecher');
    assert.deepEqual({ seeder: traffic(seederShown), leecher: traffic(leecherShown) }, expected, 'credited totals after SIGTERM');
    lap('totals checked');
  } catch (err) {
    if (err instanceof Error) err.message += `\n${diag()}`;
    throw err;
  }
});
