// Harness for nginx.test.ts: adapts the production config to run locally, and small
// network helpers (free ports, requests from a chosen loopback address, TLS handshakes).
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { describeFailure, run } from './support';

export const CONFIG = 'nginx/nginx.prod.conf';

export interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}
export interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}

function replaceOnce(text: string, search: string | RegExp, replacement: string): string {
  const found = typeof search === 'string' ? text.includes(search) : search.test(text);
  if (!found) throw new Error(`nginx test adaptation no longer matches ${CONFIG}: ${String(search)}`);
  return text.replace(search, replacement);
}

export function nginxVersion(nginx: string): [number, number, number] {
  const result = run(nginx, ['-v']);
  const match = /nginx\/(\d+)\.(\d+)\.(\d+)/.exec(result.stderr + result.stdout);
  if (!match) throw new Error(`cannot read nginx version: ${describeFailure(result)}`);
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

function olderThan(version: [number, number, number], than: [number, number, number]): boolean {
  for (let i = 0; i < 3; i++) if (version[i] !== than[i]) return (version[i] ?? 0) < (than[i] ?? 0);
  return false;
}

/**
 * Makes the production config runnable here: certificates, logs and temp files in
 * a temp dir, high ports on loopback, the stub upstream instead of Docker DNS.
 * Features newer than the local nginx (Debian 12 ships 1.22, the image 1.28) are
 * rewritten to their older equivalent.
 */
export function adaptConfig(
  conf: string,
  o: { dir: string; httpPort: number; httpsPort: number; upstreamPort: number; version: [number, number, number] },
): string {
  let c = conf;
  c = replaceOnce(c, /\/etc\/nginx\/certs\//g, `${o.dir}/`);
  c = replaceOnce(c, /\/var\/log\/nginx\//g, `${o.dir}/`);
  c = replaceOnce(c, 'pid /var/run/nginx.pid;', `pid ${o.dir}/nginx.pid;`);
  c = replaceOnce(c, 'listen 80 default_server;', `listen 127.0.0.1:${o.httpPort} default_server;`);
  c = replaceOnce(c, 'listen 443 ssl default_server;', `listen 127.0.0.1:${o.httpsPort} ssl default_server;`);
  // No Docker DNS here: a static upstream, so `resolve` goes too.
  c = replaceOnce(c, /server api:3000 resolve /, `server 127.0.0.1:${o.upstreamPort} `);
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((t) => `    ${t}_temp_path ${o.dir}/${t}_temp;`)
    .join('\n');
  c = replaceOnce(c, /^http \{$/m, `http {\n${temp}`);
  if (olderThan(o.version, [1, 25, 1])) {
    c = replaceOnce(c, /^\s*http2 on;$/m, '');
    c = replaceOnce(
      c,
      `listen 127.0.0.1:${o.httpsPort} ssl default_server;`,
      `listen 127.0.0.1:${o.httpsPort} ssl http2 default_server;`,
    );
  }
  return c;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address() as net.AddressInfo;
      server.close(() => resolve(address.port));
    });
  });
}

export async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => resolve(socket.end() !== undefined));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nginx did not listen on ${port} within ${timeoutMs} ms`);
}

/** One request; `from` picks the loopback source address, i.e. the client IP nginx sees. */
export function request(
  port: number,
  o: { path: string; method?: string; headers?: Record<string, string>; body?: string; from: string; secure: boolean },
): Promise<Response> {
  const client = o.secure ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(
      {
        host: '127.0.0.1',
        port,
        path: o.path,
        method: o.method ?? 'GET',
        headers: { host: 'cafe.example.com', ...o.headers },
        localAddress: o.from,
        rejectUnauthorized: false,
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(o.body);
  });
}

export function handshake(port: number, options: tls.ConnectionOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect(
      { host: '127.0.0.1', port, servername: 'cafe.example.com', rejectUnauthorized: false, ...options },
      () => {
        const protocol = socket.getProtocol() ?? '';
        socket.end();
        resolve(protocol);
      },
    );
    socket.on('error', reject);
  });
}
