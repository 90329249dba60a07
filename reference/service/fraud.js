'use strict';
/*
 * The incident's fraud check, as it shipped (the seed's `checkFraud`), over a
 * node-redis client and a node-postgres pool. Two words differ from the
 * seed, neither in what the code does:
 *
 * - the key and the TTL are the service's configuration, not literals
 *   (`risky_users` and 300 in the seed), so this service can share a Redis
 *   with `heaplab serve` without overwriting its key;
 * - node-redis spells the command `setEx` (the seed's `setex` is ioredis's
 *   and node-redis 3's spelling of the same SETEX).
 *
 * Nothing else is changed: no timeout, no single flight, no error handling.
 * A failing Redis or PostgreSQL rejects the promise, and the caller (the HTTP
 * handler) answers 503. A cold or expired key sends every request in flight
 * to PostgreSQL at once: the stampede is part of the code under study.
 */

/** The incident's query, verbatim. */
const ACTIVE_QUERY = 'SELECT user_id FROM risky_users WHERE active = true';

/**
 * The seed's `checkFraud` over `redis` (node-redis v5 client), `db`
 * (node-postgres `Pool`), the cache `key` and its `ttl` in seconds.
 * `payment.userId` is the payment's user id (a JSON number).
 */
function makeCheckFraud({ redis, db, key, ttl }) {
  return async function checkFraud(payment) {
    const riskyUsers = await redis.get(key);

    if (!riskyUsers) {
      // Fetch from database
      const users = await db.query(ACTIVE_QUERY);
      const riskySet = new Set(users.rows.map(r => r.user_id));

      // Cache for `ttl` seconds (5 minutes in the seed)
      await redis.setEx(key, ttl, JSON.stringify([...riskySet]));

      return riskySet.has(payment.userId);
    }

    const riskySet = new Set(JSON.parse(riskyUsers));
    return riskySet.has(payment.userId);
  };
}

module.exports = { ACTIVE_QUERY, makeCheckFraud };
