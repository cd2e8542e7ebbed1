// A tiny HTML builder for the server-rendered consent pages. Every interpolated value is escaped
// unless it is SafeHtml, which only this module can mint (from a template or joinHtml): so a tenant
// name, an address or a token can never become markup, and a page cannot be assembled any other way.

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for element content and double- or single-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

// Module-private key: only code in this file can construct SafeHtml, so no caller can wrap raw text.
const MINT = Symbol('SafeHtml.mint');

/** Markup that is already safe. Minted only by `html` and `joinHtml` (the private field defeats look-alike objects). */
export class SafeHtml {
  readonly #markup: string;
  constructor(key: typeof MINT, markup: string) {
    if (key !== MINT) throw new TypeError('SafeHtml is minted only by html`` and joinHtml');
    this.#markup = markup;
  }
  toString(): string {
    return this.#markup;
  }
}

/**
 * What a template accepts. `false` and `null` render nothing, so `cond && html\`…\`` reads naturally;
 * `undefined` and other objects are rejected at compile time and throw at run time, because printing
 * "undefined" or "[object Object]" to an admin is always a bug.
 */
export type HtmlValue = SafeHtml | string | number | false | null | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value instanceof SafeHtml) return value.toString();
  if (typeof value === 'string') return escapeHtml(value);
  if (typeof value === 'number') return escapeHtml(String(value));
  if (value === false || value === null) return '';
  if (Array.isArray(value)) return (value as readonly HtmlValue[]).map(render).join('');
  throw new TypeError(`html: cannot interpolate a value of type ${typeof value}`);
}

/** Tagged template: the literal parts are trusted markup, every `${value}` is escaped unless SafeHtml. */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return new SafeHtml(MINT, out);
}

/** Concatenates fragments with an optional (escaped unless SafeHtml) separator. */
export function joinHtml(parts: readonly HtmlValue[], separator: HtmlValue = ''): SafeHtml {
  const sep = render(separator);
  return new SafeHtml(MINT, parts.map(render).join(sep));
}
