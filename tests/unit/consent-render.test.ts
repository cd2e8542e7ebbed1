// The consent pages as an admin's browser receives them: complete documents in each language, that work
// without JavaScript under a default-src 'self' CSP, escape everything the router hands in, and carry the
// CSRF token and one-time fields in every form.
import { describe, expect, it } from 'vitest';
import { CONSENT_CSS, NON_TEXT_PAIRS, PALETTES, TEXT_PAIRS } from '../../shared/web/consent-css.js';
import { CONSENT_ERROR_CODES, renderConsentPage } from '../../shared/web/consent-render.js';
import { CONSENT_ROUTES, LANGUAGES, type ConsentView, type Language, type MailboxRow } from '../../shared/web/consent-views.js';
import { SafeHtml, escapeHtml, html, joinHtml, type HtmlValue } from '../../shared/web/html.js';
import { formatDate, formatDateTime, t } from '../../shared/web/i18n/catalog.js';

const HOSTILE = '<img src=x onerror=alert(1)>';
const CSRF = 'csrf-Tok3n';

function row(overrides: Partial<MailboxRow>): MailboxRow {
  return {
    mailboxId: 'mbx-1',
    provider: 'gmail',
    address: 'support@acme.example',
    state: 'connected',
    lastNotifiedAt: '2026-12-01T09:30:00Z',
    lastSyncedAt: '2026-12-01T09:31:00Z',
    watchExpiresAt: '2026-12-08T09:00:00Z',
    purgeBy: null,
    ...overrides,
  };
}

const MAILBOXES: MailboxRow[] = [
  row({ mailboxId: 'mbx-ok', address: 'support@acme.example' }),
  row({ mailboxId: 'mbx-reauth', address: 'billing@acme.example', state: 'reauthorization_required', lastSyncedAt: null }),
  row({ mailboxId: 'mbx-graph', provider: 'graph', address: 'help@acme.example', state: 'reauthorization_required' }),
  row({ mailboxId: 'mbx-gone', provider: 'graph', address: null, state: 'disconnected', watchExpiresAt: null, purgeBy: '2027-01-05T00:00:00Z' }),
];

const VIEWS = {
  landing: { page: 'landing', tenantName: 'Acme AB', invite: 'inv-123', csrfToken: CSRF, expiresAt: '2026-12-09T12:00:00Z' },
  status: { page: 'status', tenantName: 'Acme AB', csrfToken: CSRF, mailboxes: MAILBOXES, notice: 'connected', sessionExpiresAt: '2026-12-02T18:00:00Z' },
  statusEmpty: { page: 'status', tenantName: 'Acme AB', csrfToken: CSRF, mailboxes: [], notice: null, sessionExpiresAt: '2026-12-02T18:00:00Z' },
  microsoft: {
    page: 'microsoft_mailboxes',
    tenantName: 'Acme AB',
    csrfToken: CSRF,
    step: 'step-9',
    verifiedDomains: ['acme.example', 'acme.se'],
    addresses: 'help@acme.example\nnot-an-address, sales@other.example',
    refused: [
      { address: 'not-an-address', reason: 'invalid_address' },
      { address: 'sales@other.example', reason: 'domain_not_verified' },
    ],
  },
  confirm: { page: 'confirm_disconnect', tenantName: 'Acme AB', csrfToken: CSRF, confirmation: 'conf-7', mailbox: MAILBOXES[0]!, deletionDeadline: '2027-01-01T00:00:00Z' },
  signedOut: { page: 'signed_out' },
  error: { page: 'error', code: 'invite_expired', backToStatus: true },
} satisfies Record<string, ConsentView>;

function render(view: ConsentView, lang: Language = 'en', query?: Record<string, string>, path = '/connect'): string {
  return renderConsentPage(view, lang, { path, ...(query ? { query } : {}) });
}

/** The inside of <main>, where page content lives (the header has the language links). */
function mainOf(page: string): string {
  const match = /<main id="main" tabindex="-1">([\s\S]*)<\/main>/.exec(page);
  if (!match?.[1]) throw new Error('no <main>');
  return match[1];
}

function forms(page: string): string[] {
  return [...page.matchAll(/<form\b[\s\S]*?<\/form>/g)].map((m) => m[0]);
}

function hidden(form: string, name: string): string | undefined {
  return new RegExp(`<input type="hidden" name="${name}" value="([^"]*)">`).exec(form)?.[1];
}

function count(haystack: string, needle: string | RegExp): number {
  return typeof needle === 'string' ? haystack.split(needle).length - 1 : [...haystack.matchAll(needle)].length;
}

describe('html builder', () => {
  it('escapes the five HTML-significant characters in interpolated text', () => {
    expect(html`<p title="${`"'&`}">${'<b>&</b>'}</p>`.toString()).toBe('<p title="&quot;&#39;&amp;">&lt;b&gt;&amp;&lt;/b&gt;</p>');
    expect(escapeHtml(HOSTILE)).toBe('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('passes SafeHtml, arrays, numbers; renders false and null as nothing', () => {
    const inner = html`<b>${'a&b'}</b>`;
    expect(html`${inner}|${[inner, '<i>']}|${3}|${false}|${null}`.toString()).toBe('<b>a&amp;b</b>|<b>a&amp;b</b>&lt;i&gt;|3||');
    expect(joinHtml([html`<li>1</li>`, '<li>'], html`\n`).toString()).toBe('<li>1</li>\n&lt;li&gt;');
    expect(joinHtml(['a', 'b'], '<hr>').toString()).toBe('a&lt;hr&gt;b');
  });

  it('refuses undefined and plain objects instead of printing them', () => {
    expect(() => html`${undefined as unknown as HtmlValue}`).toThrow(TypeError);
    expect(() => html`${{ toString: () => '<script>' } as unknown as HtmlValue}`).toThrow(TypeError);
  });

  it('cannot be forged: SafeHtml is minted only by html`` and joinHtml', () => {
    const Forge = SafeHtml as unknown as new (key: symbol, markup: string) => SafeHtml;
    expect(() => new Forge(Symbol('SafeHtml.mint'), '<script>')).toThrow(TypeError);
    const lookalike = Object.create(SafeHtml.prototype) as SafeHtml;
    expect(() => html`${lookalike}`).toThrow(TypeError); // no private markup field
  });
});

describe('every page in every language', () => {
  const cases = LANGUAGES.flatMap((lang) => Object.entries(VIEWS).map(([name, view]) => [lang, name, view] as const));

  it.each(cases)('%s %s is a complete, script-free, accessible HTML5 document', (lang, _name, view) => {
    const page = render(view, lang, { invite: 'inv-123' });
    expect(page.startsWith('<!doctype html>\n<html lang="' + lang + '">')).toBe(true);
    expect(page).toContain('<meta charset="utf-8">');
    expect(page).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(page).toContain(`<link rel="stylesheet" href="${CONSENT_ROUTES.stylesheet}">`);
    expect(page).toMatch(/<title>[^<]{10,}<\/title>/);
    expect(page.trimEnd().endsWith('</html>')).toBe(true);

    // default-src 'self': no script, no inline style, nothing from elsewhere.
    expect(page).not.toMatch(/<script|<style|\sstyle=|\son[a-z]+=|javascript:/i);
    expect(page).not.toMatch(/(?:src|href|action)="(?![/#])/);
    expect(page).not.toMatch(/https?:\/\//);

    // No leftovers of a missing value or placeholder.
    expect(page).not.toMatch(/undefined|\[object|NaN|Invalid Date|null/);
    expect(mainOf(page)).not.toMatch(/\{[A-Za-z]+\}/);

    // Landmarks and structure.
    expect(count(page, '<h1>')).toBe(1);
    expect(count(page, '<main ')).toBe(1);
    expect(page).toContain('<a class="skip-link" href="#main">');
    const ids = [...page.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(ids).size).toBe(ids.length);
    for (const m of page.matchAll(/(?:aria-labelledby|aria-describedby|for)="([^"]+)"/g)) {
      for (const ref of m[1]!.split(' ')) expect(ids, `reference to #${ref}`).toContain(ref);
    }
    for (const m of page.matchAll(/href="#([^"]+)"/g)) expect(ids).toContain(m[1]);

    // Every action is a POST form with the CSRF token and a real submit button.
    for (const form of forms(page)) {
      expect(form).toMatch(/^<form method="post" action="\/connect\//);
      expect(hidden(form, 'csrf')).toBe(CSRF);
      expect(count(form, /<button type="submit"/g)).toBe(1);
      expect(form).toMatch(/<button type="submit"[^>]*>[^<\s][^<]+/);
    }

    // Tables: a caption and scoped headers.
    for (const table of page.matchAll(/<table>[\s\S]*?<\/table>/g)) {
      expect(table[0]).toMatch(/^<table>\n<caption id="[^"]+">[^<]+<\/caption>/);
      expect(table[0]).not.toMatch(/<th\b(?! scope="(?:col|row)")/);
    }
  });

  it.each(LANGUAGES)('%s pages have distinct titles', (lang) => {
    const titles = Object.values(VIEWS).map((view) => /<title>([^<]+)<\/title>/.exec(render(view, lang))?.[1]);
    expect(new Set(titles).size).toBe(new Set(Object.values(VIEWS).map((v) => v.page)).size);
  });
});

describe('escaping what the router hands in', () => {
  it('shows a hostile tenant name as text on every page that names the tenant', () => {
    const views: ConsentView[] = [
      { ...VIEWS.landing, tenantName: HOSTILE },
      { ...VIEWS.status, tenantName: HOSTILE },
      { ...VIEWS.microsoft, tenantName: HOSTILE },
    ];
    for (const lang of LANGUAGES) {
      for (const view of views) {
        const page = render(view, lang);
        expect(page).toContain('&lt;img src=x onerror=alert(1)&gt;');
        expect(page).not.toContain('<img');
      }
    }
  });

  it('escapes addresses, tokens, domains and the typed text in attributes and content', () => {
    const evil = '"><script>alert(1)</script>';
    const pages = [
      render({ ...VIEWS.landing, invite: evil, csrfToken: evil }, 'en', { invite: evil }),
      render({ ...VIEWS.status, csrfToken: evil, mailboxes: [row({ mailboxId: evil, address: HOSTILE, state: 'reauthorization_required' })] }),
      render({
        ...VIEWS.microsoft,
        step: evil,
        verifiedDomains: [HOSTILE],
        addresses: `</textarea>${evil}`,
        refused: [{ address: HOSTILE, reason: 'invalid_address' }],
      }),
      render({ ...VIEWS.confirm, confirmation: evil, mailbox: row({ address: HOSTILE }) }),
    ];
    for (const page of pages) {
      expect(page).not.toMatch(/<script|<img|<\/textarea>&quot;|"><script/);
      expect(page).not.toContain('</textarea><');
    }
    expect(pages[1]).toContain('<input type="hidden" name="mailbox" value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;">');
    expect(pages[2]).toContain('&lt;/textarea&gt;&quot;&gt;&lt;script&gt;');
  });
});

describe('language switcher', () => {
  function switcher(page: string): string {
    return /<nav class="languages" aria-label="[^"]+">[\s\S]*?<\/nav>/.exec(page)?.[0] ?? '';
  }

  it('links every language by its own name, marking the current one', () => {
    const nav = switcher(render(VIEWS.status, 'nl', {}, CONSENT_ROUTES.status));
    expect(nav).toContain(`aria-label="${t('nl', 'site.languages')}"`);
    expect(nav).toContain('<a href="/connect/status?lang=en" lang="en" hreflang="en">English</a>');
    expect(nav).toContain('<a href="/connect/status?lang=sv" lang="sv" hreflang="sv">Svenska</a>');
    expect(nav).toContain('<a href="/connect/status?lang=nl" lang="nl" hreflang="nl" aria-current="true">Nederlands</a>');
    expect(nav).toContain('<a href="/connect/status?lang=fr" lang="fr" hreflang="fr">Français</a>');
    expect(count(nav, 'aria-current')).toBe(1);
  });

  it('keeps the invite and drops every other parameter, including ones in the path', () => {
    const page = render(VIEWS.landing, 'en', { invite: 'a b&c', code: 'oauth-code', state: 'oauth-state', lang: 'fr', utm: 'x' }, '/connect?tracking=1#top');
    const nav = switcher(page);
    expect(nav).toContain('<a href="/connect?invite=a+b%26c&amp;lang=sv" lang="sv" hreflang="sv">Svenska</a>');
    expect(nav).not.toMatch(/oauth|utm|tracking|#top|lang=fr&amp;lang/);
    expect(count(nav, /lang=fr/g)).toBe(1);
  });

  it('never points at another site', () => {
    for (const path of ['//evil.example/x', '/\\evil.example', 'https://evil.example/', 'connect', '/connect x']) {
      expect(switcher(render(VIEWS.error, 'en', {}, path))).toContain('<a href="/connect?lang=sv"');
    }
  });
});

describe('landing', () => {
  it.each(LANGUAGES)('%s: welcomes the tenant, states the access and the promises, and offers both providers', (lang) => {
    const page = render(VIEWS.landing, lang);
    const main = mainOf(page);
    expect(main).toContain(escapeHtml(t(lang, 'landing.heading', { tenant: 'Acme AB' })));
    for (const key of ['access.google.read', 'access.google.send', 'access.microsoft.read', 'access.microsoft.send', 'access.microsoft.limit'] as const) {
      expect(main).toContain(escapeHtml(t(lang, key)));
    }
    for (const key of ['promises.encryption', 'promises.logging', 'promises.isolation', 'promises.deletion'] as const) {
      expect(main).toContain(escapeHtml(t(lang, key)));
    }
    for (const key of ['googleNotice.restricted', 'googleNotice.testing', 'googleNotice.trusted'] as const) {
      expect(main).toContain(escapeHtml(t(lang, key)));
    }
    const [google, microsoft, ...rest] = forms(main);
    expect(rest).toEqual([]);
    for (const [form, provider, label] of [
      [google!, 'google', t(lang, 'connect.google')],
      [microsoft!, 'microsoft', t(lang, 'connect.microsoft')],
    ] as const) {
      expect(form).toContain(`action="${CONSENT_ROUTES.start}"`);
      expect(hidden(form, 'provider')).toBe(provider);
      expect(hidden(form, 'invite')).toBe('inv-123');
      expect(form).toContain(`<button type="submit">${escapeHtml(label)}</button>`);
    }
    expect(main).toContain(`<time datetime="2026-12-09T12:00:00Z">${formatDateTime(lang, '2026-12-09T12:00:00Z')}</time>`);
    expect(main).toContain(escapeHtml(t(lang, 'landing.once')));
  });

  it('puts the promises before the buttons', () => {
    const main = mainOf(render(VIEWS.landing));
    expect(main.indexOf('AES-256')).toBeLessThan(main.indexOf('<form'));
  });
});

describe('status', () => {
  const page = render(VIEWS.status, 'en', {}, CONSENT_ROUTES.status);
  const main = mainOf(page);
  const rows = [...main.matchAll(/<tr>\n<td>[\s\S]*?<\/tr>/g)].map((m) => m[0]);

  it('lists each mailbox with provider, address and state in words', () => {
    expect(rows).toHaveLength(4);
    expect(rows[0]).toMatch(/<td>Gmail<\/td>\n<th scope="row"><span class="address">support@acme\.example<\/span><\/th>/);
    expect(rows[0]).toContain('<span class="state state-connected">Connected</span>');
    expect(rows[1]).toContain('<span class="state state-reauthorization_required">Reauthorization required</span>');
    expect(rows[2]).toContain('<td>Microsoft 365</td>');
    expect(rows[3]).toContain('<span class="state state-disconnected">Disconnected</span>');
    expect(rows[3]).toContain('<span class="visually-hidden">Address no longer available</span>');
  });

  it('shows the times in UTC, "Never" when there is none, and the deletion date of a disconnected mailbox', () => {
    expect(rows[0]).toContain('<time datetime="2026-12-01T09:30:00Z">1 December 2026 at 09:30 UTC</time>');
    expect(rows[0]).toContain('<time datetime="2026-12-08T09:00:00Z">8 December 2026 at 09:00 UTC</time>');
    expect(rows[1]).toContain('<span class="visually-hidden">Never</span>');
    expect(rows[3]).toContain('All data deleted by <time datetime="2027-01-05T00:00:00Z">5 January 2027</time>');
    expect(rows[0]).not.toContain('All data deleted by');
  });

  it('offers Reconnect only when reauthorization is required, Disconnect unless already disconnected', () => {
    const actions = rows.map((r) => forms(r).map((f) => [/action="([^"]+)"/.exec(f)?.[1], hidden(f, 'provider') ?? null, hidden(f, 'mailbox')]));
    expect(actions).toEqual([
      [[CONSENT_ROUTES.disconnect, null, 'mbx-ok']],
      [
        [CONSENT_ROUTES.start, 'google', 'mbx-reauth'],
        [CONSENT_ROUTES.disconnect, null, 'mbx-reauth'],
      ],
      [
        [CONSENT_ROUTES.start, 'microsoft', 'mbx-graph'],
        [CONSENT_ROUTES.disconnect, null, 'mbx-graph'],
      ],
      [],
    ]);
    // Each button names its mailbox for screen readers.
    expect(rows[1]).toContain('Reconnect<span class="visually-hidden"> billing@acme.example</span></button>');
  });

  it('shows the notice as a status message, and Google’s notice beside a Gmail mailbox needing reauthorization', () => {
    expect(main).toContain(`<div class="banner" role="status"><p>${t('en', 'notice.connected')}</p></div>`);
    expect(rows[1]).toContain('<a href="#google-notice">');
    expect(rows[2]).not.toContain('#google-notice'); // Microsoft: Google's notice does not apply
    expect(main).toContain(escapeHtml(t('en', 'googleNotice.testing')));
  });

  it('offers both providers for another mailbox, explains removing Microsoft consent, and says when the session ends', () => {
    const connect = forms(main).filter((f) => f.includes(`action="${CONSENT_ROUTES.start}"`) && !hidden(f, 'mailbox'));
    expect(connect.map((f) => hidden(f, 'provider'))).toEqual(['google', 'microsoft']);
    expect(main).toContain('Connect another mailbox');
    expect(main).toContain('Global Administrator or Privileged Role Administrator');
    expect(main).toContain('Microsoft Entra admin center, under Enterprise applications');
    expect(main).toContain('<time datetime="2026-12-02T18:00:00Z">2 December 2026 at 18:00 UTC</time>');
  });

  it('ends with a sign-out form carrying the CSRF token, and the signed-out page offers nothing of the tenant', () => {
    const signOut = forms(main).filter((f) => f.includes(`action="${CONSENT_ROUTES.signOut}"`));
    expect(signOut).toHaveLength(1);
    expect(hidden(signOut[0]!, 'csrf')).toBe(CSRF);
    expect(signOut[0]).toContain(`>${t('en', 'status.signOut')}</button>`);
    const out = mainOf(render(VIEWS.signedOut, 'nl'));
    expect(out).toContain(t('nl', 'signedOut.text'));
    expect(forms(out)).toEqual([]);
  });

  it('has an empty state, no banner without a notice, and no Google notice without a Gmail mailbox needing it', () => {
    const empty = mainOf(render(VIEWS.statusEmpty, 'sv'));
    expect(empty).toContain(`<p>${t('sv', 'status.empty')}</p>`);
    expect(empty).not.toContain('<table');
    expect(empty).not.toContain('role="status"');
    expect(empty).not.toContain('google-notice');
    expect(empty).toContain(t('sv', 'status.connectFirst'));
  });
});

describe('microsoft mailboxes', () => {
  it.each(LANGUAGES)('%s: a labelled textarea with hint and errors linked, the typed text kept, reasons localized', (lang) => {
    const main = mainOf(render(VIEWS.microsoft, lang));
    expect(main).toContain(`<label for="addresses">${escapeHtml(t(lang, 'msMailboxes.label'))}</label>`);
    expect(main).toContain(`<p class="hint" id="addresses-hint">${escapeHtml(t(lang, 'msMailboxes.hint'))}</p>`);
    expect(main).toMatch(/<textarea id="addresses" name="addresses"[^>]* aria-describedby="addresses-hint addresses-error" aria-invalid="true">\nhelp@acme\.example\nnot-an-address, sales@other\.example<\/textarea>/);
    expect(main).toContain(`<dt>not-an-address</dt><dd>${escapeHtml(t(lang, 'refused.invalid_address'))}</dd>`);
    expect(main).toContain(`<dt>sales@other.example</dt><dd>${escapeHtml(t(lang, 'refused.domain_not_verified'))}</dd>`);
    expect(main).toContain('<li class="address">acme.se</li>');
    const [form, ...rest] = forms(main);
    expect(rest).toEqual([]);
    expect(form).toContain(`action="${CONSENT_ROUTES.microsoftMailboxes}"`);
    expect(hidden(form!, 'step')).toBe('step-9');
    expect(form).toContain(`<button type="submit">${escapeHtml(t(lang, 'msMailboxes.submit'))}</button>`);
  });

  it('without refusals: no error block and the field is not marked invalid', () => {
    const main = mainOf(render({ ...VIEWS.microsoft, refused: [], addresses: '' }));
    expect(main).not.toContain('error-summary');
    expect(main).not.toContain('aria-invalid');
    expect(main).toContain('aria-describedby="addresses-hint"');
  });

  it('says so when the directory has no verified domain', () => {
    expect(mainOf(render({ ...VIEWS.microsoft, verifiedDomains: [] }, 'fr'))).toContain(escapeHtml(t('fr', 'msMailboxes.domains.none')));
  });
});

describe('confirm disconnect', () => {
  it.each(LANGUAGES)('%s: names the mailbox, states the consequences and the deadline, posts the confirmation', (lang) => {
    const main = mainOf(render(VIEWS.confirm, lang));
    expect(main).toContain('<dd class="address">support@acme.example</dd>');
    expect(main).toContain('<dd>Gmail</dd>');
    expect(main).toContain(`<time datetime="2027-01-01T00:00:00Z">${formatDate(lang, '2027-01-01T00:00:00Z')}</time>`);
    for (const key of ['disconnect.notifications', 'disconnect.access', 'disconnect.backups'] as const) expect(main).toContain(escapeHtml(t(lang, key)));
    const [form, ...rest] = forms(main);
    expect(rest).toEqual([]);
    expect(form).toContain(`action="${CONSENT_ROUTES.confirmDisconnect}"`);
    expect(hidden(form!, 'confirmation')).toBe('conf-7');
    expect(form).toContain(`<button type="submit" class="danger">${escapeHtml(t(lang, 'disconnect.confirm'))}</button>`);
    expect(main).toContain(`<a href="${CONSENT_ROUTES.status}?lang=${lang}">${escapeHtml(t(lang, 'disconnect.cancel'))}</a>`);
  });
});

describe('error pages', () => {
  it('render every code in every language with its own title and explanation', () => {
    for (const lang of LANGUAGES) {
      for (const code of CONSENT_ERROR_CODES) {
        const page = render({ page: 'error', code, backToStatus: false }, lang);
        const title = escapeHtml(t(lang, `error.${code}.title`));
        expect(page).toContain(`<h1>${title}</h1>`);
        expect(page).toContain(`<title>${title} – `);
        expect(mainOf(page)).toContain(escapeHtml(t(lang, `error.${code}.text`)));
        expect(mainOf(page)).not.toContain('<a ');
        expect(mainOf(page)).not.toMatch(/\b(?:error|exception|stack|code)\b|_/i);
      }
    }
  });

  it('links back to the status page only when a session is alive', () => {
    expect(mainOf(render({ page: 'error', code: 'csrf', backToStatus: true }, 'sv'))).toContain(
      `<a href="${CONSENT_ROUTES.status}?lang=sv">${t('sv', 'common.backToStatus')}</a>`,
    );
  });
});

describe('stylesheet', () => {
  function luminance(hex: string): number {
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
  }
  function contrast(a: string, b: string): number {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi! + 0.05) / (lo! + 0.05);
  }

  it('meets WCAG AA contrast in the light and dark palettes', () => {
    expect(contrast('#777777', '#ffffff')).toBeLessThan(4.5); // the check can fail
    for (const [name, palette] of Object.entries(PALETTES)) {
      for (const [fg, bg] of TEXT_PAIRS) expect(contrast(palette[fg], palette[bg]), `${name} ${fg} on ${bg}`).toBeGreaterThanOrEqual(4.5);
      for (const [fg, bg] of NON_TEXT_PAIRS) expect(contrast(palette[fg], palette[bg]), `${name} ${fg} on ${bg}`).toBeGreaterThanOrEqual(3);
    }
  });

  it('uses only palette colours, system fonts, nothing external, and a visible focus outline', () => {
    const rules = CONSENT_CSS.replace(/^\s*--[a-z-]+: #[0-9a-f]{6};$/gm, '');
    expect(rules).not.toMatch(/#[0-9a-f]{3,8}\b/i); // colours come from the checked palettes
    expect(CONSENT_CSS).not.toMatch(/url\(|@import|@font-face/);
    expect(CONSENT_CSS).toMatch(/font-family: system-ui/);
    expect(CONSENT_CSS).toMatch(/:focus-visible \{ outline: 3px solid var\(--focus\)/);
    for (const token of ['text', 'bg', 'link', 'accent', 'on-accent', 'danger', 'on-danger', 'ok-text', 'warn-text', 'off-text', 'error-text']) {
      expect(CONSENT_CSS).toContain(`var(--${token})`);
    }
  });
});
