// The consent site's language switch and the Microsoft mailbox step, through the Lambda handler on
// the local stack's table: a language asked for in any case is honoured, an invite that cannot be used
// keeps its link when the admin switches language (so the page still says why), and a mailbox list
// refused for its size leaves the one-time step unspent.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleConsent } from '../../functions/consent/make-handler.js';
import { loadLocalConfig } from '../../shared/config.js';
import { createInvite, createTenant, csrfToken, revokeInvite, sessionOf } from '../../shared/domain/consent/invites.js';
import type { ConsentDeps } from '../../shared/domain/consent/deps.js';
import { issueState } from '../../shared/domain/consent/states.js';
import { DependencyUnavailable } from '../../shared/domain/errors.js';
import { ProviderThrottled } from '../../shared/domain/provider-errors.js';
import { localConsentSite } from '../../shared/local/consent-site.js';
import { openLocalStack, type LocalStack } from '../../shared/local/stack.js';
import { consentEvent } from '../support/consent-event.js';
import { EicarScanner } from '../support/memory.js';

const BASE = 'https://consent.example';
let dataDir: string;
let stack: LocalStack;
let handle: ReturnType<typeof handleConsent>;
let d: { store: LocalStack['consent']['store']; clock: LocalStack['deps']['clock']; ids: LocalStack['deps']['ids']; signingKey: LocalStack['consent']['signingKey']; baseUrl: string };

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'm2t-consent-fixes-'));
  stack = await openLocalStack(loadLocalConfig({ MAIL2TICKET_DATA_DIR: dataDir }), { scanner: new EicarScanner() });
  // Sign-in URLs only: these tests never reach Microsoft's token or Graph endpoints.
  const authorization = {
    signInUrl: async () => 'https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize',
    adminConsentUrl: () => 'https://login.microsoftonline.com/organizations/v2.0/adminconsent',
    completeSignIn: async () => {
      throw new Error('not used by these tests');
    },
  } as unknown as NonNullable<ConsentDeps['microsoft']>['authorization'];
  const lifecycle = {} as NonNullable<ConsentDeps['microsoft']>['lifecycle'];
  const site = localConsentSite(stack, {
    baseUrl: BASE,
    retention: { repo: stack.deps.repo, retention: stack.retention, blobs: stack.deps.blobs, clock: stack.deps.clock },
    providers: { microsoft: { authorization, origin: 'https://login.microsoftonline.com', lifecycle } },
    report: (line) => expect.fail(line),
  });
  handle = handleConsent(site);
  d = { store: stack.consent.store, clock: stack.deps.clock, ids: stack.deps.ids, signingKey: stack.consent.signingKey, baseUrl: BASE };
});
afterAll(async () => {
  await stack?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

const heading = (body: unknown) => /<h1>([^<]*)/.exec(String(body))?.[1];

async function newInvite(name: string) {
  const tenant = await createTenant(d, name);
  const { url, invite } = await createInvite(d, tenant.tenantId);
  return { token: new URL(url).searchParams.get('invite') as string, record: invite };
}

describe('the language switch', () => {
  it.each(['sv', 'SV', ' Sv ', 'sV'])('honours ?lang=%j and remembers it', async (lang) => {
    const { token } = await newInvite(`Lang ${lang.trim()} AB`);
    const page = await handle(consentEvent('GET', '/connect', { query: { invite: token, lang }, headers: { 'accept-language': 'en' } }));
    expect(page.statusCode).toBe(200);
    expect(page.headers?.['content-language']).toBe('sv');
    expect((page.cookies ?? []).some((c) => c.startsWith('m2t_lang=sv'))).toBe(true);
  });

  it('keeps a withdrawn invite through the switch, so the page says it was withdrawn, in the new language', async () => {
    const { token, record } = await newInvite('Withdrawn AB');
    await revokeInvite(d, record.inviteId);
    const english = await handle(consentEvent('GET', '/connect', { query: { invite: token }, headers: { 'accept-language': 'en' } }));
    expect(english.statusCode).toBe(410);
    const swedishLink = [...String(english.body).matchAll(/<a href="([^"]+)"[^>]*lang="sv"/g)].map((m) => m[1])[0];
    expect(swedishLink).toBeDefined();
    const target = new URL(String(swedishLink).replace(/&amp;/g, '&'), BASE);
    const swedish = await handle(consentEvent('GET', target.pathname, { query: Object.fromEntries(target.searchParams), headers: { 'accept-language': 'en' } }));
    const direct = await handle(consentEvent('GET', '/connect', { query: { invite: token, lang: 'sv' } }));
    expect(swedish.statusCode).toBe(410);
    expect(swedish.headers?.['content-language']).toBe('sv');
    expect(heading(swedish.body)).toBe(heading(direct.body));
  });
});

/** An invited admin through the landing page's POST: the session cookie (`m2t_session=…`) and its value. */
async function signIn(tenantName: string): Promise<{ cookie: string; value: string }> {
  const { token } = await newInvite(`${tenantName} ${Math.random().toString(36).slice(2, 8)}`);
  const landing = await handle(consentEvent('GET', '/connect', { query: { invite: token } }));
  const pre = (landing.cookies ?? []).find((c) => c.startsWith('m2t_pre='))?.split(';')[0] as string;
  const csrfPre = /name="csrf" value="([^"]+)"/.exec(String(landing.body))?.[1] as string;
  const started = await handle(consentEvent('POST', '/connect/start', { cookies: [pre], form: { invite: token, csrf: csrfPre, provider: 'microsoft' } }));
  const cookie = (started.cookies ?? []).find((c) => c.startsWith('m2t_session='))?.split(';')[0] as string;
  return { cookie, value: cookie.slice('m2t_session='.length) };
}

describe('the Microsoft mailbox step', () => {
  async function signedIn() {
    const { cookie, value } = await signIn('Contoso');
    const session = await sessionOf(d, value);
    if (!session) throw new Error('no session');
    // The step the admin-consent callback issues (the form's hidden field).
    const step = (await issueState(d, session, 'microsoft-mailboxes', { azureTenantId: '00000000-0000-0000-0000-000000000001', verifiedDomains: ['contoso.com'] })).state;
    return { cookie, csrf: csrfToken(d.signingKey, value), step };
  }

  it.each([
    ['21 addresses', Array.from({ length: 21 }, (_, i) => `user${i}@contoso.com`).join('\n')],
    ['only whitespace', '  \n  '],
    ['a list over the length limit', `${'x'.repeat(8000)}@contoso.com`],
  ])('refuses %s without spending the step: the same step still works', async (_label, addresses) => {
    const { cookie, csrf, step } = await signedIn();
    const refused = await handle(consentEvent('POST', '/connect/microsoft/mailboxes', { cookies: [cookie], form: { csrf, step, addresses } }));
    expect(refused.statusCode).toBe(400);
    // Back and again with the same step: the list is read (an unverified domain is refused per
    // address, on the form with a fresh step), not "this sign-in has already been completed".
    const again = await handle(consentEvent('POST', '/connect/microsoft/mailboxes', { cookies: [cookie], form: { csrf, step, addresses: 'someone@fabrikam.example' } }));
    expect(again.statusCode).toBe(422);
    expect(String(again.body)).toContain('<textarea');
  });
});

describe('an unexpected failure', () => {
  /** The site with its store's session lookup failing as `error`, and what it reported. */
  function failingSite(error: Error) {
    const reported: string[] = [];
    const site = localConsentSite(stack, {
      baseUrl: BASE,
      retention: { repo: stack.deps.repo, retention: stack.retention, blobs: stack.deps.blobs, clock: stack.deps.clock },
      providers: {},
      report: (line) => reported.push(line),
    });
    const store = new Proxy(site.deps.store, {
      get: (target, prop, receiver) =>
        prop === 'getSession'
          ? async () => {
              throw error;
            }
          : Reflect.get(target, prop, receiver),
    });
    return { handle: handleConsent({ ...site, deps: { ...site.deps, store } }), reported };
  }

  it('of our own is not blamed on Google or Microsoft', async () => {
    const { handle: failing, reported } = failingSite(new DependencyUnavailable('the table is unreachable'));
    const page = await failing(consentEvent('GET', '/connect/status', { cookies: ['m2t_session=abc'], headers: { 'accept-language': 'fr' } }));
    expect(page.statusCode).toBe(500);
    expect(heading(page.body)).toBe('Un problème est survenu de notre côté');
    expect(String(page.body)).not.toMatch(/Google|Microsoft|DependencyUnavailable|unreachable/);
    expect(reported).toEqual([expect.stringContaining('DependencyUnavailable')]);
  });

  it("of a provider's is", async () => {
    const { handle: failing } = failingSite(new ProviderThrottled('slow down'));
    const page = await failing(consentEvent('GET', '/connect/status', { cookies: ['m2t_session=abc'], headers: { 'accept-language': 'en' } }));
    expect(page.statusCode).toBe(500);
    expect(heading(page.body)).toBe('The mail provider could not complete the request');
  });
});

describe('signing out', () => {
  it('ends the session on the server and clears its cookie: the old cookie opens nothing, and only a form with its CSRF token does it', async () => {
    const { cookie, value } = await signIn('Sign-out AB');

    const status = await handle(consentEvent('GET', '/connect/status', { cookies: [cookie] }));
    expect(status.statusCode).toBe(200);
    const csrf = /action="\/connect\/sign-out">\s*<input type="hidden" name="csrf" value="([^"]+)"/.exec(String(status.body))?.[1];
    expect(csrf).toBe(csrfToken(d.signingKey, value));

    // Another site's form cannot sign the admin out.
    const forged = await handle(consentEvent('POST', '/connect/sign-out', { cookies: [cookie], form: { csrf: 'forged' } }));
    expect(forged.statusCode).toBe(403);
    expect(await sessionOf(d, value)).toBeDefined();

    const out = await handle(consentEvent('POST', '/connect/sign-out', { cookies: [cookie], form: { csrf: csrf as string } }));
    expect(out.statusCode).toBe(303);
    expect(new URL(String(out.headers?.location), BASE).pathname).toBe('/connect/sign-out');
    expect(out.cookies).toContainEqual(expect.stringMatching(/^m2t_session=; Path=\/connect; Max-Age=0; HttpOnly; SameSite=Lax; Secure$/));
    expect(await sessionOf(d, value)).toBeUndefined();

    const page = await handle(consentEvent('GET', '/connect/sign-out', { headers: { 'accept-language': 'sv' } }));
    expect(page.statusCode).toBe(200);
    expect(heading(page.body)).toBe('Du är utloggad');

    // A copy of the old cookie, kept elsewhere, opens nothing.
    const after = await handle(consentEvent('GET', '/connect/status', { cookies: [cookie] }));
    expect(after.statusCode).toBe(401);
  });
});
