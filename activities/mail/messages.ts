import type { MailKind, MailPayload } from './order-mail';

export const MAIL_LOCALES = ['es', 'pt-BR', 'en'] as const;
export type MailLocale = (typeof MAIL_LOCALES)[number];

/** A mail's words, before any markup: the text part prints them as they are, the HTML part escapes them. */
export interface MailWords {
  subject: string;
  heading: string;
  paragraphs: string[];
  /** The receipt's table: column titles; the rows come from the order's items. */
  table?: { item: string; quantity: string; unitPrice: string; amount: string; total: string };
  footer: string;
}

type Money = (minor: number) => string;
type Phrases = Record<MailKind, (p: MailPayload, money: Money) => Omit<MailWords, 'footer'>> & {
  footer: (p: MailPayload) => string;
  optOut: string;
  reasons: Record<string, string>;
};

const pickup = (p: MailPayload) => p.pickupName ?? p.customerName;

const es: Phrases = {
  receipt: (p, money) => ({
    subject: `${p.cafeName}: recibo de tu pedido #${p.orderNumber}`,
    heading: `¡Gracias, ${pickup(p)}! Recibimos tu pago.`,
    paragraphs: [`Pedido #${p.orderNumber}, a retirar a nombre de ${pickup(p)}.`, `Total pagado: ${money(p.totalMinor)}.`],
    table: { item: 'Producto', quantity: 'Cant.', unitPrice: 'Precio unitario', amount: 'Importe', total: 'Total' },
  }),
  ready: (p) => ({
    subject: `${p.cafeName}: tu pedido #${p.orderNumber} está listo`,
    heading: `¡${pickup(p)}, tu pedido está listo!`,
    paragraphs: [`Pasá a retirar el pedido #${p.orderNumber} por el mostrador de ${p.cafeName}.`],
  }),
  cancelled: (p, money) => ({
    subject: `${p.cafeName}: tu pedido #${p.orderNumber} fue cancelado`,
    heading: `Tu pedido #${p.orderNumber} fue cancelado.`,
    paragraphs: [
      p.paid
        ? `Ya habías pagado: te devolvemos ${money(p.totalMinor)} al mismo medio de pago. Te avisaremos cuando el reembolso esté hecho.`
        : 'No se te cobró nada.',
    ],
  }),
  expired: (p) => ({
    subject: `${p.cafeName}: tu pedido #${p.orderNumber} venció sin pago`,
    heading: 'Tu pedido venció porque el pago no llegó a tiempo.',
    paragraphs: ['No se te cobró nada. Si todavía lo querés, podés hacer un pedido nuevo.'],
  }),
  refunded: (p, money) => ({
    subject: `${p.cafeName}: reembolso del pedido #${p.orderNumber}`,
    heading: 'Te devolvimos tu dinero.',
    paragraphs: [
      p.refundedMinor != null
        ? `Reembolsamos ${money(p.refundedMinor)} del pedido #${p.orderNumber} al mismo medio de pago.`
        : `Reembolsamos un pago (n.º ${p.paymentId ?? '-'}) que no correspondía al pedido #${p.orderNumber}, al mismo medio de pago.`,
      'Según tu banco o tarjeta, puede tardar unos días en verse.',
    ],
  }),
  footer: (p) => `${p.cafeName} · pedido ${p.orderId}`,
  optOut: 'Podés dejar de recibir avisos de "pedido listo" desde tu cuenta.',
  reasons: {
    not_accepted_in_time: 'El café no pudo aceptar el pedido a tiempo.',
    payment_setup_failed: 'No pudimos preparar el pago.',
  },
};

const ptBR: Phrases = {
  receipt: (p, money) => ({
    subject: `${p.cafeName}: recibo do seu pedido #${p.orderNumber}`,
    heading: `Obrigado, ${pickup(p)}! Recebemos o seu pagamento.`,
    paragraphs: [`Pedido #${p.orderNumber}, para retirar em nome de ${pickup(p)}.`, `Total pago: ${money(p.totalMinor)}.`],
    table: { item: 'Produto', quantity: 'Qtd.', unitPrice: 'Preço unitário', amount: 'Valor', total: 'Total' },
  }),
  ready: (p) => ({
    subject: `${p.cafeName}: seu pedido #${p.orderNumber} está pronto`,
    heading: `${pickup(p)}, seu pedido está pronto!`,
    paragraphs: [`Retire o pedido #${p.orderNumber} no balcão de ${p.cafeName}.`],
  }),
  cancelled: (p, money) => ({
    subject: `${p.cafeName}: seu pedido #${p.orderNumber} foi cancelado`,
    heading: `Seu pedido #${p.orderNumber} foi cancelado.`,
    paragraphs: [
      p.paid
        ? `Você já tinha pago: vamos devolver ${money(p.totalMinor)} no mesmo meio de pagamento. Avisaremos quando o reembolso for concluído.`
        : 'Nada foi cobrado.',
    ],
  }),
  expired: (p) => ({
    subject: `${p.cafeName}: seu pedido #${p.orderNumber} expirou sem pagamento`,
    heading: 'Seu pedido expirou porque o pagamento não chegou a tempo.',
    paragraphs: ['Nada foi cobrado. Se ainda quiser, faça um novo pedido.'],
  }),
  refunded: (p, money) => ({
    subject: `${p.cafeName}: reembolso do pedido #${p.orderNumber}`,
    heading: 'Devolvemos o seu dinheiro.',
    paragraphs: [
      p.refundedMinor != null
        ? `Reembolsamos ${money(p.refundedMinor)} do pedido #${p.orderNumber} no mesmo meio de pagamento.`
        : `Reembolsamos um pagamento (nº ${p.paymentId ?? '-'}) que não correspondia ao pedido #${p.orderNumber}.`,
      'Dependendo do seu banco ou cartão, pode levar alguns dias para aparecer.',
    ],
  }),
  footer: (p) => `${p.cafeName} · pedido ${p.orderId}`,
  optOut: 'Você pode deixar de receber avisos de "pedido pronto" na sua conta.',
  reasons: {
    not_accepted_in_time: 'O café não conseguiu aceitar o pedido a tempo.',
    payment_setup_failed: 'Não conseguimos preparar o pagamento.',
  },
};

const en: Phrases = {
  receipt: (p, money) => ({
    subject: `${p.cafeName}: receipt for your order #${p.orderNumber}`,
    heading: `Thank you, ${pickup(p)}! We received your payment.`,
    paragraphs: [`Order #${p.orderNumber}, for pickup under the name ${pickup(p)}.`, `Total paid: ${money(p.totalMinor)}.`],
    table: { item: 'Item', quantity: 'Qty', unitPrice: 'Unit price', amount: 'Amount', total: 'Total' },
  }),
  ready: (p) => ({
    subject: `${p.cafeName}: your order #${p.orderNumber} is ready`,
    heading: `${pickup(p)}, your order is ready!`,
    paragraphs: [`Pick up order #${p.orderNumber} at the ${p.cafeName} counter.`],
  }),
  cancelled: (p, money) => ({
    subject: `${p.cafeName}: your order #${p.orderNumber} was cancelled`,
    heading: `Your order #${p.orderNumber} was cancelled.`,
    paragraphs: [
      p.paid
        ? `You had already paid: we are refunding ${money(p.totalMinor)} to the same payment method, and will tell you when it is done.`
        : 'You were not charged.',
    ],
  }),
  expired: (p) => ({
    subject: `${p.cafeName}: your order #${p.orderNumber} expired unpaid`,
    heading: 'Your order expired because the payment did not arrive in time.',
    paragraphs: ['You were not charged. If you still want it, place a new order.'],
  }),
  refunded: (p, money) => ({
    subject: `${p.cafeName}: refund for order #${p.orderNumber}`,
    heading: 'We refunded your money.',
    paragraphs: [
      p.refundedMinor != null
        ? `We refunded ${money(p.refundedMinor)} for order #${p.orderNumber} to the same payment method.`
        : `We refunded a payment (no. ${p.paymentId ?? '-'}) that did not belong to order #${p.orderNumber}.`,
      'Depending on your bank or card, it may take a few days to show.',
    ],
  }),
  footer: (p) => `${p.cafeName} · order ${p.orderId}`,
  optOut: 'You can stop "order ready" notices from your account.',
  reasons: {
    not_accepted_in_time: 'The café could not accept the order in time.',
    payment_setup_failed: 'We could not set up the payment.',
  },
};

const PHRASES: Record<MailLocale, Phrases> = { es, 'pt-BR': ptBR, en };

export const isMailLocale = (value: string): value is MailLocale => (MAIL_LOCALES as readonly string[]).includes(value);

/** The words of one mail in the café's language (Spanish when the café's is unknown). */
export function mailWords(kind: MailKind, locale: string, payload: MailPayload, money: Money): MailWords {
  const phrases = PHRASES[isMailLocale(locale) ? locale : 'es'];
  const words = phrases[kind](payload, money);
  const reason = payload.reason ? phrases.reasons[payload.reason] : undefined;
  const paragraphs = kind === 'cancelled' && reason ? [reason, ...words.paragraphs] : words.paragraphs;
  const footer = kind === 'ready' ? `${phrases.footer(payload)}\n${phrases.optOut}` : phrases.footer(payload);
  return { ...words, paragraphs, footer };
}
