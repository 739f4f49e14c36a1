/**
 * The status page's routes: the page itself at `/` (static HTML, script and style from this
 * folder, no build step), and its data at `/status.json`.
 *
 * The page is a shell anyone who can reach the port may load; it shows nothing by itself. The
 * data needs what `/mcp` needs: an allowed Host and Origin, and, with authentication on, the same
 * bearer credentials, and it lists only the plugins the caller may use. The page sends the
 * token it is given (kept in the tab's sessionStorage) with `fetch`, polling every few seconds:
 * an EventSource could not send an Authorization header. It polls `/status.json?lists=0`, which
 * leaves the plugins' lists out (a plugin may have thousands of tools), and asks for the lists
 * only when a plugin's `listsTag` says they changed.
 *
 * A strict Content-Security-Policy (`default-src 'self'`, no inline script) backs the page's own
 * rule that whatever a plugin says (descriptions, schemas, errors) is shown as text.
 */
import { readFileSync } from 'node:fs';
import Router from '@koa/router';
import type { Authenticator } from '../auth/authenticator.ts';
import { checkHostAndOrigin } from '../http/host-check.ts';
import { refusalAnswer, resourceUrl } from '../http/auth.ts';
import type { CorsSettings } from '../http/cors.ts';
import { statusReport, type StatusSources } from './report.ts';

export interface StatusRouteOptions {
  allowedHosts: readonly string[];
  cors?: CorsSettings;
  auth: Authenticator;
  sources: StatusSources;
}

/** The page's files: served from memory, by exact path, with their types. */
const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'page.html', type: 'text/html; charset=utf-8' },
  '/status/page.js': { file: 'page.js', type: 'text/javascript; charset=utf-8' },
  '/status/page.css': { file: 'page.css', type: 'text/css; charset=utf-8' },
  '/status/icon.svg': { file: 'icon.svg', type: 'image/svg+xml' },
};

/** Everything from this origin, nothing inline, no frames, no forms sent anywhere. */
export const CONTENT_SECURITY_POLICY = "default-src 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'; form-action 'none'";

const SECURITY_HEADERS = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

export function statusRoutes(options: StatusRouteOptions): Router {
  const router = new Router();
  const contents = new Map<string, Buffer>();
  const read = (file: string) => {
    let content = contents.get(file);
    if (!content) contents.set(file, (content = readFileSync(new URL(file, import.meta.url))));
    return content;
  };

  for (const [path, { file, type }] of Object.entries(FILES)) {
    router.get(path, (ctx) => {
      const refusal = checkHostAndOrigin(ctx.get('host'), ctx.get('origin'), options.allowedHosts, options.cors);
      if (refusal) {
        ctx.status = 403;
        ctx.body = `Forbidden: ${refusal}`;
        return;
      }
      ctx.set(SECURITY_HEADERS);
      ctx.set('Cache-Control', 'no-cache');
      ctx.type = type;
      ctx.body = read(file);
    });
  }

  router.get('/status.json', async (ctx) => {
    ctx.set(SECURITY_HEADERS);
    ctx.set('Cache-Control', 'no-store');
    const refusal = checkHostAndOrigin(ctx.get('host'), ctx.get('origin'), options.allowedHosts, options.cors);
    if (refusal) {
      ctx.status = 403;
      ctx.body = { error: `Forbidden: ${refusal}` };
      return;
    }
    const authenticated = await options.auth.authenticate(ctx.get('authorization') || undefined);
    if (!authenticated.ok) {
      const { status, message, headers } = refusalAnswer(options.auth, resourceUrl(options.auth, ctx), authenticated);
      ctx.set(headers);
      ctx.status = status;
      ctx.body = { error: message };
      return;
    }
    ctx.body = await statusReport(options.sources, authenticated.principal, { lists: ctx.query.lists !== '0' });
  });

  return router;
}
