// The CLI's parser in process: suggestions, strict flags, operands, value checks and groups.
import assert from 'node:assert/strict';
import {
  parseCommand,
  parseGroup,
  type Command,
  type Flags,
  type Group,
} from '../../ts/cli/args.js';
import { closest, editDistance } from '../../ts/cli/suggest.js';
import { usageOf } from '../../ts/cli/help.js';
import { addressList, integerIn, oneOf, positiveNumber } from '../../ts/cli/values.js';

const flags = {
  seconds: { value: 'S', help: 'duration', check: positiveNumber },
  size: { value: 'N', help: 'bytes', check: integerIn(1, 1472) },
  mode: { value: 'M', help: 'mode', check: oneOf('auto', 'native') },
  json: { short: 'j', help: 'JSON' },
} satisfies Flags;

const command: Command<typeof flags> = {
  name: 'try',
  summary: 'a command for the tests',
  operands: { usage: '<file>', min: 1, max: 1 },
  flags,
};

function usageFailure(message: RegExp, name = 'try') {
  return (err: unknown) => {
    const e = err as { code?: string; command?: string; message: string };
    assert.equal(e.code, 'ERR_USAGE');
    assert.equal(e.command, name);
    assert.match(e.message, message);
    return true;
  };
}

describe('cli: suggestions', function () {
  it('counts an adjacent transposition as one edit', function () {
    assert.equal(editDistance('secnds', 'seconds'), 1);
    assert.equal(editDistance('secodns', 'seconds'), 1);
    assert.equal(editDistance('', 'abc'), 3);
  });

  it('suggests the nearest name only when it is near, or the only one it starts', function () {
    const names = ['seconds', 'size', 'rate', 'iface', 'queue'];
    assert.equal(closest('secnds', names), 'seconds');
    assert.equal(closest('sec', names), 'seconds');
    assert.equal(closest('wire', names), undefined);
    assert.equal(closest('q', names), undefined);
  });
});

describe('cli: a flag whose value may be left out', function () {
  const poll = {
    'busy-poll': { value: 'USECS', implied: '20', help: 'busy', check: integerIn(1, 1000) },
    json: { help: 'JSON' },
  } satisfies Flags;
  const run: Command<typeof poll> = {
    name: 'run',
    summary: 'implied values',
    operands: { usage: '<app>', min: 1, max: 1 },
    flags: poll,
  };

  it('takes the implied value alone, a number after it, and keeps other words operands', function () {
    assert.equal(parseCommand(run, ['app.js', '--busy-poll']).values['busy-poll'], 20);
    const r = parseCommand(run, ['--busy-poll', 'app.js', '--json']);
    assert.deepEqual([r.operands, r.values['busy-poll'], r.values.json], [['app.js'], 20, true]);
    assert.equal(parseCommand(run, ['--busy-poll', '50', 'app.js']).values['busy-poll'], 50);
    assert.equal(parseCommand(run, ['app.js', '--busy-poll=7']).values['busy-poll'], 7);
    assert.equal(parseCommand(run, ['app.js']).values['busy-poll'], undefined);
    // After --, everything is an operand.
    assert.deepEqual(parseCommand(run, ['--', '--busy-poll']).operands, ['--busy-poll']);
  });

  it('still checks a value given, and its usage shows the value in brackets', function () {
    assert.throws(
      () => parseCommand(run, ['app.js', '--busy-poll', '0']),
      usageFailure(/--busy-poll needs a whole number from 1 to 1000, got '0'/, 'run'),
    );
    assert.match(usageOf(run), /^ {6}--busy-poll \[USECS\] +busy$/m);
  });
});

describe('cli: parseCommand', function () {
  it('converts values, takes operands and short flags', function () {
    const r = parseCommand(command, [
      'f.js',
      '--seconds',
      '1.5',
      '--size=64',
      '-j',
      '--mode',
      'auto',
    ]);
    assert.deepEqual(r, {
      help: false,
      operands: ['f.js'],
      values: { seconds: 1.5, size: 64, json: true, mode: 'auto' },
    });
  });

  it('reports --help before checking operands and values', function () {
    assert.equal(parseCommand(command, ['--seconds', 'x', '-h']).help, true);
  });

  it('refuses unknown flags, missing values and bad values with a usage error', function () {
    assert.throws(
      () => parseCommand(command, ['f', '--secnds', '1']),
      usageFailure(/unknown flag '--secnds'; did you mean --seconds\?/),
    );
    assert.throws(
      () => parseCommand(command, ['f', '--size']),
      usageFailure(/--size needs a value/),
    );
    assert.throws(
      () => parseCommand(command, ['f', '--size', '-j']),
      usageFailure(/--size needs a value, but the next argument is '-j'/),
    );
    assert.throws(
      () => parseCommand(command, ['f', '--size', '1473']),
      usageFailure(/--size needs a whole number from 1 to 1472, got '1473'/),
    );
    assert.throws(
      () => parseCommand(command, ['f', '--seconds', '']),
      usageFailure(/--seconds needs a number greater than 0, got ''/),
    );
    assert.throws(
      () => parseCommand(command, ['f', '--json=1']),
      usageFailure(/--json takes no value/),
    );
    assert.throws(() => parseCommand(command, []), usageFailure(/missing <file>/));
    assert.throws(() => parseCommand(command, ['a', 'b']), usageFailure(/unexpected argument 'b'/));
  });

  it('checks address lists', function () {
    const v4 = addressList(4);
    assert.deepEqual(v4('198.18.0.1/24,10.0.0.1', 'ip'), ['198.18.0.1/24', '10.0.0.1']);
    assert.throws(() => v4('2001:db8::1/64', 'ip'), /--ip needs IPv4 addresses/);
    assert.throws(() => v4('198.18.0.1/x', 'ip'), /--ip needs IPv4 addresses/);
    assert.deepEqual(addressList(6)('2001:db8::1/64', 'ip6'), ['2001:db8::1/64']);
  });
});

describe('cli: parseGroup', function () {
  const group: Group<typeof flags> = {
    name: 'grp',
    summary: 'a group for the tests',
    operand: '<sub>',
    noun: 'sub',
    flags,
    subcommands: {
      fast: { summary: 'takes --seconds', takes: ['seconds'] },
      slow: {
        summary: 'takes --size',
        takes: ['size'],
        operands: { usage: '[x]', min: 0, max: 1 },
      },
    },
  };

  it('finds the subcommand wherever it stands and holds it to its flags', function () {
    const r = parseGroup(group, ['--seconds', '2', 'fast']);
    assert.equal(r.subcommand, 'fast');
    assert.deepEqual(r.values, { seconds: 2 });
    assert.deepEqual(parseGroup(group, ['slow', 'x']).operands, ['x']);
    assert.throws(
      () => parseGroup(group, ['fast', '--size', '5']),
      usageFailure(/--size is not a flag of this command; it takes --seconds/, 'grp fast'),
    );
    assert.throws(
      () => parseGroup(group, ['fast', '--sze', '5']),
      usageFailure(/did you mean --size\?/, 'grp fast'),
    );
  });

  it('suggests a subcommand, and reads `help [sub]` as --help', function () {
    assert.throws(
      () => parseGroup(group, ['fats']),
      usageFailure(/unknown sub 'fats'; did you mean 'fast'\?/, 'grp'),
    );
    assert.throws(
      () => parseGroup(group, []),
      usageFailure(/missing sub: one of fast, slow/, 'grp'),
    );
    assert.deepEqual(parseGroup(group, ['help', 'slow']), {
      help: true,
      subcommand: 'slow',
      operands: [],
      values: {},
    });
    assert.equal(parseGroup(group, ['--help']).subcommand, undefined);
  });
});
