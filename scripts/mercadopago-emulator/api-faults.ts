import { MpHttpError, badRequest, asRecord } from './http';

export interface ApiFaultRule {
  id: number;
  /** Status to answer instead of handling the call; omitted means "only slow". */
  status?: number;
  delayMs: number;
  /** Calls left to affect; undefined means until cleared. */
  remaining?: number;
  pathPattern?: string;
  method?: string;
  retryAfterSeconds?: number;
  hits: number;
}

export interface ApiFaultEffect {
  rule: ApiFaultRule;
  error?: MpHttpError;
}

const ERROR_NAMES: Record<number, string> = {
  429: 'too_many_requests',
  500: 'internal_server_error',
  502: 'bad_gateway',
  503: 'service_unavailable',
  504: 'gateway_timeout',
};

/** Injected API misbehaviour: the next N calls, or calls whose path matches a pattern. */
export class ApiFaults {
  private rules: ApiFaultRule[] = [];
  private nextId = 1;

  add(raw: unknown): ApiFaultRule {
    const input = asRecord(raw);
    const status = input.status === undefined ? undefined : Number(input.status);
    if (status !== undefined && !(Number.isInteger(status) && status >= 400 && status <= 599)) {
      throw badRequest('status must be an HTTP error status (400-599)');
    }
    const delayMs = Number(input.delayMs ?? 0);
    if (status === undefined && delayMs <= 0) throw badRequest('a fault needs a status or a delayMs');
    const pathPattern = typeof input.pathPattern === 'string' ? input.pathPattern : undefined;
    if (pathPattern !== undefined && !isValidRegExp(pathPattern)) throw badRequest('pathPattern is not a valid RegExp');
    // Without a pattern a fault is "the next call" unless told otherwise; with one it lasts until cleared.
    const times = input.times === undefined ? (pathPattern ? undefined : 1) : Number(input.times);
    const rule: ApiFaultRule = {
      id: this.nextId++,
      status,
      delayMs,
      remaining: times,
      pathPattern,
      method: typeof input.method === 'string' ? input.method.toUpperCase() : undefined,
      retryAfterSeconds: input.retryAfterSeconds === undefined ? undefined : Number(input.retryAfterSeconds),
      hits: 0,
    };
    this.rules.push(rule);
    return rule;
  }

  /** Consumes one use of the first rule matching this call. */
  take(method: string, path: string): ApiFaultEffect | undefined {
    const rule = this.rules.find(
      (r) =>
        (r.remaining === undefined || r.remaining > 0) &&
        (r.method === undefined || r.method === method) &&
        (r.pathPattern === undefined || new RegExp(r.pathPattern).test(path)),
    );
    if (!rule) return undefined;
    rule.hits++;
    if (rule.remaining !== undefined) rule.remaining--;
    this.rules = this.rules.filter((r) => r.remaining === undefined || r.remaining > 0);
    return { rule, error: rule.status === undefined ? undefined : faultError(rule) };
  }

  list(): ApiFaultRule[] {
    return [...this.rules];
  }

  clear(): void {
    this.rules = [];
  }
}

function faultError(rule: ApiFaultRule): MpHttpError {
  const status = rule.status as number;
  const name = ERROR_NAMES[status] ?? (status >= 500 ? 'internal_server_error' : 'bad_request');
  const headers: Record<string, string> =
    rule.retryAfterSeconds === undefined ? {} : { 'retry-after': String(rule.retryAfterSeconds) };
  return new MpHttpError(status, `emulated fault: ${name}`, name, [], headers);
}

function isValidRegExp(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}
