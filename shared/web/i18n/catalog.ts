// Message lookup and date formatting in the reader's language. Messages are plain text with {name}
// placeholders; the renderer escapes the result, so parameters (a tenant name, an address) stay text.
import type { Language } from '../consent-views.js';
import { en } from './en.js';
import { fr } from './fr.js';
import { nl } from './nl.js';
import { sv } from './sv.js';

export type MessageKey = keyof typeof en;
/** A complete translation: exactly English's keys. */
export type Catalog = { readonly [K in MessageKey]: string };

export const catalogs: Record<Language, Catalog> = { en, sv, nl, fr };

// The placeholders of an English message, so a call that forgets one does not compile.
type Placeholders<S extends string> = S extends `${string}{${infer Name}}${infer Rest}` ? Name | Placeholders<Rest> : never;
/** The parameter names message `K` needs. */
export type ParamName<K extends MessageKey> = Placeholders<(typeof en)[K]>;
type ParamsOf<K extends MessageKey> = [ParamName<K>] extends [never] ? [] : [params: Record<ParamName<K>, string>];

const PLACEHOLDER = /\{([A-Za-z]+)\}/g;

/** The names of the {placeholders} in a message, in order of appearance. */
export function placeholdersOf(message: string): string[] {
  return [...message.matchAll(PLACEHOLDER)].map((m) => m[1] ?? '');
}

/**
 * A message in `lang` split at its placeholders: literal text and parameter names alternate, starting
 * and ending with text. Lets the renderer put markup (a <time>) where a parameter goes.
 */
export function messageSegments(lang: Language, key: MessageKey): string[] {
  return catalogs[lang][key].split(/\{([A-Za-z]+)\}/);
}

/** Looks a parameter up; a missing one throws rather than leaking "{name}" or "undefined" to a page. */
export function paramValue<V>(params: Record<string, V>, name: string, lang: Language, key: MessageKey): V {
  if (!Object.hasOwn(params, name)) throw new Error(`i18n: message ${key} (${lang}) needs parameter {${name}}`);
  return params[name] as V;
}

/** The message in `lang` with its placeholders filled. */
export function t<K extends MessageKey>(lang: Language, key: K, ...args: ParamsOf<K>): string {
  const params: Record<string, string> = args[0] ?? {};
  return messageSegments(lang, key)
    .map((segment, i) => (i % 2 === 0 ? segment : paramValue(params, segment, lang, key)))
    .join('');
}

// en-GB, not en-US: day-month-year reads unambiguously to European admins ("2 December 2026").
const LOCALES: Record<Language, string> = { en: 'en-GB', sv: 'sv-SE', nl: 'nl-NL', fr: 'fr-FR' };

function parseInstant(iso: string): Date {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) throw new RangeError(`i18n: not an ISO time: ${JSON.stringify(iso)}`);
  return date;
}

// Formatters are costly to build; one per language and style for the life of the container.
const formats = new Map<string, Intl.DateTimeFormat>();

function formatter(lang: Language, withTime: boolean): Intl.DateTimeFormat {
  const id = `${lang}:${withTime}`;
  let format = formats.get(id);
  if (!format) {
    format = new Intl.DateTimeFormat(LOCALES[lang], {
      day: 'numeric',
      month: 'long',
      year: 'numeric',
      timeZone: 'UTC',
      ...(withTime ? { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'short' } : {}),
    });
    formats.set(id, format);
  }
  return format;
}

function format(lang: Language, iso: string, withTime: boolean): string {
  return formatter(lang, withTime)
    .formatToParts(parseInstant(iso))
    .map((part) => (lang === 'fr' && part.type === 'day' && part.value === '1' ? '1er' : part.value)) // French writes "1er décembre"; ICU does not
    .join('');
}

/** A calendar date in UTC: "2 December 2026", "2 december 2026", "1er décembre 2026". */
export function formatDate(lang: Language, iso: string): string {
  return format(lang, iso, false);
}

/** A moment in UTC with the zone shown, since admins read it from anywhere: "2 December 2026 at 15:04 UTC". */
export function formatDateTime(lang: Language, iso: string): string {
  return format(lang, iso, true);
}
