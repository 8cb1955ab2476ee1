import assert from 'node:assert/strict';
import {
  DROP_REASON_COUNT,
  DROP_REASON_NAMES,
  DropReason,
  countDrop,
  createDropCounters,
  dropCountsByName,
} from '../../ts/wire/index.js';

describe('wire: drop reasons', () => {
  it('every reason has a unique snake_case name, and Ok is 0', () => {
    assert.equal(DropReason.Ok, 0);
    assert.equal(DROP_REASON_NAMES.length, DROP_REASON_COUNT);
    assert.equal(new Set(DROP_REASON_NAMES).size, DROP_REASON_COUNT);
    for (const name of DROP_REASON_NAMES) assert.match(name, /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/);
    assert.equal(DROP_REASON_NAMES[DropReason.Ipv4BadChecksum], 'ipv4_bad_checksum');
    assert.equal(DROP_REASON_NAMES[DropReason.Ipv6ExtChainTooLong], 'ipv6_ext_chain_too_long');
    assert.equal(DROP_REASON_NAMES[DropReason.Udp6ZeroChecksum], 'udp6_zero_checksum');
    // The last enum member bounds the counter array.
    const values = Object.values(DropReason).filter((v): v is number => typeof v === 'number');
    assert.equal(Math.max(...values) + 1, DROP_REASON_COUNT);
  });

  it('counts drops per reason, not Ok, and reports them by name', () => {
    const counters = createDropCounters();
    assert.equal(counters.length, DROP_REASON_COUNT);
    countDrop(counters, DropReason.Ok);
    countDrop(counters, DropReason.TcpBadChecksum);
    assert.equal(countDrop(counters, DropReason.TcpBadChecksum), DropReason.TcpBadChecksum);
    countDrop(counters, DropReason.EthTruncated);
    assert.equal(counters[DropReason.Ok], 0);
    assert.deepEqual(dropCountsByName(counters), { eth_truncated: 1, tcp_bad_checksum: 2 });
  });
});
