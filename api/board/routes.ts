import { readFile } from 'node:fs/promises';
import path from 'node:path';
import Router from '@koa/router';
import { AppError } from '../../lib/errors';

const STATIC_DIR = path.join(__dirname, 'static');

// Only these files are served, so no path from the URL reaches the disk.
const ASSETS: Record<string, string> = {
  'board.css': 'text/css; charset=utf-8',
  'board.js': 'application/javascript; charset=utf-8',
  'api.js': 'application/javascript; charset=utf-8',
  'event-stream.js': 'application/javascript; charset=utf-8',
  'i18n.js': 'application/javascript; charset=utf-8',
  'cards.js': 'application/javascript; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
};

/**
 * Stricter than the API's default policy: the board needs nothing but its own origin, not even
 * inline styles. The token travels in an Authorization header (fetch), never in a URL.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The staff board: a page of plain ES modules from the project, no build step, no CDN. */
export function boardRouter(): Router {
  const router = new Router();
  const cache = new Map<string, Buffer>();
  const read = async (file: string) => {
    let content = cache.get(file);
    if (!content) {
      content = await readFile(path.join(STATIC_DIR, file));
      cache.set(file, content);
    }
    return content;
  };

  router.get('/board', async (ctx) => {
    ctx.type = 'text/html; charset=utf-8';
    ctx.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = await read('index.html');
  });
  router.get('/board/:asset', async (ctx) => {
    const asset = ctx.params.asset as string;
    const type = Object.hasOwn(ASSETS, asset) ? ASSETS[asset] : undefined;
    if (!type) throw new AppError(404, 'ROUTE_NOT_FOUND', `No route for GET ${ctx.path}`);
    ctx.type = type;
    ctx.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = await read(asset);
  });
  return router;
}
