import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIp, makeIpPolicy, parseIp, resolvePeerIp } from './peer-ip.js';

test('parseIp reads IPv4, IPv6 and IPv4-mapped addresses', () => {
  assert.deepEqual([...parseIp('127.0.0.1')!], [127, 0, 0, 1]);
  assert.deepEqual([...parseIp('::ffff:10.1.2.3')!], [10, 1, 2, 3]);
  assert.equal(parseIp('::1')!.length, 16);
  assert.equal(formatIp(parseIp('2001:db8::1')!), '2001:db8::1');
  assert.equal(formatIp(parseIp('::1')!), '::1');
  for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', 'abc', '1.2.3.4 ', 'fe80::1%eth0', ':::']) {
    assert.equal(parseIp(bad), null, bad);
  }
});

test('X-Forwarded-For is honoured only behind a trusted proxy, rightmost hop', () => {
  const none = makeIpPolicy([], false);
  const proxy = makeIpPolicy(['127.0.0.1'], false);
  assert.equal(formatIp(resolvePeerIp(none, '127.0.0.1', '9.9.9.9', null)!), '127.0.0.1');
  assert.equal(formatIp(resolvePeerIp(proxy, '::ffff:127.0.0.1', '6.6.6.6, 9.9.9.9', null)!), '9.9.9.9');
  assert.equal(formatIp(resolvePeerIp(proxy, '10.0.0.1', '9.9.9.9', null)!), '10.0.0.1');
  // garbage in the header: keep the socket address
  assert.equal(formatIp(resolvePeerIp(proxy, '127.0.0.1', 'nonsense', null)!), '127.0.0.1');
});

test('the ip parameter is ignored unless enabled', () => {
  assert.equal(formatIp(resolvePeerIp(makeIpPolicy([], false), '127.0.0.1', null, '5.5.5.5')!), '127.0.0.1');
  assert.equal(formatIp(resolvePeerIp(makeIpPolicy([], true), '127.0.0.1', null, '5.5.5.5')!), '5.5.5.5');
});

test('the native front gives the socket address as bytes: same rules, the bytes themselves when kept', () => {
  const proxy = makeIpPolicy(['127.0.0.1', '::1'], false);
  const v4 = Uint8Array.of(127, 0, 0, 1);
  const v6 = parseIp('::1')!;
  assert.equal(formatIp(resolvePeerIp(proxy, v4, '6.6.6.6, 9.9.9.9', null)!), '9.9.9.9', 'trusted proxy (IPv4 bytes)');
  assert.equal(formatIp(resolvePeerIp(proxy, v6, '2001:db8::7', null)!), '2001:db8::7', 'trusted proxy (IPv6 bytes)');
  const other = Uint8Array.of(10, 0, 0, 1);
  assert.equal(resolvePeerIp(proxy, other, '9.9.9.9', null), other, 'an untrusted peer keeps its own address');
  assert.equal(resolvePeerIp(makeIpPolicy([], false), v4, null, '5.5.5.5'), v4, 'the ip parameter stays ignored');
});
