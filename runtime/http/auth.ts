import type { MiddlewareHandler } from 'hono';
import { bearerAuth } from 'hono/bearer-auth';

/** Methods that change state; reads stay open so that anyone can audit the ledger. */
const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** POST routes that only read: verification recomputes hashes and writes nothing. */
const READ_ONLY_POSTS = new Set(['/ledger/verify']);

/**
 * Hono's bearerAuth with messages that say what is wrong (its defaults are "Unauthorized" as plain
 * text, which the error handler would otherwise pass on as an empty message).
 */
export function requireBearer(token: string): MiddlewareHandler {
  return bearerAuth({
    token,
    noAuthenticationHeader: { message: 'this request needs the header Authorization: Bearer <token>' },
    invalidAuthenticationHeader: { message: 'the Authorization header is not of the form Bearer <token>' },
    invalidToken: { message: 'the bearer token is wrong' },
  });
}

/**
 * With a token configured, every mutating request must carry `Authorization: Bearer <token>`
 * (compared in constant time by Hono's bearerAuth); without one, the middleware does nothing.
 */
export function requireTokenForWrites(token: string | undefined): MiddlewareHandler {
  if (token === undefined) return async (_c, next) => next();
  const check = requireBearer(token);
  return async (c, next) => {
    if (!MUTATING.has(c.req.method) || READ_ONLY_POSTS.has(c.req.path)) return next();
    return check(c, next);
  };
}
