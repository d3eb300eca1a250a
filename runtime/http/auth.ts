import type { MiddlewareHandler } from 'hono';
import { bearerAuth } from 'hono/bearer-auth';

/** Methods that change state; reads stay open so that anyone can audit the ledger. */
const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** POST routes that only read: verification recomputes hashes and writes nothing. */
const READ_ONLY_POSTS = new Set(['/ledger/verify']);

/**
 * With a token configured, every mutating request must carry `Authorization: Bearer <token>`
 * (compared in constant time by Hono's bearerAuth); without one, the middleware does nothing.
 */
export function requireTokenForWrites(token: string | undefined): MiddlewareHandler {
  if (token === undefined) return async (_c, next) => next();
  const check = bearerAuth({ token });
  return async (c, next) => {
    if (!MUTATING.has(c.req.method) || READ_ONLY_POSTS.has(c.req.path)) return next();
    return check(c, next);
  };
}
