/* global document -- runs in the browser */
// The board's words, in the same languages as the customer emails. A café's `locale` picks one; Spanish otherwise.
const DICTIONARIES = {
  es: {
    title: 'Tablero de pedidos',
    signInTitle: 'Ingresar',
    email: 'Correo electrónico',
    password: 'Contraseña',
    signIn: 'Ingresar',
    signOut: 'Salir',
    changeCafe: 'Cambiar de café',
    pickCafe: 'Elegí un café',
    columnPaid: 'Pagados',
    columnPreparing: 'En preparación',
    columnReady: 'Listos',
    accept: 'Aceptar',
    ready: 'Listo',
    complete: 'Entregado',
    cancel: 'Cancelar',
    cancelTitle: 'Cancelar pedido',
    cancelReason: 'Motivo (lo verá el cliente)',
    cancelBack: 'Volver',
    cancelConfirm: 'Cancelar pedido',
    paidAgo: 'Pagado {time}',
    acceptBy: 'Aceptar antes de las {time}',
    acceptLate: 'Venció el plazo para aceptar',
    pickup: 'Retira: {name}',
    notes: 'Notas: {notes}',
    orderNumber: 'Pedido {number}',
    live: 'En vivo',
    reconnecting: 'Reconectando…',
    wrongCredentials: 'Correo o contraseña incorrectos.',
    notStaff: 'Esta cuenta no es del personal de ningún café: el tablero es solo para el personal.',
    notStaffHere: 'Esta cuenta ya no es del personal de este café.',
    sessionExpired: 'La sesión venció; ingresá de nuevo.',
    tooManyStreams: 'Hay demasiados tableros abiertos con esta cuenta; cerrá alguno.',
    actionRefused: 'No se pudo: el pedido ya está {status}.',
    failed: 'Algo falló; probá de nuevo.',
    status_paid: 'pagado',
    status_preparing: 'en preparación',
    status_ready: 'listo',
    status_completed: 'entregado',
    status_cancelled: 'cancelado',
    status_expired: 'vencido',
    status_refunded: 'reembolsado',
    status_pending_payment: 'esperando el pago',
  },
  'pt-BR': {
    title: 'Painel de pedidos',
    signInTitle: 'Entrar',
    email: 'E-mail',
    password: 'Senha',
    signIn: 'Entrar',
    signOut: 'Sair',
    changeCafe: 'Trocar de café',
    pickCafe: 'Escolha um café',
    columnPaid: 'Pagos',
    columnPreparing: 'Em preparo',
    columnReady: 'Prontos',
    accept: 'Aceitar',
    ready: 'Pronto',
    complete: 'Entregue',
    cancel: 'Cancelar',
    cancelTitle: 'Cancelar pedido',
    cancelReason: 'Motivo (o cliente verá)',
    cancelBack: 'Voltar',
    cancelConfirm: 'Cancelar pedido',
    paidAgo: 'Pago {time}',
    acceptBy: 'Aceitar até {time}',
    acceptLate: 'O prazo para aceitar venceu',
    pickup: 'Retira: {name}',
    notes: 'Observações: {notes}',
    orderNumber: 'Pedido {number}',
    live: 'Ao vivo',
    reconnecting: 'Reconectando…',
    wrongCredentials: 'E-mail ou senha incorretos.',
    notStaff: 'Esta conta não é da equipe de nenhum café: o painel é só para a equipe.',
    notStaffHere: 'Esta conta não é mais da equipe deste café.',
    sessionExpired: 'A sessão expirou; entre de novo.',
    tooManyStreams: 'Há painéis demais abertos com esta conta; feche algum.',
    actionRefused: 'Não foi possível: o pedido já está {status}.',
    failed: 'Algo deu errado; tente de novo.',
    status_paid: 'pago',
    status_preparing: 'em preparo',
    status_ready: 'pronto',
    status_completed: 'entregue',
    status_cancelled: 'cancelado',
    status_expired: 'expirado',
    status_refunded: 'reembolsado',
    status_pending_payment: 'aguardando o pagamento',
  },
  en: {
    title: 'Order board',
    signInTitle: 'Sign in',
    email: 'Email',
    password: 'Password',
    signIn: 'Sign in',
    signOut: 'Sign out',
    changeCafe: 'Change café',
    pickCafe: 'Pick a café',
    columnPaid: 'Paid',
    columnPreparing: 'Preparing',
    columnReady: 'Ready',
    accept: 'Accept',
    ready: 'Ready',
    complete: 'Picked up',
    cancel: 'Cancel',
    cancelTitle: 'Cancel order',
    cancelReason: 'Reason (the customer will see it)',
    cancelBack: 'Back',
    cancelConfirm: 'Cancel order',
    paidAgo: 'Paid {time}',
    acceptBy: 'Accept by {time}',
    acceptLate: 'The time to accept is over',
    pickup: 'Pickup: {name}',
    notes: 'Notes: {notes}',
    orderNumber: 'Order {number}',
    live: 'Live',
    reconnecting: 'Reconnecting…',
    wrongCredentials: 'Wrong email or password.',
    notStaff: 'This account is not staff of any café: the board is for staff only.',
    notStaffHere: 'This account is no longer staff of this café.',
    sessionExpired: 'Your session expired; sign in again.',
    tooManyStreams: 'Too many boards are open with this account; close one.',
    actionRefused: 'Not possible: the order is already {status}.',
    failed: 'Something went wrong; try again.',
    status_paid: 'paid',
    status_preparing: 'preparing',
    status_ready: 'ready',
    status_completed: 'picked up',
    status_cancelled: 'cancelled',
    status_expired: 'expired',
    status_refunded: 'refunded',
    status_pending_payment: 'waiting for payment',
  },
};

export const DEFAULT_LOCALE = 'es';
let current = DEFAULT_LOCALE;

export function setLocale(locale) {
  current = Object.hasOwn(DICTIONARIES, locale ?? '') ? locale : DEFAULT_LOCALE;
  document.documentElement.lang = current;
  for (const element of document.querySelectorAll('[data-i18n]')) element.textContent = t(element.dataset.i18n);
  document.title = `${t('title')} · cafe-flow`;
}

export const locale = () => current;

/** The text for `key` with `{name}` placeholders filled in. */
export function t(key, values = {}) {
  const text = DICTIONARIES[current][key] ?? DICTIONARIES[DEFAULT_LOCALE][key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ''));
}

export function timeAgo(iso, now = Date.now()) {
  const minutes = Math.round((Date.parse(iso) - now) / 60_000);
  return new Intl.RelativeTimeFormat(current, { numeric: 'auto' }).format(minutes, 'minute');
}

export const clock = (iso) => new Intl.DateTimeFormat(current, { hour: '2-digit', minute: '2-digit' }).format(new Date(iso));
