'use strict';
// Set-up shared by the service's tests: the backends' URLs, starting the
// service as a child process on a free port, plain HTTP requests.

const http = require('node:http');
const path = require('node:path');
const { spawn } = require('node:child_process');

const SERVER = path.join(__dirname, '..', 'server.js');
const REDIS_URL = process.env.HEAPLAB_REDIS_URL || 'redis://127.0.0.1:6379/';
const POSTGRES_URL = process.env.HEAPLAB_POSTGRES_URL || 'postgres://heaplab:heaplab@127.0.0.1:5432/heaplab';

/** `url` with the connection's search_path set to `schema`. */
function withSearchPath(url, schema) {
  // %20 for the space, which node-postgres and tokio-postgres both read.
  const u = new URL(url);
  u.search = `${u.search ? u.search + '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  return u.toString();
}

/**
 * Runs the service with `args` and `nodeFlags`; resolves once it prints its
 * "listening on" line, with its port, its process and what it printed on
 * standard error so far (`stderr()`), or rejects with what it printed.
 */
function startService(args, { nodeFlags = [], timeoutMs = 15000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeFlags, SERVER, '--listen', '127.0.0.1:0', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const exited = new Promise(r => child.once('exit', (code, signal) => r({ code, signal })));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the service did not listen within ${timeoutMs} ms: ${err}`));
    }, timeoutMs);
    child.stdout.on('data', d => {
      out += d;
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ port: Number(m[1]), child, exited, stderr: () => err });
      }
    });
    child.stderr.on('data', d => {
      err += d;
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`the service exited (${code ?? signal}) before listening: ${err}`));
    });
  });
}

/** Runs the service to its end (a refused configuration): `{code, stdout, stderr}`. */
function runService(args, { timeoutMs = 15000 } = {}) {
  return new Promise(resolve => {
    const child = spawn(process.execPath, [SERVER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', d => (stdout += d));
    child.stderr.on('data', d => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal, stdout, stderr });
    });
  });
}

/**
 * One HTTP request to 127.0.0.1:`port`: `{status, headers, text}`. `body` is
 * sent as is; `chunks` (an array) is sent without a content-length.
 */
function request(port, method, urlPath, { headers = {}, body, chunks } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, headers, agent: false }, res => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', d => (text += d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.setTimeout(15000, () => req.destroy(new Error(`${method} ${urlPath}: no answer within 15 s`)));
    if (chunks) {
      for (const c of chunks) req.write(c);
      req.end();
    } else {
      req.end(body);
    }
  });
}

/** POST /payments with `payment` (an object, or a string sent as is). */
function pay(port, payment, headers = { 'content-type': 'application/json' }) {
  const body = typeof payment === 'string' ? payment : JSON.stringify(payment);
  return request(port, 'POST', '/payments', { headers, body });
}

/** The value of the sample `series` (name with labels, if any) in `text`. */
function sample(text, series) {
  for (const line of text.split('\n')) {
    if (line.startsWith(series + ' ')) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

const sleep = ms => new Promise(r => setTimeout(r, ms));

module.exports = {
  POSTGRES_URL,
  REDIS_URL,
  SERVER,
  pay,
  request,
  runService,
  sample,
  sleep,
  startService,
  withSearchPath,
};
