import { isIP } from 'node:net';
import { EngineGateError, quoteInput } from '@enginegate/plugin-api';
import type { FastifyRequest } from 'fastify';
import { isLoopbackHost } from './gateway-options.js';

/** The name in a `Host` header, without its port and IPv6 brackets, lower case. */
export function hostName(header: string): string {
  const bracketed = /^\[([^\]]*)\](?::\d*)?$/.exec(header);
  if (bracketed) return bracketed[1]!.toLowerCase();
  const colon = header.lastIndexOf(':');
  return (colon === -1 ? header : header.slice(0, colon)).toLowerCase();
}

/**
 * The `Host` allow-list against DNS rebinding: a page of evil.example whose name was rebound to
 * 127.0.0.1 sends `Host: evil.example` (and, same-origin, no Origin). Allowed: loopback names
 * and addresses, the listen address, the `allowedHosts` names; on a wildcard listen address any
 * IP address too (a rebinding needs a name). A request without `Host` (HTTP/1.0) passes; over a
 * unix socket no check is made (no browser reaches it).
 */
export class HostCheck {
  private readonly names: Set<string>;

  constructor(
    private readonly listenHost: string,
    allowedHosts: readonly string[],
    private readonly unixSocket: boolean,
  ) {
    this.names = new Set([listenHost, ...allowedHosts].map((name) => hostName(name)));
  }

  allows(header: string | undefined): boolean {
    if (this.unixSocket || header === undefined) return true;
    const name = hostName(header);
    if (name === 'localhost' || name.endsWith('.localhost') || isLoopbackHost(name)) return true;
    if (this.names.has(name)) return true;
    const wildcard = this.listenHost === '0.0.0.0' || this.listenHost === '::';
    return wildcard && isIP(name) !== 0;
  }

  check(request: FastifyRequest): void {
    const host = request.headers.host;
    if (this.allows(host)) return;
    throw new EngineGateError(
      'MISDIRECTED_REQUEST',
      `Host ${quoteInput(host)} is not a name of this gateway: add it with --allow-host`,
    );
  }
}
