import type { CallAccess, SessionLookup } from '../../../src/gateway/index.ts';
import { securityCallAccess } from '../../../src/server/index.ts';
import type { SecureServer } from '../../auth/helpers.ts';

/**
 * The composition root's call wiring for a test server: `startTestServer({ routes })` registers routes before the
 * server (and so its security and payment services) exists, so these delegate to `bind(server)` called after.
 */
export function lazyCallWiring(): { sessions: SessionLookup; access: CallAccess; bind(s: SecureServer): void } {
  let real: CallAccess | null = null;
  let server: SecureServer | null = null;
  const need = (): CallAccess => {
    if (real === null) throw new Error('lazyCallWiring: bind(server) first');
    return real;
  };
  return {
    sessions: { find: async (id) => (server?.payments ? server.payments.find(id) : null) },
    access: { identityOf: (r) => need().identityOf(r), checkBind: (r, c, id) => need().checkBind(r, c, id) },
    bind(s) {
      if (s.security === null || s.payments === null) throw new Error('lazyCallWiring: needs security and payments');
      server = s;
      real = securityCallAccess(s.security.auth, s.payments);
    },
  };
}
