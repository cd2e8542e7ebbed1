// Which language a consent page is shown in: an explicit ?lang= (the switcher's links) wins, then the
// browser's Accept-Language, then English. Only the primary subtag matters, since each catalog serves
// every region (sv-FI reads Swedish, fr-CA reads French).
import { LANGUAGES, type Language } from './consent-views.js';

/** Each language's name in itself, as the switcher shows it. */
export const LANGUAGE_NAMES: Record<Language, string> = {
  en: 'English',
  sv: 'Svenska',
  nl: 'Nederlands',
  fr: 'Français',
};

export function isLanguage(value: string): value is Language {
  return (LANGUAGES as readonly string[]).includes(value);
}

// A header is untrusted input: read at most this many ranges (browsers send a handful).
const MAX_RANGES = 32;
const LANGUAGE_RANGE = /^(?:[a-z]{1,8}(?:-[a-z0-9]{1,8})*|\*)$/;
// RFC 9110 §12.4.2: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
const QVALUE = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/;

interface Range {
  primary: string;
  bare: boolean;
  q: number;
}

function parseAcceptLanguage(header: string): Range[] {
  const ranges: Range[] = [];
  header
    .split(',')
    .slice(0, MAX_RANGES)
    .forEach((item) => {
      const [rawTag = '', ...params] = item.split(';').map((part) => part.trim());
      const tag = rawTag.toLowerCase();
      if (!LANGUAGE_RANGE.test(tag) || tag === '*') return;
      let q = 1;
      for (const param of params) {
        const match = /^q\s*=\s*(.*)$/i.exec(param);
        if (!match) continue; // other parameters carry no weight
        if (!QVALUE.test(match[1] ?? '')) return; // a malformed weight makes the whole range unreliable
        q = Number(match[1]);
      }
      ranges.push({ primary: tag.split('-')[0] ?? tag, bare: !tag.includes('-'), q });
    });
  return ranges;
}

/**
 * The page language. `?lang=` must name a supported language exactly (case-insensitive); otherwise the
 * Accept-Language range with the highest q whose primary subtag we support (the earlier one on a tie).
 * q=0 means "not acceptable": a bare `sv;q=0` rules Swedish out even if `sv-SE` is listed too.
 */
export function pickLanguage(queryLang: string | undefined, acceptLanguage: string | undefined): Language {
  const asked = queryLang?.trim().toLowerCase();
  if (asked && isLanguage(asked)) return asked;
  if (!acceptLanguage) return 'en';

  const ranges = parseAcceptLanguage(acceptLanguage);
  const refused = new Set(ranges.filter((r) => r.bare && r.q === 0).map((r) => r.primary));
  let best: Range | undefined;
  for (const range of ranges) {
    if (range.q === 0 || refused.has(range.primary) || !isLanguage(range.primary)) continue;
    if (!best || range.q > best.q) best = range; // strict: the earlier range wins a tie
  }
  return best && isLanguage(best.primary) ? best.primary : 'en';
}
