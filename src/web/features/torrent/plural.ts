/** Singular or plural message by count (English: 1 is singular; French: 0 and 1 are). */
import type { RequestContext } from '../../context.js';
import type { MessageKey } from '../../messages.js';

export function plural(ctx: Pick<RequestContext, 't' | 'locale'>, n: number, one: MessageKey, other: MessageKey, params: Record<string, string | number> = {}): string {
  const singular = ctx.locale === 'fr' ? Math.abs(n) < 2 : n === 1;
  return ctx.t(singular ? one : other, { n, ...params });
}
