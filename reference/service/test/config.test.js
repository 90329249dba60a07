'use strict';
// A configuration the service refuses is one line on standard error and a
// non-zero exit, before it serves: no backend is needed for these.

const { test } = require('node:test');
const assert = require('node:assert/strict');

const { runService } = require('./helpers');

/** Runs the service with `args`; asserts exit `code` and one stderr line matching `pattern`. */
async function refused(args, code, pattern) {
  const r = await runService(args);
  assert.equal(r.code, code, `exit code of ${args.join(' ')}: ${r.stderr}`);
  assert.equal(r.stdout, '', 'nothing on standard output');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line: ${r.stderr}`);
  assert.match(lines[0], /^heaplab-node-service: /);
  assert.match(lines[0], pattern);
}

test('--listen other than 127.0.0.1:PORT is refused', async () => {
  await refused(['--listen', '0.0.0.0:8081'], 2, /--listen 0\.0\.0\.0:8081: expected 127\.0\.0\.1:PORT/);
  await refused(['--listen', '127.0.0.1:70000'], 2, /expected 127\.0\.0\.1:PORT/);
  await refused(['--listen', '8081'], 2, /expected 127\.0\.0\.1:PORT/);
});

test('an unknown flag, a TTL under 1 s and an empty key are refused', async () => {
  await refused(['--bogus'], 2, /Unknown option '--bogus' \(see --help\)/);
  await refused(['--ttl', '0'], 2, /--ttl 0: expected whole seconds, at least 1/);
  await refused(['--ttl', '1.5'], 2, /--ttl 1\.5: expected whole seconds/);
  await refused(['--key', ''], 2, /--key: the cache key cannot be empty/);
});

test('backends off loopback are refused, with the password hidden', async () => {
  await refused(['--redis', 'redis://10.1.2.3:6379/'], 2, /--redis redis:\/\/10\.1\.2\.3:6379\/: .*loopback servers only/);
  await refused(
    ['--postgres', 'postgres://u:secret@db.example:5432/x'],
    2,
    /--postgres postgres:\/\/u:\*\*\*@db\.example:5432\/x: .*loopback/,
  );
  await refused(['--redis', 'http://127.0.0.1:6379/'], 2, /--redis .*: expected redis:\/\//);
  await refused(['--postgres', 'not a url'], 2, /--postgres not a url: not a URL/);
});

test('an unreachable Redis is one line naming it, not a hang', async () => {
  const started = Date.now();
  await refused(['--redis', 'redis://127.0.0.1:1/'], 1, /redis at redis:\/\/127\.0\.0\.1:1\/: unreachable \(.*ECONNREFUSED/);
  assert.ok(Date.now() - started < 10000, 'refused within 10 s');
});

test('--help prints the options and exits 0', async () => {
  const r = await runService(['--help']);
  assert.equal(r.code, 0);
  for (const flag of ['--listen', '--redis', '--postgres', '--key', '--ttl']) assert.ok(r.stdout.includes(flag), flag);
});
