// The subset of Gmail's search syntax (the `q` of messages.list) the fake understands. An unknown
// term is refused with a 400 rather than ignored, so a test never passes on a query the fake silently
// widened. Date semantics follow the Gmail API filtering guide: `after:`/`before:` take epoch seconds
// or yyyy/mm/dd, and a bare date means midnight PST.
import { headerValue, messageIdsIn, type Header } from './fake-gmail-mime.js';

export interface QueryableMessage {
  labelIds: readonly string[];
  headers: readonly Header[];
  /** Epoch milliseconds. */
  internalDate: number;
}

export interface CompiledQuery {
  matches(message: QueryableMessage, now: number): boolean;
  /** True when the query names SPAM or TRASH itself (`in:spam`, `in:anywhere`…), which lifts the default exclusion. */
  reachesSpamOrTrash: boolean;
}

const DAY_MS = 86_400_000;
const RELATIVE_UNITS: Record<string, number> = { d: DAY_MS, m: 30 * DAY_MS, y: 365 * DAY_MS };
const PST_OFFSET = '-08:00';

const LOCATIONS: Record<string, string> = { inbox: 'INBOX', spam: 'SPAM', trash: 'TRASH', sent: 'SENT', draft: 'DRAFT', drafts: 'DRAFT', starred: 'STARRED', important: 'IMPORTANT', unread: 'UNREAD' };

type Test = (m: QueryableMessage, now: number) => boolean;

/** Compiles `q`, or returns the reason it cannot (answered as a 400 invalidArgument). */
export function compileQuery(q: string): CompiledQuery | { error: string } {
  const tests: Test[] = [];
  let reachesSpamOrTrash = false;
  for (const token of q.trim().split(/\s+/).filter(Boolean)) {
    const negated = token.startsWith('-');
    const term = negated ? token.slice(1) : token;
    const colon = term.indexOf(':');
    const operator = colon > 0 ? term.slice(0, colon).toLowerCase() : '';
    const value = colon > 0 ? term.slice(colon + 1) : term;
    const test = termTest(operator, value);
    if (typeof test === 'string') return { error: test };
    if (!negated && (operator === 'in' || operator === 'label') && ['spam', 'trash', 'anywhere'].includes(value.toLowerCase())) reachesSpamOrTrash = true;
    tests.push(negated ? (m, now) => !test(m, now) : test);
  }
  return { matches: (m, now) => tests.every((t) => t(m, now)), reachesSpamOrTrash };
}

function termTest(operator: string, value: string): Test | string {
  const hasLabel = (label: string): Test => (m) => m.labelIds.some((l) => l.toUpperCase() === label.toUpperCase());
  switch (operator) {
    case 'rfc822msgid': {
      const wanted = messageIdsIn(value)[0]?.toLowerCase();
      if (!wanted) return 'rfc822msgid: needs a Message-ID';
      return (m) => messageIdsIn(headerValue(m.headers, 'message-id')).some((id) => id.toLowerCase() === wanted);
    }
    case 'after':
    case 'before': {
      const at = parseSearchDate(value);
      if (at === undefined) return `${operator}: takes epoch seconds or yyyy/mm/dd, not ${value}`;
      return operator === 'after' ? (m) => m.internalDate >= at : (m) => m.internalDate < at;
    }
    case 'newer_than':
    case 'older_than': {
      const match = /^(\d+)([dmy])$/i.exec(value);
      if (!match) return `${operator}: takes <number>d, m or y, not ${value}`;
      const span = Number(match[1]) * (RELATIVE_UNITS[(match[2] as string).toLowerCase()] as number);
      return operator === 'newer_than' ? (m, now) => m.internalDate > now - span : (m, now) => m.internalDate <= now - span;
    }
    case 'in':
    case 'is': {
      if (value.toLowerCase() === 'anywhere') return () => true;
      if (value.toLowerCase() === 'read') return (m, now) => !hasLabel('UNREAD')(m, now);
      const label = LOCATIONS[value.toLowerCase()];
      return label ? hasLabel(label) : `${operator}:${value} is not supported by the fake`;
    }
    case 'label':
      return hasLabel(value);
    case 'from':
    case 'to':
    case 'subject': {
      const needle = value.replace(/^"(.*)"$/, '$1').toLowerCase();
      return (m) => (headerValue(m.headers, operator) ?? '').toLowerCase().includes(needle);
    }
    default:
      return `search term "${operator ? `${operator}:${value}` : value}" is not supported by the fake`;
  }
}

function parseSearchDate(value: string): number | undefined {
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const ymd = /^(\d{4})[/-](\d{1,2})[/-](\d{1,2})$/.exec(value);
  if (!ymd) return undefined;
  const [, y, mo, d] = ymd as unknown as [string, string, string, string];
  const at = Date.parse(`${y}-${mo.padStart(2, '0')}-${d.padStart(2, '0')}T00:00:00${PST_OFFSET}`);
  return Number.isNaN(at) ? undefined : at;
}
