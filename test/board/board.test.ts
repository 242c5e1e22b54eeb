import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { Browser, Page } from 'puppeteer-core';
import { addMember, registerUser, type TestUser } from '../support/fixtures';
import { httpClient, type HttpClient } from '../support/http';
import { act, eventually, openCafe, orderWithStatus, pay, type Cafe } from '../support/orders';
import { startStack, type TestStack } from '../support/stack';
import {
  BoardApi,
  chooseCafe,
  columnsOf,
  connectionShows,
  isHidden,
  launchChromium,
  openBoard,
  press,
  screenshotAll,
  waitForCard,
  waitForNoCard,
} from './board-harness';
import { openStream } from './sse';

/** A paid-for order with a pickup name and notes, as a customer places it. */
async function placeOrder(api: HttpClient, customer: TestUser, cafe: Cafe, pickupName = 'Lucía') {
  const res = await api.post(
    `/v1/businesses/${cafe.id}/orders`,
    { items: [{ productId: cafe.products[0]!.id, quantity: 2 }], pickupName, notes: 'sin azúcar' },
    { token: customer.token, headers: { 'idempotency-key': randomUUID() } },
  );
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  return res.body as { id: string; payment: { preferenceId: string } };
}

describe('staff board in Chromium', () => {
  let stack: TestStack;
  let api: HttpClient;
  let board: BoardApi;
  let browser: Browser;
  let pages: Page[] = [];

  before(async () => {
    stack = await startStack({ name: 'board', env: { RATE_LIMIT_PER_MINUTE: '100000', STREAM_MAX_PER_USER: '10' } });
    api = httpClient(stack.baseUrl);
    board = new BoardApi(stack);
    await board.start();
    browser = await launchChromium();
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed') {
      const saved = await screenshotAll(pages, this.currentTest.fullTitle());
      console.log(`board screenshots: ${saved.join(', ')}`);
    }
    for (const page of pages)
      await page
        .browserContext()
        .close()
        .catch(() => undefined);
    pages = [];
  });
  after(async () => {
    await browser?.close();
    await board?.stop();
    await stack?.stop();
  });

  async function signedInBoard(user: TestUser, cafe: Cafe, live?: string) {
    const screen = await openBoard(browser, board.url, user);
    pages.push(screen.page);
    await chooseCafe(screen.page, cafe.id, live);
    return screen;
  }

  it('when an order is paid, then it appears on the board and the buttons take it to completed while the customer stream follows', async () => {
    const cafe = await openCafe(api);
    const customer = await registerUser(api, 'Customer');
    const { page, problems } = await signedInBoard(cafe.owner, cafe);
    expect(await page.$eval('html', (html) => html.lang)).to.equal('es');
    expect(await page.$eval('#col-paid-title', (heading) => heading.textContent)).to.contain('Pagados');

    const order = await placeOrder(api, customer, cafe);
    const { sse } = await openStream(stack.baseUrl, `/v1/orders/${order.id}/stream`, customer.token);
    await pay(stack, order.payment.preferenceId);
    const card = await waitForCard(page, order.id, 'paid');
    const text = await card!.evaluate((node) => node.textContent ?? '');
    expect(text).to.contain('Retira: Lucía').and.contain('2 ×').and.contain('Notas: sin azúcar').and.contain('Pagado');
    expect(text).to.match(/Aceptar antes de las/);

    // Keyboard: the accept button takes focus and Enter presses it.
    await page.focus(`.card[data-order-id="${order.id}"] button[data-action="accept"]`);
    await page.keyboard.press('Enter');
    await waitForCard(page, order.id, 'preparing');
    await press(page, order.id, 'ready');
    await waitForCard(page, order.id, 'ready');
    await press(page, order.id, 'complete');
    await waitForNoCard(page, order.id);

    const streamed = await sse.toEnd();
    const statuses = streamed.filter((m) => m.event === 'order').map((m) => m.data.order.status);
    expect(statuses).to.deep.equal(['pending_payment', 'paid', 'preparing', 'ready', 'completed']);
    const events = await stack.db('orderEvents').where({ orderId: order.id }).orderBy('seq');
    expect(events.map((event: { type: string }) => event.type)).to.deep.equal([
      'placed',
      'payment_approved',
      'accept',
      'ready',
      'complete',
    ]);
    expect(events.slice(2).map((event: { data: { actor: { userId: string } } }) => event.data.actor.userId)).to.deep.equal([
      cafe.owner.id,
      cafe.owner.id,
      cafe.owner.id,
    ]);
    expect(problems, 'no script errors or CSP violations').to.deep.equal([]);
  });

  it("when the café writes in Portuguese, then its board does too, down to the order's card", async () => {
    const cafe = await openCafe(api, { name: 'Café Paulista', currency: 'BRL', timeZone: 'America/Sao_Paulo', locale: 'pt-BR' });
    const customer = await registerUser(api, 'Customer');
    const { page } = await signedInBoard(cafe.owner, cafe, 'Ao vivo');

    expect(await page.$eval('html', (html) => html.lang)).to.equal('pt-BR');
    expect(await page.$eval('#col-paid-title', (heading) => heading.textContent)).to.contain('Pagos');
    expect(await page.$eval('#col-preparing-title', (heading) => heading.textContent)).to.contain('Em preparo');
    const order = await placeOrder(api, customer, cafe, 'João');
    await pay(stack, order.payment.preferenceId);
    const card = await waitForCard(page, order.id, 'paid');
    expect(await card!.$eval('button[data-action="accept"]', (button) => button.textContent)).to.equal('Aceitar');
  });

  it('when two screens are open on the same café, then an accept on one and a cancel with a reason on the other show on both', async () => {
    const cafe = await openCafe(api);
    const barista = await registerUser(api, 'Barista');
    await addMember(api, cafe.owner, cafe.id, barista, 'staff');
    const customer = await registerUser(api, 'Customer');
    const first = await signedInBoard(cafe.owner, cafe);
    const second = await signedInBoard(barista, cafe);
    const [kept, cancelled] = [await placeOrder(api, customer, cafe, 'Ana'), await placeOrder(api, customer, cafe, 'Beto')];
    await pay(stack, kept.payment.preferenceId);
    await pay(stack, cancelled.payment.preferenceId);
    for (const { page } of [first, second]) {
      await waitForCard(page, kept.id, 'paid');
      await waitForCard(page, cancelled.id, 'paid');
    }

    await press(first.page, kept.id, 'accept');
    // The second screen follows before its own action, so the click lands where the card now is.
    await waitForCard(second.page, kept.id, 'preparing');
    await press(second.page, cancelled.id, 'cancel');
    await second.page.waitForSelector('#cancel-dialog[open]');
    await second.page.type('#cancel-reason', 'Se terminó la leche');
    await second.page.click('#cancel-confirm');

    for (const { page } of [first, second]) {
      await waitForCard(page, kept.id, 'preparing');
      await waitForNoCard(page, cancelled.id);
    }
    expect(await columnsOf(first.page)).to.deep.equal(await columnsOf(second.page));
    expect(await columnsOf(first.page)).to.deep.equal({ paid: [], preparing: [kept.id], ready: [] });
    const gone = await eventually(
      () => api.get(`/v1/orders/${cancelled.id}`, { token: customer.token }),
      (res) => ['cancelled', 'refunded'].includes(res.body.status),
    );
    expect(gone.body.cancelReason).to.equal('Se terminó la leche');
  });

  it('when the API restarts while orders change, then the board reconnects and shows each card once, where it now is', async () => {
    const cafe = await openCafe(api);
    const customer = await registerUser(api, 'Customer');
    const { page } = await signedInBoard(cafe.owner, cafe);
    const moved = await placeOrder(api, customer, cafe, 'Carla');
    await pay(stack, moved.payment.preferenceId);
    await waitForCard(page, moved.id, 'paid');

    await board.stop();
    await connectionShows(page, 'Reconectando…');
    expect((await act(api, cafe.owner, moved.id, 'accept')).status).to.equal(200);
    const arrived = await placeOrder(api, customer, cafe, 'Dani');
    await pay(stack, arrived.payment.preferenceId);
    await orderWithStatus(api, customer, arrived.id, 'paid');
    await board.start();

    await waitForCard(page, moved.id, 'preparing');
    await waitForCard(page, arrived.id, 'paid');
    await connectionShows(page, 'En vivo');
    expect(await columnsOf(page)).to.deep.equal({ paid: [arrived.id], preparing: [moved.id], ready: [] });
  });

  it("when a customer's account signs in, then the board refuses it with a clear message and shows no orders", async () => {
    const customer = await registerUser(api, 'Customer');
    const { page } = await openBoard(browser, board.url, customer);
    pages.push(page);

    await page.waitForSelector('#message:not([hidden])', { visible: true });
    expect(await page.$eval('#message', (node) => node.textContent)).to.contain('no es del personal de ningún café');
    expect(await isHidden(page, '#board-view')).to.equal(true);
    expect(await isHidden(page, '#login-view')).to.equal(false);
    expect(await page.evaluate('sessionStorage.length'), 'the session is dropped').to.equal(0);
  });

  it('when /board is served, then its Content-Security-Policy allows only its own origin', async () => {
    const res = await fetch(`${board.url}/board`);
    const csp = res.headers.get('content-security-policy') ?? '';

    expect(res.status).to.equal(200);
    expect(csp).to.contain("default-src 'self'").and.contain("script-src 'self'").and.contain("connect-src 'self'");
    expect(csp).not.to.match(/unsafe-inline|unsafe-eval|https:|data:|\*/);
    for (const path of ['/board/..%2Fpackage.json', '/board/index.html', '/board/constructor']) {
      const missing = await fetch(`${board.url}${path}`);
      expect(missing.status, path).to.equal(404);
      expect(((await missing.json()) as { error: { code: string } }).error.code, path).to.equal('ROUTE_NOT_FOUND');
    }
    const assets = [...(await res.text()).matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1] as string);
    expect(assets).to.include.members(['/board/board.css', '/board/board.js', '/board/favicon.svg']);
    for (const asset of assets) expect((await fetch(`${board.url}${asset}`)).status, asset).to.equal(200);
  });
});
