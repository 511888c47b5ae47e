import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { cidrContains, formatCidr, formatIp, parseCidr, parseIp } from './cidr.js';

const canon = (s: string) => {
  const c = parseCidr(s);
  return c ? formatCidr(c) : null;
};

describe('IP addresses and CIDR ranges', () => {
  it('parses and formats IPv4 and IPv6 canonically', () => {
    assert.equal(canon('203.0.113.7'), '203.0.113.7');
    assert.equal(canon('203.0.113.7/24'), '203.0.113.0/24', 'host bits cleared');
    assert.equal(canon('10.1.2.3/8'), '10.0.0.0/8');
    assert.equal(canon('0.0.0.0/0'), '0.0.0.0/0');
    assert.equal(canon('2001:DB8:0:0:0:0:0:1'), '2001:db8::1');
    assert.equal(canon('2001:db8::/32'), '2001:db8::/32');
    assert.equal(canon('2001:db8:1234:5678::9/48'), '2001:db8:1234::/48');
    assert.equal(canon('::1'), '::1');
    assert.equal(canon('::'), '::');
    assert.equal(canon('1:0:0:2:0:0:0:3'), '1:0:0:2::3', 'the longest zero run is compressed');
    assert.equal(canon('1:0:0:2:0:0:3:4'), '1::2:0:0:3:4', 'the first run on a tie');
    assert.equal(canon('1:2:3:4:5:6:0:8'), '1:2:3:4:5:6:0:8', 'a single zero word stays');
    assert.equal(canon('::ffff:198.51.100.4'), '198.51.100.4', 'IPv4-mapped reads as IPv4');
    assert.equal(canon('::ffff:198.51.100.0/120'), '198.51.100.0/24', 'mapped prefix converted');
    assert.equal(canon('64:ff9b::198.51.100.4'), '64:ff9b::c633:6404', 'embedded IPv4 tail');
    assert.equal(canon('[2001:db8::1]'), '2001:db8::1');
    assert.equal(canon('fe80::1%eth0'), 'fe80::1', 'zone dropped');
  });

  it('refuses malformed input', () => {
    for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.4/33', '1.2.3.4/', '1.2.3.4/-1', 'a.b.c.d', '2001:db8::1::2', '2001:db8:::1', '1:2:3:4:5:6:7:8:9', '12345::1', '::1/129', 'g::1', '::ffff:1.2.3.4/64', 'example.org', '1.2.3.4 /24']) {
      assert.equal(parseCidr(bad), null, `refused: ${JSON.stringify(bad)}`);
    }
  });

  it('tells whether a range holds an address', () => {
    const c = parseCidr('203.0.113.0/24')!;
    assert.ok(cidrContains(c, parseIp('203.0.113.255')!), 'last address inside');
    assert.ok(cidrContains(c, parseIp('::ffff:203.0.113.9')!), 'mapped form inside');
    assert.ok(!cidrContains(c, parseIp('203.0.114.0')!), 'next network outside');
    const odd = parseCidr('198.51.100.64/26')!;
    assert.ok(cidrContains(odd, parseIp('198.51.100.127')!), 'partial byte inside');
    assert.ok(!cidrContains(odd, parseIp('198.51.100.128')!), 'partial byte outside');
    const v6 = parseCidr('2001:db8::/32')!;
    assert.ok(cidrContains(v6, parseIp('2001:db8:ffff::1')!), 'v6 inside');
    assert.ok(!cidrContains(v6, parseIp('2001:db9::1')!), 'v6 outside');
    assert.ok(!cidrContains(v6, parseIp('32.1.13.184')!), 'families never mix');
    assert.ok(cidrContains(parseCidr('0.0.0.0/0')!, parseIp('8.8.8.8')!), '/0 holds everything of its family');
  });

  it('round-trips every address through its canonical form', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (s) => {
        const ip = parseIp(s);
        assert.ok(ip, `parsed ${s}`);
        const again = parseIp(formatIp(ip));
        assert.ok(again, `re-parsed ${formatIp(ip)}`);
        assert.deepEqual(again, ip);
      }),
    );
  });

  it('agrees with a bit-by-bit model of prefix membership', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 0, max: 128 }), (a, b, prefix) => {
        const hex = (x: Uint8Array) => Array.from({ length: 8 }, (_, i) => ((x[2 * i]! << 8) | x[2 * i + 1]!).toString(16)).join(':');
        // Avoid the IPv4-mapped block, which parses as IPv4.
        a[0] = 0x20;
        b[0] = 0x20;
        const c = parseCidr(`${hex(a)}/${prefix}`)!;
        let same = true;
        for (let i = 0; i < prefix; i++) if (((a[i >> 3]! >> (7 - (i & 7))) & 1) !== ((b[i >> 3]! >> (7 - (i & 7))) & 1)) same = false;
        assert.equal(cidrContains(c, parseIp(hex(b))!), same);
      }),
    );
  });
});
