#!/usr/bin/env node
'use strict';
/*
 * heaplab's Node.js service: the incident's fraud check (fraud.js) behind the
 * same HTTP API as `heaplab serve`, over a real Redis and PostgreSQL.
 *
 *   POST /payments {"id","user_id","amount_cents"} -> 200 {"risky": bool}
 *   GET  /metrics                                  -> Prometheus text (prom-client)
 *   GET  /healthz                                  -> 200 {"status":"ok","variant":"naive"}
 *
 * Bad bodies get 400 (bad JSON, missing, unknown or wrongly typed fields), 413
 * (over 4 KiB) or 415 (not application/json), each with {"error": "..."}, as
 * `heaplab serve` answers them. A check that fails (Redis or PostgreSQL down)
 * is answered 503 {"error": ...}: the incident's code has no fail policy.
 * `node server.js --help` lists the configuration.
 *
 * Plain node:http, Node 18.19 or later (Debian's nodejs 18 and 20).
 */

const http = require('node:http');
const v8 = require('node:v8');
const { parseArgs } = require('node:util');

const { createClient } = require('redis');
const pg = require('pg');
const promClient = require('prom-client');

const { makeCheckFraud } = require('./fraud');

const NAME = 'heaplab-node-service';
const MAX_BODY_BYTES = 4096;
/** How long startup waits for each backend before giving up, in ms. */
const CONNECT_TIMEOUT_MS = 3000;
/** How long a shutdown waits for the requests in flight, in ms. */
const DRAIN_TIMEOUT_MS = 10000;
/** How often the GC profiler's records are read and dropped, in ms. */
const GC_READ_INTERVAL_MS = 1000;

const USAGE = `usage: node server.js [OPTIONS]

The incident's fraud check (GET the cached list, JSON.parse, new Set, has;
on a miss SELECT from risky_users and SETEX) as an HTTP service on loopback.

options (each also read from the environment variable in brackets):
  --listen 127.0.0.1:PORT  where to listen; port 0 picks a free port
                           [HEAPLAB_NODE_LISTEN, default 127.0.0.1:8081]
  --redis URL              the cache [HEAPLAB_REDIS_URL, default redis://127.0.0.1:6379/]
  --postgres URL           the risky_users table, filled by heaplab serve --seed-db
                           [HEAPLAB_POSTGRES_URL, default
                           postgres://heaplab:heaplab@127.0.0.1:5432/heaplab]
  --key KEY                the cache key of the JSON list of ids
                           [HEAPLAB_NODE_KEY, default risky_users:node]
  --ttl SECONDS            the key's TTL, whole seconds >= 1 [HEAPLAB_NODE_TTL, default 300]
  -h, --help               this text

It prints one line "listening on http://127.0.0.1:PORT ..." once it serves,
and stops on SIGINT or SIGTERM after answering the requests in flight.
Started with node --expose-gc, SIGUSR2 runs a full GC and sets
nodejs_heap_used_after_major_gc_bytes at once (for measurements).`;

/** A configuration the service refuses, with the reason in one line. */
class ConfigError extends Error {}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** `url` with its password hidden, for messages. */
function redact(url) {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

function loopbackUrl(flag, url, protocols) {
  let u;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError(`${flag} ${url}: not a URL`);
  }
  if (!protocols.includes(u.protocol)) {
    throw new ConfigError(`${flag} ${redact(url)}: expected ${protocols.map(p => p + '//').join(' or ')}`);
  }
  if (!LOOPBACK.has(u.hostname)) {
    throw new ConfigError(`${flag} ${redact(url)}: the service talks to loopback servers only`);
  }
  return url;
}

/** The configuration from `argv` (flags) and `env`; throws ConfigError. */
function parseConfig(argv, env) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        listen: { type: 'string' },
        redis: { type: 'string' },
        postgres: { type: 'string' },
        key: { type: 'string' },
        ttl: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (e) {
    throw new ConfigError(`${e.message.split('\n')[0]} (see --help)`);
  }
  const o = parsed.values;
  if (o.help) return { help: true };

  const listen = o.listen ?? env.HEAPLAB_NODE_LISTEN ?? '127.0.0.1:8081';
  const m = /^127\.0\.0\.1:(\d{1,5})$/.exec(listen);
  if (!m || Number(m[1]) > 65535) {
    throw new ConfigError(`--listen ${listen}: expected 127.0.0.1:PORT (loopback only, port 0-65535)`);
  }
  const ttlText = o.ttl ?? env.HEAPLAB_NODE_TTL ?? '300';
  if (!/^\d+$/.test(ttlText) || Number(ttlText) < 1 || !Number.isSafeInteger(Number(ttlText))) {
    throw new ConfigError(`--ttl ${ttlText}: expected whole seconds, at least 1`);
  }
  const key = o.key ?? env.HEAPLAB_NODE_KEY ?? 'risky_users:node';
  if (key === '') throw new ConfigError('--key: the cache key cannot be empty');
  return {
    help: false,
    host: '127.0.0.1',
    port: Number(m[1]),
    redis: loopbackUrl('--redis', o.redis ?? env.HEAPLAB_REDIS_URL ?? 'redis://127.0.0.1:6379/', [
      'redis:',
    ]),
    postgres: loopbackUrl(
      '--postgres',
      o.postgres ?? env.HEAPLAB_POSTGRES_URL ?? 'postgres://heaplab:heaplab@127.0.0.1:5432/heaplab',
      ['postgres:', 'postgresql:'],
    ),
    key,
    ttl: Number(ttlText),
  };
}

/** Rejects with `what: no answer within N ms` unless `promise` settles first. */
function within(ms, what, promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The first line of an error's message (node's errors can be multi-line). */
function oneLine(e) {
  const text = (e && (e.message || e.code || String(e))) || 'unknown error';
  const agg = e && Array.isArray(e.errors) && e.errors.length ? ` (${oneLine(e.errors[0])})` : '';
  return text.split('\n')[0] + agg;
}

/** Logs `message` to standard error unless it is the one logged last. */
function logChanges() {
  let last = null;
  return message => {
    if (message !== last) process.stderr.write(`${NAME}: ${message}\n`);
    last = message;
  };
}

// --------------------------------------------------------------- backends

/** A node-redis client, connected, or a one-line error. */
async function connectRedis(url) {
  let started = false;
  const log = logChanges();
  const client = createClient({
    url,
    socket: {
      connectTimeout: CONNECT_TIMEOUT_MS,
      // NOTE: at startup an unreachable Redis is a configuration error (stop
      // trying, so connect() rejects); once serving, reconnect forever with
      // backoff, as a production service would. Commands sent meanwhile wait
      // in node-redis's offline queue: the incident's code has no timeout.
      reconnectStrategy: (retries, cause) => (started ? Math.min(50 * 2 ** retries, 1000) : cause),
    },
  });
  client.on('error', e => {
    if (started) log(`redis: ${oneLine(e)}`);
  });
  try {
    await within(CONNECT_TIMEOUT_MS, 'connect', client.connect());
    await within(CONNECT_TIMEOUT_MS, 'PING', client.ping());
  } catch (e) {
    try {
      client.destroy();
    } catch {
      // already closed by the failed connect
    }
    throw new Error(`redis at ${redact(url)}: unreachable (${oneLine(e)})`);
  }
  started = true;
  return client;
}

/** node-postgres returns BIGINT as a string; the ids are JSON numbers. */
function parseBigintId(text) {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new Error(`user id ${text} is beyond 2^53: not exact as a JS number`);
  return n;
}

/**
 * A node-postgres pool, its table checked, or a one-line error.
 *
 * NOTE: node-postgres decodes BIGINT (`risky_users.user_id`) as a string,
 * to keep 64-bit values exact. The payment's `user_id` is a JSON number, and
 * `set.has('123')` is false for `123`: the seed's code as written would call
 * every user safe. So this pool decodes BIGINT as a number (the ids have 12
 * digits, far below 2^53), as a team whose ids are numbers would configure
 * it; the fraud check itself is unchanged. Pool size and timeouts are
 * node-postgres's defaults (10 connections, no timeouts), as in the seed.
 */
async function connectPostgres(url) {
  const types = {
    getTypeParser: (oid, format) =>
      oid === pg.types.builtins.INT8 && format !== 'binary'
        ? parseBigintId
        : pg.types.getTypeParser(oid, format),
  };
  const db = new pg.Pool({ connectionString: url, types });
  const log = logChanges();
  // An idle connection that breaks emits 'error' on the pool: without a
  // listener that would end the process.
  db.on('error', e => log(`postgres: ${oneLine(e)}`));
  let table;
  try {
    const r = await within(CONNECT_TIMEOUT_MS, 'connect', db.query("SELECT to_regclass('risky_users') AS t"));
    table = r.rows[0].t;
  } catch (e) {
    db.end().catch(() => {});
    throw new Error(`postgres at ${redact(url)}: unreachable (${oneLine(e)})`);
  }
  if (table === null) {
    db.end().catch(() => {});
    throw new Error(
      `postgres at ${redact(url)}: no table risky_users (fill it with heaplab serve --seed-db --postgres URL)`,
    );
  }
  return db;
}

// --------------------------------------------------------------- metrics

/**
 * prom-client's default metrics (nodejs_heap_size_used_bytes,
 * nodejs_gc_duration_seconds{kind}, process_resident_memory_bytes,
 * nodejs_eventloop_lag_seconds, ...) and the service's own:
 *
 * - nodejs_heap_used_after_major_gc_bytes: V8's used heap at the end of the
 *   last full (mark-sweep-compact) GC, from v8.GCProfiler's `afterGC`
 *   statistics, which V8 records inside the GC itself. A full GC marks
 *   everything reachable and sweeps the rest, so at its end the used heap is
 *   the live heap; `heapUsed` at any other moment also counts garbage not
 *   yet collected. (A PerformanceObserver on 'gc' entries runs after the GC,
 *   once the current callback returns: by then a request may have allocated
 *   megabytes more, which is why the profiler's figure is used.)
 * - heaplab_payments_total{outcome}, heaplab_payment_duration_seconds,
 *   heaplab_payments_in_flight: the answers, their latency, and the requests
 *   being checked now.
 */
function makeMetrics() {
  const register = new promClient.Registry();
  promClient.collectDefaultMetrics({ register });

  const afterGc = new promClient.Gauge({
    name: 'nodejs_heap_used_after_major_gc_bytes',
    help: "V8's used heap at the end of the last full (mark-sweep-compact) GC, in bytes: the live heap then",
    registers: [register],
  });
  // Unknown until the first full GC.
  afterGc.set(NaN);
  const majorGcs = new promClient.Counter({
    name: 'nodejs_major_gcs_total',
    help: 'Full (mark-sweep-compact) GCs seen by the GC profiler, forced ones included',
    registers: [register],
  });
  // NOTE: the profiler keeps one record per GC until stop(); it is read and
  // restarted every second so that the records stay a few kilobytes.
  let profiler = null;
  const readProfiler = () => {
    if (!profiler) return;
    const { statistics } = profiler.stop();
    profiler.start();
    for (const s of statistics) {
      if (s.gcType === 'MarkSweepCompact') {
        majorGcs.inc();
        afterGc.set(s.afterGC.heapStatistics.usedHeapSize);
      }
    }
  };
  if (typeof v8.GCProfiler === 'function') {
    profiler = new v8.GCProfiler();
    profiler.start();
  }
  const timer = setInterval(readProfiler, GC_READ_INTERVAL_MS);
  timer.unref();

  const outcomes = new promClient.Counter({
    name: 'heaplab_payments_total',
    help: 'Payments answered, by outcome',
    labelNames: ['outcome'],
    registers: [register],
  });
  for (const o of ['checked', 'unavailable', 'rejected']) outcomes.inc({ outcome: o }, 0);
  const duration = new promClient.Histogram({
    name: 'heaplab_payment_duration_seconds',
    help: "Time from a payment's arrival at the handler to its answer, in seconds",
    // 100 µs ... about 3.3 s, as heaplab serve's.
    buckets: promClient.exponentialBuckets(1e-4, 2, 16),
    registers: [register],
  });
  const inFlight = new promClient.Gauge({
    name: 'heaplab_payments_in_flight',
    help: 'Payments being checked now (arrived, not yet answered)',
    registers: [register],
  });
  return {
    register,
    outcomes,
    duration,
    inFlight,
    /** Reads the GC records now (before a scrape). */
    readProfiler,
    /** A full GC now, and the live heap after it (needs --expose-gc). */
    forceGc() {
      if (typeof global.gc !== 'function') return null;
      global.gc();
      readProfiler();
      const used = v8.getHeapStatistics().used_heap_size;
      afterGc.set(used);
      return used;
    },
    stop() {
      clearInterval(timer);
      if (profiler) profiler.stop();
      profiler = null;
    },
  };
}

// --------------------------------------------------------------- HTTP

function send(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** `{id, userId, amountCents}` from a body, or a ConfigError-like reason. */
function parsePayment(text) {
  let v;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return { error: `Failed to parse the request body as JSON: ${oneLine(e)}` };
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    return { error: 'expected a JSON object {"id","user_id","amount_cents"}' };
  }
  const fields = ['id', 'user_id', 'amount_cents'];
  for (const k of Object.keys(v)) {
    if (!fields.includes(k)) return { error: `unknown field \`${k}\`, expected one of \`id\`, \`user_id\`, \`amount_cents\`` };
  }
  for (const k of fields) {
    if (!(k in v)) return { error: `missing field \`${k}\`` };
    // NOTE: heaplab serve takes any u64; here the ids must be exact as JS
    // numbers, so the largest accepted is 2^53 - 1.
    if (!Number.isSafeInteger(v[k]) || v[k] < 0) {
      return { error: `${k}: expected a whole number from 0 to 2^53 - 1, got ${JSON.stringify(v[k])}` };
    }
  }
  return { payment: { id: v.id, userId: v.user_id, amountCents: v.amount_cents } };
}

function isJson(contentType) {
  const type = (contentType || '').split(';')[0].trim().toLowerCase();
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

/** The request handler over `checkFraud` and `metrics`. */
function makeHandler(checkFraud, metrics) {
  async function payments(req, res) {
    const start = process.hrtime.bigint();
    const reject = (status, error, headers) => {
      metrics.outcomes.inc({ outcome: 'rejected' });
      send(res, status, { error }, headers);
    };
    if (!isJson(req.headers['content-type'])) {
      req.resume();
      return reject(415, 'Expected request with `Content-Type: application/json`');
    }
    const declared = Number(req.headers['content-length']);
    if (declared > MAX_BODY_BYTES) {
      return reject(413, `the body is over ${MAX_BODY_BYTES} bytes`, { connection: 'close' });
    }
    const chunks = [];
    let size = 0;
    let tooLarge = false;
    for await (const chunk of req) {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        tooLarge = true;
        break;
      }
      chunks.push(chunk);
    }
    if (tooLarge) return reject(413, `the body is over ${MAX_BODY_BYTES} bytes`, { connection: 'close' });
    const parsed = parsePayment(Buffer.concat(chunks).toString('utf8'));
    if (parsed.error) return reject(400, parsed.error);

    metrics.inFlight.inc();
    try {
      const risky = await checkFraud(parsed.payment);
      metrics.outcomes.inc({ outcome: 'checked' });
      send(res, 200, { risky });
    } catch (e) {
      metrics.outcomes.inc({ outcome: 'unavailable' });
      send(res, 503, { error: `the fraud check failed: ${oneLine(e)}` });
    } finally {
      metrics.inFlight.dec();
      metrics.duration.observe(Number(process.hrtime.bigint() - start) / 1e9);
    }
  }

  const routes = {
    '/payments': { POST: payments },
    '/metrics': {
      GET: async (req, res) => {
        metrics.readProfiler();
        const text = await metrics.register.metrics();
        res.writeHead(200, { 'content-type': metrics.register.contentType });
        res.end(text);
      },
    },
    '/healthz': { GET: async (req, res) => send(res, 200, { status: 'ok', variant: 'naive' }) },
  };

  return (req, res) => {
    const path = req.url.split('?')[0];
    const route = routes[path];
    if (!route) {
      req.resume();
      return send(res, 404, { error: 'no such route' });
    }
    const handle = route[req.method];
    if (!handle) {
      req.resume();
      return send(res, 405, { error: `${req.method} ${path}: method not allowed` }, { allow: Object.keys(route).join(', ') });
    }
    handle(req, res).catch(e => {
      // Only a broken connection gets here (the check's errors are answered).
      if (!res.headersSent) send(res, 500, { error: oneLine(e) });
      else res.destroy();
    });
  };
}

// --------------------------------------------------------------- main

async function main() {
  let config;
  try {
    config = parseConfig(process.argv.slice(2), process.env);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    process.stderr.write(`${NAME}: ${e.message}\n`);
    return 2;
  }
  if (config.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }

  let redis;
  let db;
  try {
    redis = await connectRedis(config.redis);
    db = await connectPostgres(config.postgres);
  } catch (e) {
    process.stderr.write(`${NAME}: ${e.message}\n`);
    if (redis) await redis.close().catch(() => {});
    return 1;
  }

  const metrics = makeMetrics();
  const checkFraud = makeCheckFraud({ redis, db, key: config.key, ttl: config.ttl });
  const server = http.createServer(makeHandler(checkFraud, metrics));
  try {
    await new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, resolve);
    });
  } catch (e) {
    process.stderr.write(`${NAME}: --listen ${config.host}:${config.port}: ${oneLine(e)}\n`);
    metrics.stop();
    await Promise.allSettled([redis.close(), db.end()]);
    return 1;
  }
  const { port } = server.address();
  process.stdout.write(
    `${NAME}: listening on http://${config.host}:${port} (naive; key ${config.key}, TTL ${config.ttl} s; ` +
      `redis ${redact(config.redis)}, postgres ${redact(config.postgres)})\n`,
  );

  process.on('SIGUSR2', () => {
    const used = metrics.forceGc();
    process.stderr.write(
      used === null
        ? `${NAME}: SIGUSR2: no full GC (start node with --expose-gc)\n`
        : `${NAME}: SIGUSR2: full GC, ${used} B live\n`,
    );
  });

  const signal = await new Promise(resolve => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  process.stderr.write(`${NAME}: ${signal}: answering the requests in flight, then stopping\n`);
  // A second signal stops at once.
  const now = () => process.exit(1);
  process.once('SIGINT', now);
  process.once('SIGTERM', now);

  const closed = new Promise(resolve => server.close(resolve));
  server.closeIdleConnections?.();
  const drained = await Promise.race([
    closed.then(() => true),
    new Promise(resolve => setTimeout(resolve, DRAIN_TIMEOUT_MS, false).unref()),
  ]);
  if (!drained) {
    process.stderr.write(`${NAME}: requests still in flight after ${DRAIN_TIMEOUT_MS} ms: stopping anyway\n`);
    server.closeAllConnections?.();
  }
  metrics.stop();
  await Promise.allSettled([
    within(1000, 'close', redis.close()).catch(() => redis.destroy()),
    within(1000, 'pool end', db.end()),
  ]);
  return drained ? 0 : 1;
}

if (require.main === module) {
  main().then(
    code => process.exit(code),
    e => {
      process.stderr.write(`${NAME}: ${oneLine(e)}\n`);
      process.exit(1);
    },
  );
}

module.exports = { parseConfig, parsePayment, ConfigError };
