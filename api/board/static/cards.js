/* global document -- runs in the browser */
import { clock, t, timeAgo } from './i18n.js';

/** What staff can do in each column; cancel asks for a reason first. */
export const ACTIONS = { paid: ['accept', 'cancel'], preparing: ['ready', 'cancel'], ready: ['complete', 'cancel'] };

export const orderNumber = (order) => order.number ?? order.id.slice(0, 6).toUpperCase();

/**
 * How close the accept deadline is: `alert` in its last fifth (or last minute), `warn` past
 * half of the time, nothing otherwise or once accepted.
 */
export function urgency(order, now = Date.now()) {
  if (order.status !== 'paid' || !order.acceptDeadline || !order.paidAt) return '';
  const deadline = Date.parse(order.acceptDeadline);
  const window = deadline - Date.parse(order.paidAt);
  const left = deadline - now;
  if (left <= Math.max(window / 5, 60_000)) return 'alert';
  if (left <= window / 2) return 'warn';
  return '';
}

const element = (tag, className, text) => {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
};

/** A card built with DOM nodes, never innerHTML: names and notes are the customers' text. */
export function renderCard(order, onAction) {
  const card = element('article', 'card');
  card.dataset.orderId = order.id;
  card.dataset.status = order.status;
  const number = orderNumber(order);
  const title = element('h3', 'number', t('orderNumber', { number }));
  card.setAttribute('aria-label', t('orderNumber', { number }));
  card.append(title);
  if (order.pickupName) card.append(element('p', 'pickup', t('pickup', { name: order.pickupName })));
  const items = element('ul', 'items');
  for (const item of order.items) items.append(element('li', '', `${item.quantity} × ${item.name}`));
  card.append(items);
  if (order.notes) card.append(element('p', 'notes', t('notes', { notes: order.notes })));
  card.append(element('p', 'timing'));
  const buttons = element('div', 'actions');
  for (const action of ACTIONS[order.status] ?? []) {
    const button = element('button', action === 'cancel' ? 'danger' : 'primary', t(action));
    button.type = 'button';
    button.dataset.action = action;
    button.addEventListener('click', () => onAction(order, action, button));
    buttons.append(button);
  }
  card.append(buttons);
  updateTiming(card, order);
  return card;
}

/** Time since payment and the deadline colour change with the clock, not only with events. */
export function updateTiming(card, order, now = Date.now()) {
  const timing = card.querySelector('.timing');
  const parts = [];
  if (order.paidAt) parts.push(t('paidAgo', { time: timeAgo(order.paidAt, now) }));
  if (order.status === 'paid' && order.acceptDeadline) {
    parts.push(Date.parse(order.acceptDeadline) > now ? t('acceptBy', { time: clock(order.acceptDeadline) }) : t('acceptLate'));
  }
  timing.textContent = parts.join(' · ');
  card.classList.remove('warn', 'alert');
  const level = urgency(order, now);
  if (level) card.classList.add(level);
}
