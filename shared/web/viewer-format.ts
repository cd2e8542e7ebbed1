// Small formatting pieces of the ticket viewer: sizes in the reader's units ("12 kB", "12 ko"),
// addresses as mail clients write them, and the download headers of an attachment.
import type { Language } from './consent-views.js';
import type { Address } from '../domain/model.js';

// The catalogs' locales (shared/web/i18n/catalog.ts keeps its own map private).
const LOCALES: Record<Language, string> = { en: 'en-GB', sv: 'sv-SE', nl: 'nl-NL', fr: 'fr-FR' };
const UNITS = [
  ['gigabyte', 1024 ** 3],
  ['megabyte', 1024 ** 2],
  ['kilobyte', 1024],
] as const;

/** A byte count the way the reader's file manager would show it: one decimal above a kilobyte. */
export function formatSize(lang: Language, bytes: number): string {
  for (const [unit, size] of UNITS) {
    if (bytes >= size) return new Intl.NumberFormat(LOCALES[lang], { style: 'unit', unit, unitDisplay: 'short', maximumFractionDigits: 1 }).format(bytes / size);
  }
  // Long for bytes: the short form is "68 byte" in English; long reads "68 bytes", "68 octets".
  return new Intl.NumberFormat(LOCALES[lang], { style: 'unit', unit: 'byte', unitDisplay: 'long' }).format(bytes);
}

export function formatNumber(lang: Language, value: number): string {
  return new Intl.NumberFormat(LOCALES[lang]).format(value);
}

/** "Name <address>", or the bare address when the name is empty or the address itself. */
export function addressText(a: Address): string {
  const name = a.name.trim();
  return name && name !== a.address ? `${name} <${a.address}>` : a.address;
}

// Types a browser may be told as they are: images it decodes without running anything. Everything
// else (HTML, SVG, PDF, scripts, archives…) goes out as application/octet-stream.
const SAFE_TYPES: ReadonlySet<string> = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

export function downloadContentType(contentType: string): string {
  const type = contentType.split(';', 1)[0]?.trim().toLowerCase() ?? '';
  return SAFE_TYPES.has(type) ? type : 'application/octet-stream';
}

/**
 * `attachment` with the filename twice (RFC 6266): an ASCII fallback, and the real name in RFC 8187
 * encoding. Path separators and control characters never survive, so a browser cannot be told to
 * write outside its download folder or to a name that hides its extension.
 */
export function contentDisposition(filename: string): string {
  const cleaned =
    filename
      .replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, '')
      .replace(/[/\\]/g, '_')
      .replace(/^[.\s]+/, '')
      .trim()
      .slice(0, 200) || 'attachment';
  const fallback = cleaned.replace(/[^\x20-\x7e]/g, '_').replace(/["%;\\]/g, '_');
  const encoded = encodeURIComponent(cleaned).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
