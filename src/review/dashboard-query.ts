import type { Decision } from '../engine/decide.js';
import { ServiceError } from '../http/errors.js';
import { DECISIONS, type DashboardFilter } from '../store/record-store.js';
import { queryParameters } from './query-parameters.js';

export const DAY_MS = 86_400_000;
/** The period when the reviewer names none (issue #14: "default the last 30 days"). */
export const DEFAULT_PERIOD_DAYS = 30;
/** The longest period one question may cover: a year of days (leap years included). */
export const MAX_PERIOD_DAYS = 366;

/** An order code as recorded: "system|code" (the system a URI or OID, the code without spaces). */
const ORDER_CODE = /^[A-Za-z0-9:/._~%#-]{1,200}\|[A-Za-z0-9._-]{1,64}$/;
const CURSOR = /^[A-Za-z0-9_-]{1,512}$/;

export type Format = 'json' | 'csv';

export interface DashboardQuery {
  readonly filter: DashboardFilter;
  readonly format: Format;
  readonly decision?: Decision;
  readonly limit?: number;
  readonly cursor?: string;
}

/** What one endpoint accepts beyond since, until, orderCode and format. */
export interface Accepts {
  readonly decision?: boolean;
  /** The limit's range and default. */
  readonly limit?: { readonly max: number; readonly default: number };
  readonly cursor?: boolean;
}

const COMMON = ['since', 'until', 'orderCode', 'format'];

/**
 * Reads and checks a dashboard endpoint's query; the first wrong parameter is named in a 400 (INVALID_QUERY).
 * Without since and until the period is the 30 days up to now; since is inclusive, until exclusive.
 * @param raw - req.query
 * @param now - epoch ms
 * @param accepts - the endpoint's own parameters
 */
export function dashboardQuery(raw: Record<string, unknown>, now: number, accepts: Accepts = {}): DashboardQuery {
  const allowed = new Set([...COMMON, ...(accepts.decision ? ['decision'] : []), ...(accepts.limit ? ['limit'] : []), ...(accepts.cursor ? ['cursor'] : [])]);
  const { value, instant } = queryParameters(raw, allowed);
  const givenSince = instant('since');
  const givenUntil = instant('until');
  const until = givenUntil ?? (givenSince !== undefined ? Math.max(now, givenSince + 1) : now);
  const since = givenSince ?? until - DEFAULT_PERIOD_DAYS * DAY_MS;
  if (since >= until) {
    throw new ServiceError('INVALID_QUERY', 'until must be later than since', 'until');
  }
  if (until - since > MAX_PERIOD_DAYS * DAY_MS) {
    throw new ServiceError('INVALID_QUERY', `the period may cover at most ${MAX_PERIOD_DAYS} days`, 'since');
  }
  const orderCode = value('orderCode');
  if (orderCode !== undefined && !ORDER_CODE.test(orderCode)) {
    throw new ServiceError('INVALID_QUERY', 'orderCode must be system|code, such as http://www.ama-assn.org/go/cpt|72148', 'orderCode');
  }
  const formatText = value('format') ?? 'json';
  if (formatText !== 'json' && formatText !== 'csv') {
    throw new ServiceError('INVALID_QUERY', 'format must be json or csv', 'format');
  }
  const decision = value('decision');
  if (decision !== undefined && !(DECISIONS as readonly string[]).includes(decision)) {
    throw new ServiceError('INVALID_QUERY', `decision must be one of ${DECISIONS.join(', ')}`, 'decision');
  }
  let limit: number | undefined;
  if (accepts.limit) {
    const text = value('limit');
    limit = text === undefined ? accepts.limit.default : /^\d{1,4}$/.test(text) ? Number(text) : NaN;
    if (!Number.isInteger(limit) || limit < 1 || limit > accepts.limit.max) {
      throw new ServiceError('INVALID_QUERY', `limit must be an integer from 1 to ${accepts.limit.max}`, 'limit');
    }
  }
  const cursor = value('cursor');
  if (cursor !== undefined && !CURSOR.test(cursor)) {
    throw new ServiceError('INVALID_QUERY', 'cursor must be the next value of a previous page', 'cursor');
  }
  return {
    filter: { since, until, ...(orderCode !== undefined ? { orderCode } : {}) },
    format: formatText,
    ...(decision !== undefined ? { decision: decision as Decision } : {}),
    ...(limit !== undefined ? { limit } : {}),
    ...(cursor !== undefined ? { cursor } : {}),
  };
}

/** Every UTC day the period touches, YYYY-MM-DD, oldest first. */
export function daysOf(filter: DashboardFilter): string[] {
  const days: string[] = [];
  const last = filter.until - 1;
  for (let t = Math.floor(filter.since / DAY_MS) * DAY_MS; t <= last; t += DAY_MS) {
    days.push(new Date(t).toISOString().slice(0, 10));
  }
  return days;
}
