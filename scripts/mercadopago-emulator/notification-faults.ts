import { asRecord, badRequest } from './http';

export const NOTIFICATION_FAULT_TYPES = ['drop', 'duplicate', 'delay', 'bad_signature', 'stale_timestamp', 'hold'] as const;
export type NotificationFaultType = (typeof NOTIFICATION_FAULT_TYPES)[number];

export interface NotificationFaultRule {
  id: number;
  type: NotificationFaultType;
  /** Notifications left to affect; undefined means until cleared (or released, for hold). */
  remaining?: number;
  copies: number;
  delayMs: number;
  ageSeconds: number;
}

/** What to do to the next outgoing notification, one effect per fault type. */
export interface NotificationEffects {
  applied: NotificationFaultType[];
  drop: boolean;
  hold: boolean;
  copies: number;
  delayMs: number;
  signature: 'valid' | 'bad' | 'stale';
  staleSeconds: number;
}

export class NotificationFaults {
  private rules: NotificationFaultRule[] = [];
  private nextId = 1;

  add(raw: unknown): NotificationFaultRule {
    const input = asRecord(raw);
    const type = input.type as NotificationFaultType;
    if (!NOTIFICATION_FAULT_TYPES.includes(type)) {
      throw badRequest(`type must be one of ${NOTIFICATION_FAULT_TYPES.join(', ')}`);
    }
    // "hold" lasts until released; every other fault hits the next notification unless told otherwise.
    const defaultTimes = type === 'hold' ? undefined : 1;
    const rule: NotificationFaultRule = {
      id: this.nextId++,
      type,
      remaining: input.times === undefined ? defaultTimes : positive(input.times, 'times'),
      copies: input.copies === undefined ? 2 : positive(input.copies, 'copies'),
      delayMs: input.delayMs === undefined ? 1000 : positive(input.delayMs, 'delayMs'),
      ageSeconds: input.ageSeconds === undefined ? 3600 : positive(input.ageSeconds, 'ageSeconds'),
    };
    this.rules.push(rule);
    return rule;
  }

  /** Consumes one use of the first active rule of each type. */
  take(): NotificationEffects {
    const effects: NotificationEffects = {
      applied: [],
      drop: false,
      hold: false,
      copies: 1,
      delayMs: 0,
      signature: 'valid',
      staleSeconds: 0,
    };
    for (const type of NOTIFICATION_FAULT_TYPES) {
      const rule = this.rules.find((r) => r.type === type && (r.remaining === undefined || r.remaining > 0));
      if (!rule) continue;
      if (rule.remaining !== undefined) rule.remaining--;
      effects.applied.push(type);
      applyRule(effects, rule);
    }
    this.rules = this.rules.filter((r) => r.remaining === undefined || r.remaining > 0);
    return effects;
  }

  stopHolding(): void {
    this.rules = this.rules.filter((r) => r.type !== 'hold');
  }

  list(): NotificationFaultRule[] {
    return [...this.rules];
  }

  clear(): void {
    this.rules = [];
  }
}

function applyRule(effects: NotificationEffects, rule: NotificationFaultRule): void {
  switch (rule.type) {
    case 'drop':
      effects.drop = true;
      break;
    case 'hold':
      effects.hold = true;
      break;
    case 'duplicate':
      effects.copies = rule.copies;
      break;
    case 'delay':
      effects.delayMs = rule.delayMs;
      break;
    case 'bad_signature':
      effects.signature = 'bad';
      break;
    case 'stale_timestamp':
      if (effects.signature === 'valid') effects.signature = 'stale';
      effects.staleSeconds = rule.ageSeconds;
      break;
  }
}

function positive(value: unknown, field: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw badRequest(`${field} must be a positive integer`);
  return n;
}
