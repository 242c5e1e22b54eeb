import http from 'node:http';
import type { Socket } from 'node:net';
import type { Next } from 'koa';
import { methodNotAllowed } from '../../lib/errors';
import type { AppContext } from './context';

/**
 * After the routers: a path that some route serves, asked with a method none of them offers
 * (TRACE, PROPFIND, DELETE on a read-only route...), is a 405 naming the route's methods in
 * `Allow`. The router's own version answers 501 for methods outside its list, which a client
 * and a schema fuzzer both read as a server fault. A path no route serves stays a 404.
 */
export function allowedMethods() {
  return async (ctx: AppContext, next: Next) => {
    await next();
    if (ctx.status !== 404 || ctx.body !== undefined) return;
    // Every router this request went through adds the layers whose path matched.
    const layers = (ctx as { matched?: { methods: string[] }[] }).matched ?? [];
    const offered = new Set(layers.flatMap((layer) => layer.methods));
    // No route at this path, or one that offers this method and chose not to answer: a 404.
    if (offered.size === 0 || offered.has(ctx.method)) return;
    const allow = [...offered, 'OPTIONS'].join(', ');
    if (ctx.method === 'OPTIONS') {
      ctx.set('Allow', allow);
      ctx.status = 204;
      return;
    }
    throw methodNotAllowed(ctx.method, allow);
  };
}

/**
 * The API's HTTP server. Node hands CONNECT to a 'connect' listener and, with none, drops the
 * socket without an answer; here it goes through the app like any other method (so it gets the
 * same 405 or 404), on a response that closes the connection afterwards.
 */
export function createHttpServer(listener: http.RequestListener): http.Server {
  const server = http.createServer(listener);
  server.on('connect', (req: http.IncomingMessage, socket: Socket) => {
    const res = new http.ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket);
    res.on('finish', () => {
      res.detachSocket(socket);
      socket.end();
    });
    socket.on('error', () => socket.destroy());
    listener(req, res);
  });
  return server;
}
