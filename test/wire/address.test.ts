import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  formatIpv4Address,
  formatIpv6Address,
  formatMac,
  isBroadcastMac,
  isIpv6LinkLocal,
  isIpv6SolicitedNodeMulticast,
  isMulticastMac,
  parseIpv4Address,
  parseIpv6Address,
  parseMac,
  writeIpv6MulticastMac,
  writeSolicitedNodeAddress,
} from '../../ts/wire/index.js';

/** Node's WHATWG URL serializer compresses IPv6 the RFC 5952 way (but never uses dotted IPv4). */
function urlForm(text: string): string {
  return new URL(`http://[${text}]/`).hostname.slice(1, -1);
}

function throwsEinval(f: () => unknown): void {
  assert.throws(f, (e: NodeJS.ErrnoException) => e.code === 'EINVAL' && /is not/.test(e.message));
}

describe('wire: address helpers', () => {
  it('IPv4 text <-> unsigned 32-bit', () => {
    assert.equal(parseIpv4Address('198.18.0.1'), 0xc6120001);
    assert.equal(parseIpv4Address('255.255.255.255'), 0xffffffff);
    assert.equal(formatIpv4Address(0xc6120001), '198.18.0.1');
    fc.assert(
      fc.property(fc.ipV4(), (text) =>
        assert.equal(formatIpv4Address(parseIpv4Address(text)), text),
      ),
    );
    for (const bad of [
      '',
      '1.2.3',
      '1.2.3.4.5',
      '256.0.0.1',
      '01.2.3.4',
      '1.2.3.-4',
      'a.b.c.d',
      '1..2.3',
    ]) {
      throwsEinval(() => parseIpv4Address(bad));
    }
  });

  it('IPv6 output follows the RFC 5952 examples', () => {
    const cases: [string, string][] = [
      ['2001:db8:0:0:0:0:2:1', '2001:db8::2:1'], // 4.2.1 shorten as much as possible
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // 4.2.2 not one lone zero group
      ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // 4.2.3 the longest run
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // 4.2.3 the first of equal runs
      ['2001:0DB8:0000::00AB', '2001:db8::ab'], // 4.1 no leading zeros; 4.3 lowercase
      ['::', '::'],
      ['::1', '::1'],
      ['1::', '1::'],
      ['fe80:0:0:0:1::', 'fe80::1:0:0:0'], // equal runs again: the first
      ['::ffff:198.18.0.1', '::ffff:198.18.0.1'], // 5: IPv4-mapped in dotted form
      ['::ffff:c612:1', '::ffff:198.18.0.1'],
      ['64:ff9b::198.18.0.1', '64:ff9b::c612:1'],
    ];
    for (const [input, canonical] of cases) {
      assert.equal(formatIpv6Address(parseIpv6Address(input)), canonical, input);
    }
  });

  it('IPv6 round trip for any address, agreeing with the URL serializer', () => {
    // Bias towards zero groups, where compression decisions happen.
    const word = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
    fc.assert(
      fc.property(fc.array(word, { minLength: 8, maxLength: 8 }), (words) => {
        const bytes = new Uint8Array(16);
        words.forEach((w, i) => {
          bytes[2 * i] = w >> 8;
          bytes[2 * i + 1] = w & 0xff;
        });
        const text = formatIpv6Address(bytes);
        assert.deepEqual(parseIpv6Address(text), bytes);
        const mapped = words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff;
        if (!mapped) assert.equal(text, urlForm(text));
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.ipV6(), (text) =>
        assert.equal(
          formatIpv6Address(parseIpv6Address(text)),
          formatIpv6Address(parseIpv6Address(urlForm(text))),
        ),
      ),
    );
  });

  it('rejects malformed IPv6 text', () => {
    for (const bad of [
      '',
      ':',
      ':::',
      '1::2::3',
      '1:2:3:4:5:6:7:8:9',
      '1:2:3:4:5:6:7',
      '12345::',
      'g::',
      '::1.2.3',
      '1.2.3.4::',
      ':1::',
      '1::2:',
      'fe80::1%eth0',
      '::ffff:1.2.3.4:5',
    ]) {
      throwsEinval(() => parseIpv6Address(bad));
    }
  });

  it('IPv6 predicates, solicited-node groups and their MACs', () => {
    const target = parseIpv6Address('2001:2::12:3456');
    const group = new Uint8Array(16);
    writeSolicitedNodeAddress(group, 0, target, 0);
    assert.equal(formatIpv6Address(group), 'ff02::1:ff12:3456');
    assert.ok(isIpv6SolicitedNodeMulticast(group, 0));
    assert.ok(!isIpv6SolicitedNodeMulticast(parseIpv6Address('ff02::1'), 0));
    const mac = new Uint8Array(6);
    writeIpv6MulticastMac(mac, 0, group, 0);
    assert.equal(formatMac(mac), '33:33:ff:12:34:56');
    assert.ok(isIpv6LinkLocal(parseIpv6Address('fe80::1'), 0));
    assert.ok(isIpv6LinkLocal(parseIpv6Address('febf::1'), 0));
    assert.ok(!isIpv6LinkLocal(parseIpv6Address('fec0::1'), 0));
  });

  it('MAC text <-> bytes', () => {
    assert.deepEqual(
      Array.from(parseMac('5A:da:df:33:cd:2e')),
      [0x5a, 0xda, 0xdf, 0x33, 0xcd, 0x2e],
    );
    assert.equal(formatMac(parseMac('02-00-00-00-00-0a')), '02:00:00:00:00:0a');
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 6, maxLength: 6 }), (m) =>
        assert.deepEqual(parseMac(formatMac(m)), m),
      ),
    );
    for (const bad of [
      '',
      '1:2:3:4:5:6',
      '00:11:22:33:44',
      '00:11:22:33:44:55:66',
      'zz:11:22:33:44:55',
    ]) {
      throwsEinval(() => parseMac(bad));
    }
    assert.ok(isBroadcastMac(parseMac('ff:ff:ff:ff:ff:ff'), 0));
    assert.ok(!isBroadcastMac(parseMac('ff:ff:ff:ff:ff:fe'), 0));
    assert.ok(isMulticastMac(parseMac('33:33:00:00:00:01'), 0));
    assert.ok(!isMulticastMac(parseMac('02:00:00:00:00:01'), 0));
  });
});
