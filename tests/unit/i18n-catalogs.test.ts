// The consent site's translations and language choice: every catalog is complete and consistent with
// English, dates read naturally in each language, and the page language follows ?lang= then
// Accept-Language the way a browser user expects.
import { describe, expect, it } from 'vitest';
import { CONSENT_ERROR_CODES } from '../../shared/web/consent-render.js';
import { LANGUAGES, type Language } from '../../shared/web/consent-views.js';
import { catalogs, formatDate, formatDateTime, placeholdersOf, t, type MessageKey } from '../../shared/web/i18n/catalog.js';
import { LANGUAGE_NAMES, pickLanguage } from '../../shared/web/language.js';

const en = catalogs.en;
const KEYS = Object.keys(en).sort() as MessageKey[];
const OTHERS = LANGUAGES.filter((lang) => lang !== 'en');

// Messages that may read the same as English: product names, and a French word spelled as in English.
const SAME_AS_ENGLISH: Record<Exclude<Language, 'en'>, ReadonlySet<MessageKey>> = {
  sv: new Set(['provider.gmail', 'provider.graph']),
  nl: new Set(['provider.gmail', 'provider.graph']),
  fr: new Set(['provider.gmail', 'provider.graph', 'status.col.actions']),
};

describe('catalogs', () => {
  it.each(OTHERS)('%s has exactly the English keys', (lang) => {
    expect(Object.keys(catalogs[lang]).sort()).toEqual(KEYS);
  });

  it.each(LANGUAGES)('%s has no empty or padded message', (lang) => {
    for (const key of KEYS) {
      const message = catalogs[lang][key];
      expect(message.trim(), `${lang} ${key}`).not.toBe('');
      expect(message, `${lang} ${key}`).toBe(message.trim());
    }
  });

  it.each(OTHERS)('%s uses the same placeholders as English in every message', (lang) => {
    for (const key of KEYS) {
      expect(placeholdersOf(catalogs[lang][key]).sort(), `${lang} ${key}`).toEqual(placeholdersOf(en[key]).sort());
    }
  });

  it.each(OTHERS)('%s translates every message outside its short allowlist', (lang) => {
    const untranslated = KEYS.filter((key) => catalogs[lang][key] === en[key] && !SAME_AS_ENGLISH[lang].has(key));
    expect(untranslated).toEqual([]);
    // The allowlist stays honest: each entry really is the same as English.
    for (const key of SAME_AS_ENGLISH[lang]) expect(catalogs[lang][key], `${lang} ${key}`).toBe(en[key]);
  });

  it.each(LANGUAGES)('%s has a title and an explanation for every error code', (lang) => {
    expect(CONSENT_ERROR_CODES).toHaveLength(19);
    for (const code of CONSENT_ERROR_CODES) {
      const title = t(lang, `error.${code}.title`);
      const text = t(lang, `error.${code}.text`);
      expect(title.length, `${lang} ${code}`).toBeGreaterThan(5);
      expect(text.length, `${lang} ${code}`).toBeGreaterThan(30);
      expect(text, `${lang} ${code}`).not.toBe(title);
    }
    // No stray error texts for codes the contract does not have.
    const errorCodes = new Set(KEYS.filter((k) => k.startsWith('error.')).map((k) => k.split('.')[1]));
    expect([...errorCodes].sort()).toEqual([...CONSENT_ERROR_CODES].sort());
  });

  it('keeps the privacy promises in every language', () => {
    for (const lang of LANGUAGES) {
      expect(t(lang, 'promises.encryption'), lang).toMatch(/AES-256.*KMS.*TLS/s);
      expect(t(lang, 'promises.deletion'), lang).toContain('30');
      expect(t(lang, 'promises.isolation'), lang).toContain('Amazon Web Services (AWS)');
      expect(t(lang, 'access.google.read'), lang).toContain('gmail.readonly');
      expect(t(lang, 'access.google.send'), lang).toContain('gmail.send');
      expect(t(lang, 'access.microsoft.read'), lang).toMatch(/^Mail\.ReadWrite\b/);
      expect(t(lang, 'access.microsoft.send'), lang).toMatch(/^Mail\.Send\b/);
      expect(t(lang, 'googleNotice.testing'), lang).toMatch(/\b7\b/);
      expect(t(lang, 'landing.once'), lang).toMatch(/\b8\b/);
      expect(t(lang, 'status.microsoft.text'), lang).toContain('Enterprise applications');
    }
  });

  it('writes typographic apostrophes, and French punctuation with a no-break space', () => {
    for (const lang of LANGUAGES) {
      for (const key of KEYS) expect(catalogs[lang][key], `${lang} ${key}`).not.toContain("'");
    }
    for (const key of KEYS) {
      const message = catalogs.fr[key];
      expect(message, key).not.toMatch(/ [:;?!»]|« /);
      expect(message, key).not.toMatch(/[^\s\u00a0«(]:(?!\/)/); // a colon always has its space before it
    }
  });

  it('fills placeholders and refuses to print a missing one', () => {
    expect(t('sv', 'landing.heading', { tenant: 'Acme AB' })).toBe('Anslut en postlåda för Acme AB');
    // Values are inserted verbatim; the renderer escapes the whole message.
    expect(t('en', 'status.heading', { tenant: '{date} & <b>' })).toBe('Mailboxes of {date} & <b>');
    expect(() => t('en', 'status.heading', {} as { tenant: string })).toThrow(/needs parameter \{tenant\}/);
  });
});

describe('dates', () => {
  it('writes a long date in the reader’s language, in UTC', () => {
    expect(formatDate('en', '2026-12-02T10:00:00Z')).toBe('2 December 2026');
    expect(formatDate('sv', '2026-12-02T10:00:00Z')).toBe('2 december 2026');
    expect(formatDate('nl', '2026-12-02T10:00:00Z')).toBe('2 december 2026');
    expect(formatDate('fr', '2026-12-02T10:00:00Z')).toBe('2 décembre 2026');
    expect(formatDate('fr', '2026-12-01T10:00:00Z')).toBe('1er décembre 2026');
    // 23:30 in New York is already the next day in UTC, which is the zone the pages state.
    expect(formatDate('en', '2026-12-01T23:30:00-05:00')).toBe('2 December 2026');
  });

  it('writes a date and time on the 24-hour clock with the zone shown', () => {
    const iso = '2026-12-02T15:04:00Z';
    expect(formatDateTime('en', iso)).toBe('2 December 2026 at 15:04 UTC');
    expect(formatDateTime('sv', iso)).toBe('2 december 2026 kl. 15:04 UTC');
    expect(formatDateTime('nl', iso)).toBe('2 december 2026 om 15:04 UTC');
    expect(formatDateTime('fr', iso)).toBe('2 décembre 2026 à 15:04 UTC');
    expect(formatDateTime('en', '2026-12-02T00:05:00Z')).toBe('2 December 2026 at 00:05 UTC');
  });

  it('refuses a time that is not one rather than printing "Invalid Date"', () => {
    expect(() => formatDate('en', 'tomorrow')).toThrow(RangeError);
    expect(() => formatDateTime('sv', '')).toThrow(RangeError);
  });
});

describe('pickLanguage', () => {
  it('lets ?lang= win over the browser, case-insensitively', () => {
    expect(pickLanguage('sv', 'fr-FR,fr;q=0.9')).toBe('sv');
    expect(pickLanguage('NL', undefined)).toBe('nl');
    expect(pickLanguage(' fr ', 'en')).toBe('fr');
  });

  it('ignores an unsupported or hostile ?lang= and falls back to Accept-Language', () => {
    expect(pickLanguage('de', 'nl-NL')).toBe('nl');
    expect(pickLanguage('sv-SE', 'fr')).toBe('fr'); // the switcher sends bare codes only
    expect(pickLanguage('"><script>', undefined)).toBe('en');
    expect(pickLanguage('', 'sv')).toBe('sv');
  });

  it('matches on the primary subtag', () => {
    expect(pickLanguage(undefined, 'sv-SE')).toBe('sv');
    expect(pickLanguage(undefined, 'sv-FI,en;q=0.5')).toBe('sv');
    expect(pickLanguage(undefined, 'nl-BE')).toBe('nl');
    expect(pickLanguage(undefined, 'fr-CA')).toBe('fr');
    expect(pickLanguage(undefined, 'en-US')).toBe('en');
    expect(pickLanguage(undefined, 'SV-se')).toBe('sv');
    expect(pickLanguage(undefined, 'FR')).toBe('fr');
  });

  it('takes the highest q among supported languages, the earlier one on a tie', () => {
    expect(pickLanguage(undefined, 'de-DE,de;q=0.9,fr;q=0.5,nl;q=0.4')).toBe('fr');
    expect(pickLanguage(undefined, 'en;q=0.5, sv;q=0.8')).toBe('sv');
    expect(pickLanguage(undefined, 'nl, fr')).toBe('nl');
    expect(pickLanguage(undefined, 'fr;q=0.7, nl;q=0.7')).toBe('fr');
    expect(pickLanguage(undefined, ' fr-CA ; q=0.9 , sv ; q=0.3')).toBe('fr');
    expect(pickLanguage(undefined, 'sv-SE;level=1;q=0.4, nl;q=0.3')).toBe('sv');
  });

  it('treats q=0 as "not acceptable"', () => {
    expect(pickLanguage(undefined, 'sv;q=0, fr;q=0.1')).toBe('fr');
    expect(pickLanguage(undefined, 'fr;q=0.000')).toBe('en');
    expect(pickLanguage(undefined, 'sv-SE;q=0')).toBe('en');
    // A bare range with q=0 rules the language out even when a regional variant is listed.
    expect(pickLanguage(undefined, 'sv-SE, sv;q=0, nl;q=0.2')).toBe('nl');
  });

  it('ignores the wildcard and unsupported languages', () => {
    expect(pickLanguage(undefined, '*')).toBe('en');
    expect(pickLanguage(undefined, '*, fr;q=0.5')).toBe('fr');
    expect(pickLanguage(undefined, 'de, ja, zh-Hant-TW')).toBe('en');
  });

  it('survives malformed headers', () => {
    expect(pickLanguage(undefined, '')).toBe('en');
    expect(pickLanguage(undefined, ';;,,;')).toBe('en');
    expect(pickLanguage(undefined, 'fr;q=abc, nl;q=0.5')).toBe('nl');
    expect(pickLanguage(undefined, 'fr;q=1.5, nl;q=0.5')).toBe('nl');
    expect(pickLanguage(undefined, 'fr;q=-1, sv;q=0.2')).toBe('sv');
    expect(pickLanguage(undefined, 'f r, sv_SE, nl')).toBe('nl');
    expect(pickLanguage(undefined, 'x'.repeat(100_000))).toBe('en');
    // Only the first ranges are read: a huge header costs nothing and a late entry does not count.
    expect(pickLanguage(undefined, `${Array.from({ length: 40 }, () => 'de').join(',')},sv`)).toBe('en');
  });

  it('names each language in itself', () => {
    expect(LANGUAGE_NAMES).toEqual({ en: 'English', sv: 'Svenska', nl: 'Nederlands', fr: 'Français' });
  });
});
