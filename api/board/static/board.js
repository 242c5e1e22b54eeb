/* global document, AbortController, setTimeout, setInterval, URLSearchParams -- runs in the browser */
import { Api, ApiError } from './api.js';
import { ACTIONS, renderCard, updateTiming } from './cards.js';
import { readEventStream } from './event-stream.js';
import { setLocale, t } from './i18n.js';

const COLUMNS = Object.keys(ACTIONS);
// Statuses only move forward; a stale answer (an older read finishing last) never moves a card back.
const RANK = { pending_payment: 0, paid: 1, preparing: 2, ready: 3, completed: 4, cancelled: 4, expired: 4, refunded: 4 };
const MAX_BACKOFF_MS = 10_000;

const api = new Api();
const $ = (selector) => document.querySelector(selector);
const views = { login: $('#login-view'), cafe: $('#cafe-view'), board: $('#board-view') };

/** Orders by id, with the rank of the newest status seen, for the current connection only. */
let orders = new Map();
let cafe = null;
let connection = null;

function show(view) {
  for (const [name, section] of Object.entries(views)) section.hidden = name !== view;
  $('#sign-out').hidden = view === 'login';
  $('#change-cafe').hidden = view !== 'board';
  if (view !== 'board') $('#connection').textContent = '';
}

function say(text) {
  const message = $('#message');
  message.textContent = text ?? '';
  message.hidden = !text;
}

function describe(error) {
  if (!(error instanceof ApiError)) return t('failed');
  if (error.code === 'INVALID_TRANSITION') return t('actionRefused', { status: t(`status_${error.details?.status}`) });
  if (error.code === 'TOO_MANY_STREAMS') return t('tooManyStreams');
  if (error.code === 'INVALID_CREDENTIALS' || error.status === 401) return t('wrongCredentials');
  return error.message || t('failed');
}

async function signIn(event) {
  event.preventDefault();
  say('');
  const form = event.target;
  try {
    await api.login(form.email.value.trim(), form.password.value);
    form.password.value = '';
    await pickCafe();
  } catch (error) {
    say(describe(error));
  }
}

async function signOut() {
  stopBoard();
  cafe = null;
  await api.logout();
  setLocale('es');
  show('login');
  $('#email').focus();
}

/** Only staff get a board: an account with no café (a customer's) is refused and signed out. */
async function pickCafe() {
  let cafes;
  try {
    cafes = (await api.request('GET', '/v1/businesses')).data;
  } catch (error) {
    return sessionOver(error);
  }
  if (cafes.length === 0) {
    await api.logout();
    show('login');
    say(t('notStaff'));
    return;
  }
  const list = $('#cafe-list');
  list.replaceChildren(
    ...cafes.map((business) => {
      const item = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = business.name;
      button.dataset.businessId = business.id;
      button.addEventListener('click', () => openBoard(business));
      item.append(button);
      return item;
    }),
  );
  show('cafe');
  list.querySelector('button').focus();
}

function sessionOver(error) {
  stopBoard();
  api.save(null);
  show('login');
  say(error instanceof ApiError && error.status === 401 ? t('sessionExpired') : describe(error));
}

function openBoard(business) {
  cafe = business;
  setLocale(business.locale);
  $('#cafe-name').textContent = business.name;
  say('');
  show('board');
  connect();
}

function stopBoard() {
  connection?.abort();
  connection = null;
  orders = new Map();
  render();
}

/**
 * One live connection at a time, reconnecting with backoff. Every (re)connection reads the
 * columns afresh once the stream is open, so nothing that changed while it was down is lost,
 * and cards are keyed by order id, so nothing shows twice.
 */
async function connect() {
  connection?.abort();
  const controller = new AbortController();
  connection = controller;
  let backoff = 1000;
  while (!controller.signal.aborted) {
    const current = new Map();
    let loaded = false;
    const pending = [];
    try {
      await readEventStream(api, `/v1/businesses/${cafe.id}/orders/stream`, {
        signal: controller.signal,
        onOpen: async () => {
          orders = current;
          await loadColumns(current);
          loaded = true;
          backoff = 1000;
          $('#connection').textContent = t('live');
          render();
          for (const orderId of pending.splice(0)) void refreshOrder(current, orderId);
        },
        onEvent: ({ event, data }) => {
          if (event === 'order') {
            if (loaded) void refreshOrder(current, data.orderId);
            else pending.push(data.orderId);
          } else if (event === 'end' && data.reason === 'ACCESS_REVOKED') {
            throw new ApiError(404, 'NOT_FOUND', t('notStaffHere'));
          }
        },
      });
    } catch (error) {
      if (controller.signal.aborted) return;
      if (error instanceof ApiError && error.status === 401) {
        try {
          await api.refresh();
          continue;
        } catch (refreshError) {
          return sessionOver(refreshError);
        }
      }
      if (error instanceof ApiError && error.status === 404) {
        stopBoard();
        say(t('notStaffHere'));
        return pickCafe();
      }
      if (error instanceof ApiError && error.code === 'TOO_MANY_STREAMS') say(t('tooManyStreams'));
    }
    if (controller.signal.aborted) return;
    $('#connection').textContent = t('reconnecting');
    await new Promise((resolve) => setTimeout(resolve, backoff));
    backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
  }
}

async function loadColumns(into) {
  for (const status of COLUMNS) {
    let cursor = null;
    do {
      const query = new URLSearchParams({ status, limit: '100', ...(cursor ? { cursor } : {}) });
      const page = await api.request('GET', `/v1/businesses/${cafe.id}/orders?${query}`);
      for (const order of page.data) keep(into, order);
      cursor = page.nextCursor;
    } while (cursor);
  }
}

function keep(into, order) {
  const known = into.get(order.id);
  if (known && RANK[known.status] > RANK[order.status]) return false;
  into.set(order.id, order);
  return true;
}

async function refreshOrder(into, orderId) {
  try {
    const order = await api.request('GET', `/v1/orders/${orderId}`);
    if (into === orders && keep(into, order)) render();
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 404) say(describe(error));
  }
}

/** The node drawn for each order, reused while what it shows is unchanged. */
const drawn = new Map();

function cardFor(order) {
  const key = JSON.stringify([order.status, order.paidAt, order.acceptDeadline, order.pickupName, order.notes, order.items]);
  const known = drawn.get(order.id);
  if (known?.key === key) return known.node;
  const node = renderCard(order, act);
  drawn.set(order.id, { key, node });
  return node;
}

/**
 * Redraws the columns, oldest payment first. Only a column whose cards changed is touched, so a
 * change made on another screen never swaps a button out from under a finger or the keyboard;
 * focus follows its card to the next column.
 */
function render() {
  const focused = document.activeElement?.closest?.('.card')?.dataset.orderId;
  for (const id of drawn.keys()) if (!orders.has(id)) drawn.delete(id);
  for (const status of COLUMNS) {
    const column = document.querySelector(`[data-column="${status}"]`);
    const nodes = [...orders.values()]
      .filter((order) => order.status === status)
      .sort((a, b) => Date.parse(a.paidAt ?? a.placedAt) - Date.parse(b.paidAt ?? b.placedAt))
      .map(cardFor);
    const same = nodes.length === column.children.length && nodes.every((node, index) => column.children[index] === node);
    if (!same) column.replaceChildren(...nodes);
    document.querySelector(`[data-count="${status}"]`).textContent = String(nodes.length);
  }
  if (focused && !document.activeElement?.closest?.('.card')) {
    document.querySelector(`.card[data-order-id="${focused}"] button`)?.focus();
  }
}

async function act(order, action, button) {
  const reason = action === 'cancel' ? await askReason() : undefined;
  if (action === 'cancel' && !reason) return;
  button.disabled = true;
  try {
    const updated = await api.request('POST', `/v1/orders/${order.id}/actions/${action}`, reason ? { reason } : {});
    say('');
    if (keep(orders, updated)) render();
  } catch (error) {
    say(describe(error));
    button.disabled = false;
    if (error instanceof ApiError && error.code === 'INVALID_TRANSITION') void refreshOrder(orders, order.id);
  }
}

/** The reason for a cancellation, or null when staff go back; Escape also goes back. */
function askReason() {
  const dialog = $('#cancel-dialog');
  const field = $('#cancel-reason');
  field.value = '';
  dialog.returnValue = '';
  dialog.showModal();
  field.focus();
  return new Promise((resolve) => {
    dialog.addEventListener(
      'close',
      () => resolve(dialog.returnValue === 'confirm' && field.value.trim() ? field.value.trim() : null),
      { once: true },
    );
  });
}

$('#cancel-back').addEventListener('click', () => $('#cancel-dialog').close(''));
$('#cancel-form').addEventListener('submit', (event) => {
  event.preventDefault();
  if ($('#cancel-reason').value.trim()) $('#cancel-dialog').close('confirm');
});
$('#login-form').addEventListener('submit', signIn);
$('#sign-out').addEventListener('click', () => void signOut());
$('#change-cafe').addEventListener('click', () => {
  stopBoard();
  void pickCafe();
});
setInterval(() => {
  for (const card of document.querySelectorAll('.card')) updateTiming(card, orders.get(card.dataset.orderId));
}, 15_000);

setLocale('es');
if (api.signedIn) void pickCafe();
else {
  show('login');
  $('#email').focus();
}
