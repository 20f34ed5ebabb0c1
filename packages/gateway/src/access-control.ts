import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { EngineGateError, quoteInput } from '@enginegate/plugin-api';
import { AuthFailures } from './auth-failures.js';
import { clientAddress } from './connection-limits.js';

/** A browser cannot set headers on a WebSocket: it offers the token as this subprotocol + base64url(token). */
export const AUTH_SUBPROTOCOL_PREFIX = 'base64url.bearer.authorization.enginegate.';

/** The subprotocols a client offered, in its order. */
export function offeredSubprotocols(header: string | string[] | undefined): string[] {
  if (header === undefined) return [];
  const text = Array.isArray(header) ? header.join(',') : header;
  return text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
}

export function isAuthSubprotocol(protocol: string): boolean {
  return protocol.startsWith(AUTH_SUBPROTOCOL_PREFIX);
}

/** Hash both sides first: timingSafeEqual needs equal lengths, and the length must not leak either. */
function sameSecret(offered: string, expected: Buffer): boolean {
  return timingSafeEqual(createHash('sha256').update(offered).digest(), expected);
}

/**
 * Decides whether a request may proceed: its `Origin` (when a browser sent one) must be allowed,
 * then it must carry the token — `Authorization: Bearer`, or on a WebSocket upgrade the auth
 * subprotocol. `/healthz` is exempt (the route sets `config.public`).
 */
export class AccessControl {
  private readonly expectedDigest: Buffer | null;
  private readonly failures = new AuthFailures();

  constructor(
    token: string | null,
    /** Read per request: the default (the gateway's own origin) is only known once it listens. */
    private readonly allowedOrigins: () => ReadonlySet<string>,
  ) {
    this.expectedDigest = token === null ? null : createHash('sha256').update(token).digest();
  }

  /** Throws the refusal; a wrong token from a client that sent many wrong ones waits first. */
  async check(request: FastifyRequest): Promise<void> {
    const origin = request.headers.origin;
    if (origin !== undefined && !this.allowedOrigins().has(origin)) {
      throw new EngineGateError('FORBIDDEN', `origin ${quoteInput(origin)} is not allowed`);
    }
    if (this.expectedDigest === null) return;
    const offered = this.offeredToken(request);
    if (offered === undefined) {
      throw new EngineGateError('UNAUTHORIZED', 'a token is required: send Authorization: Bearer <token>');
    }
    if (!sameSecret(offered, this.expectedDigest)) {
      await this.failures.penalise(clientAddress(request.raw.socket));
      throw new EngineGateError('UNAUTHORIZED', 'the token is wrong');
    }
  }

  private offeredToken(request: FastifyRequest): string | undefined {
    const authorization = request.headers.authorization;
    if (authorization !== undefined && authorization !== '') {
      const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization);
      return match ? match[1] : '';
    }
    if (request.ws) {
      const protocol = offeredSubprotocols(request.headers['sec-websocket-protocol']).find(isAuthSubprotocol);
      if (protocol !== undefined)
        return Buffer.from(protocol.slice(AUTH_SUBPROTOCOL_PREFIX.length), 'base64url').toString('utf8');
    }
    return undefined;
  }
}
