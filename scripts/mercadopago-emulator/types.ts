/** Internal records. Money is integer minor units of the currency everywhere; render.ts converts at the JSON edge. */

export const PAYMENT_STATUSES = [
  'pending',
  'approved',
  'authorized',
  'in_process',
  'in_mediation',
  'rejected',
  'cancelled',
  'refunded',
  'charged_back',
] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

/** The status_detail MercadoPago reports by default for each status. */
export const DEFAULT_STATUS_DETAIL: Record<PaymentStatus, string> = {
  pending: 'pending_waiting_payment',
  approved: 'accredited',
  authorized: 'pending_capture',
  in_process: 'pending_contingency',
  in_mediation: 'in_process',
  rejected: 'cc_rejected_other_reason',
  cancelled: 'by_collector',
  refunded: 'refunded',
  charged_back: 'settled',
};

export interface StoredItem {
  id: string;
  title: string;
  description: string;
  categoryId: string;
  pictureUrl?: string;
  quantity: number;
  unitPriceMinor: number;
  currencyId: string;
}

export interface BackUrls {
  success?: string;
  pending?: string;
  failure?: string;
}

export interface StoredPreference {
  id: string;
  items: StoredItem[];
  externalReference: string;
  notificationUrl?: string;
  backUrls: BackUrls;
  autoReturn: string;
  binaryMode: boolean;
  expires: boolean;
  expirationDateFrom?: string;
  expirationDateTo?: string;
  dateOfExpiration?: string;
  statementDescriptor?: string;
  metadata: Record<string, unknown>;
  payer: Record<string, unknown>;
  dateCreated: number;
  merchantOrderId?: number;
}

export interface StoredRefund {
  id: number;
  paymentId: number;
  amountMinor: number;
  currencyId: string;
  dateCreated: number;
  /** Who asked for it: our API (`collector`) or the provider side via the control endpoint. */
  sourceType: 'collector' | 'admin';
}

export interface StoredPayment {
  id: number;
  preferenceId: string;
  merchantOrderId: number;
  externalReference: string;
  status: PaymentStatus;
  statusDetail: string;
  amountMinor: number;
  currencyId: string;
  description: string;
  items: StoredItem[];
  paymentMethodId: string;
  paymentTypeId: string;
  payerEmail: string;
  notificationUrl?: string;
  metadata: Record<string, unknown>;
  dateCreated: number;
  dateApproved?: number;
  dateLastUpdated: number;
  refunds: StoredRefund[];
}

export interface StoredMerchantOrder {
  id: number;
  preferenceId: string;
  externalReference: string;
  notificationUrl?: string;
  items: StoredItem[];
  dateCreated: number;
  lastUpdated: number;
  paymentIds: number[];
}

export type EmulatorLog = (event: string, details?: Record<string, unknown>) => void;
