import { mkdir } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { createApp } from '../../api/app';
import { pingDb } from '../../db/knex';
import type { TestStack } from '../support/stack';

export const SCREENSHOT_DIR = path.resolve(__dirname, '..', '..', 'test-output', 'board');

/** Debian's chromium (scripts/install-system-deps.sh); no browser is ever downloaded. */
export function chromiumPath(): string {
  const found = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((candidate) => existsSync(candidate));
  if (!found) throw new Error('chromium is not installed: run scripts/install-system-deps.sh');
  return found;
}

export const launchChromium = (): Promise<Browser> =>
  puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    // The CI container runs as root, where Chromium's sandbox cannot start.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });

/**
 * A second API process in front of the stack's database and Temporal, on a port of its own, so a
 * test can stop and start it as a restart would while the stack's worker keeps running orders.
 */
export class BoardApi {
  private server: http.Server | undefined;
  private closeApp: (() => Promise<void>) | undefined;
  port = 0;

  constructor(private readonly stack: TestStack) {}

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const { stack } = this;
    const { app, close } = createApp({
      config: stack.config,
      db: stack.db,
      logger: stack.logger,
      metrics: stack.metrics,
      temporal: stack.client,
      readiness: { postgres: () => pingDb(stack.db) },
    });
    const server = http.createServer(app.callback());
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    this.closeApp = close;
  }

  async stop(): Promise<void> {
    await this.closeApp?.();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }
}

export async function screenshotAll(pages: Page[], title: string): Promise<string[]> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const base = title.replace(/[^a-z0-9]+/gi, '-').slice(0, 80);
  const saved: string[] = [];
  for (const [index, page] of pages.entries()) {
    if (page.isClosed()) continue;
    const file = path.join(SCREENSHOT_DIR, `${base}-${index + 1}.png`);
    await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
    saved.push(file);
  }
  return saved;
}

/** A signed-in board on the café `businessId`, in a browser context of its own (its own sessionStorage). */
export async function openBoard(browser: Browser, baseUrl: string, user: { email: string; password: string }) {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${String(error)}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  await page.setViewport({ width: 1024, height: 768 });
  await page.goto(`${baseUrl}/board`, { waitUntil: 'networkidle0' });
  await page.type('#email', user.email);
  await page.type('#password', user.password);
  await page.keyboard.press('Enter');
  return { page, problems, context };
}

/** Picks the café and waits for its live feed; `live` is the word for it in the café's language. */
export async function chooseCafe(page: Page, businessId: string, live = 'En vivo'): Promise<void> {
  const button = await page.waitForSelector(`#cafe-list button[data-business-id="${businessId}"]`, { visible: true });
  await button!.click();
  await connectionShows(page, live);
}

// Page functions are given as source text: they run in the browser, and this project compiles without DOM types.
export const connectionShows = (page: Page, text: string) =>
  page.waitForFunction(`document.querySelector('#connection')?.textContent === ${JSON.stringify(text)}`, { timeout: 20_000 });

export const isHidden = (page: Page, selector: string) =>
  page.evaluate(`document.querySelector(${JSON.stringify(selector)}).hidden`) as Promise<boolean>;

const cardSelector = (orderId: string, column?: string) =>
  `${column ? `[data-column="${column}"] ` : ''}.card[data-order-id="${orderId}"]`;

export async function waitForCard(page: Page, orderId: string, column: string) {
  return page.waitForSelector(cardSelector(orderId, column), { visible: true, timeout: 20_000 });
}

export async function waitForNoCard(page: Page, orderId: string) {
  await page.waitForFunction(`!document.querySelector(${JSON.stringify(cardSelector(orderId))})`, { timeout: 20_000 });
}

export async function press(page: Page, orderId: string, action: string): Promise<void> {
  await page.click(`${cardSelector(orderId)} button[data-action="${action}"]`);
}

/** What a screen shows: for each column, the order ids in it. */
export const columnsOf = (page: Page) =>
  page.evaluate(`Object.fromEntries(
    [...document.querySelectorAll('[data-column]')].map((column) => [
      column.dataset.column,
      [...column.querySelectorAll('.card')].map((card) => card.dataset.orderId).sort(),
    ]),
  )`) as Promise<Record<string, string[]>>;
