import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { consoleBundle } from './console-bundle.ts';

export const CONSOLE_PATH = '/console/';

export interface ConsoleRouteOptions {
  /**
   * Origins allowed to frame the embedded panel at `/console/embed` (CSP frame-ancestors; `console.frameAncestors`
   * in the configuration). Empty: nobody (embedding off). The normal console page is never framed.
   */
  frameAncestors?: readonly string[];
}

/**
 * Serves the agent console from the Cardline server itself (issue 7: no separate server): `GET /console/`
 * (the page; the trailing slash matters, the script is fetched relative to it), `GET /console/embed` (the same page
 * for an iframe in a CRM: it signs in with a one-time embed token from its URL fragment, see src/api/routes/embed.ts)
 * and `GET /console/app.js` (the bundle). Public routes: the page holds no data; every API call it makes is
 * authenticated. A strict CSP (scripts and connections to our own origin only, the inline style by hash) keeps
 * injected markup from running or sending anything elsewhere; frame-ancestors (CSP Level 3 §7.7.3) stops
 * clickjacking: 'none' for the console, only the configured origins for the embedded panel.
 */
export function registerConsoleRoutes(app: FastifyInstance, o: ConsoleRouteOptions = {}): void {
  const embedAncestors = (o.frameAncestors ?? []).length > 0 ? (o.frameAncestors ?? []).join(' ') : "'none'";
  const common = (reply: FastifyReply) => reply
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-cache');
  const notModified = (request: FastifyRequest, tag: string) => request.headers['if-none-match'] === tag;

  // documented like every route (the OpenAPI test walks them all); strings with a non-JSON type are sent as they are
  const text = (type: string, summary: string) => ({
    summary, tags: ['console'], response: {
      200: { description: summary, content: { [type]: { schema: { type: 'string' } } } },
      304: { description: 'Not modified (If-None-Match matched the ETag)', type: 'null' },
    },
  });
  const page = (ancestors: string, summary: string, path: string) => {
    app.get(path, { config: { permission: 'public' }, schema: text('text/html', summary) }, async (request, reply) => {
      const b = await consoleBundle();
      common(reply)
        .header('etag', b.htmlEtag)
        .header('content-security-policy', [
          "default-src 'none'", "script-src 'self'", `style-src 'self' ${b.styleHashes.join(' ')}`, "connect-src 'self'",
          "img-src 'self' data:", "base-uri 'none'", "form-action 'self'", `frame-ancestors ${ancestors}`,
        ].join('; '));
      if (notModified(request, b.htmlEtag)) return reply.code(304).send();
      return reply.type('text/html; charset=utf-8').send(b.html);
    });
  };
  page("'none'", 'The agent console page (sign-in, live payment panel)', CONSOLE_PATH);
  page(embedAncestors, 'The embedded agent panel for an iframe (signs in with #token=<embed token>); framable by console.frameAncestors only', `${CONSOLE_PATH}embed`);

  app.get(`${CONSOLE_PATH}app.js`, { config: { permission: 'public' }, schema: text('text/javascript', 'The agent console script (Lit web components, bundled)') }, async (request, reply) => {
    const b = await consoleBundle();
    common(reply).header('etag', b.jsEtag);
    if (notModified(request, b.jsEtag)) return reply.code(304).send();
    return reply.type('text/javascript; charset=utf-8').send(b.js);
  });
}
