// The consent Lambda's event mapping (API Gateway HTTP API v2): cookies arrive as the `cookies` array
// and leave as `cookies`, a form body may be base64, and the router's answers pass through unchanged —
// against the local stack's table (dynalite) and the real Google authorization adapter (building its
// URL needs no network).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { handleConsent } from '../../functions/consent/make-handler.js';
import { GoogleGmailConnector } from '../../shared/adapters/gmail/google-gmail-connector.js';
import { GoogleOAuthAuthorization } from '../../shared/adapters/oauth/google-authorization.js';
import { CountingMetrics } from '../../shared/adapters/system/metrics.js';
import { loadLocalConfig } from '../../shared/config.js';
import { createInvite, createTenant } from '../../shared/domain/consent/invites.js';
import { localConsentSite } from '../../shared/local/consent-site.js';
import { openLocalStack, type LocalStack } from '../../shared/local/stack.js';
import { consentEvent, type ConsentRequest } from '../support/consent-event.js';
import { EicarScanner } from '../support/memory.js';

let dataDir: string;
let stack: LocalStack;
let handle: ReturnType<typeof handleConsent>;
const BASE = 'https://consent.example';

/** The admin's browser asks for Swedish (the pages' language is under test). */
const event = (method: string, path: string, request: Omit<ConsentRequest, 'headers'> = {}) => consentEvent(method, path, { ...request, headers: { 'accept-language': 'sv-SE,sv;q=0.9' } });

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'm2t-consent-handler-'));
  stack = await openLocalStack(loadLocalConfig({ MAIL2TICKET_DATA_DIR: dataDir }), { scanner: new EicarScanner() });
  const lifecycle = { ...stack.deps, directory: stack.directory, gmail: new GoogleGmailConnector({ clientId: 'c', clientSecret: 's' }), metrics: new CountingMetrics(), settings: { topicName: 'projects/p/topics/t' } };
  const site = localConsentSite(stack, {
    baseUrl: BASE,
    retention: { repo: stack.deps.repo, retention: stack.retention, blobs: stack.deps.blobs, clock: stack.deps.clock },
    providers: { google: { authorization: new GoogleOAuthAuthorization({ clientId: 'client-1', clientSecret: 's' }), origin: 'https://accounts.google.com', lifecycle } },
    report: (line) => expect.fail(line),
  });
  handle = handleConsent(site);
});
afterAll(async () => {
  await stack?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

it('carries cookies both ways, decodes a base64 form, and sends the admin to Google with PKCE', async () => {
  const tenant = await createTenant({ store: stack.consent.store, clock: stack.deps.clock, ids: stack.deps.ids }, 'Handler AB');
  const { url } = await createInvite({ store: stack.consent.store, clock: stack.deps.clock, ids: stack.deps.ids, signingKey: stack.consent.signingKey, baseUrl: BASE }, tenant.tenantId);
  const invite = new URL(url).searchParams.get('invite') as string;

  const landing = await handle(event('GET', '/connect', { query: { invite } }));
  expect(landing.statusCode).toBe(200);
  expect(landing.headers?.['content-language']).toBe('sv');
  expect(landing.headers?.['strict-transport-security']).toMatch(/max-age=/);
  const pre = (landing.cookies ?? []).find((c) => c.startsWith('m2t_pre='));
  expect(pre).toMatch(/; Secure/);
  const csrf = /name="csrf" value="([^"]+)"/.exec(String(landing.body))?.[1] as string;

  const started = await handle(event('POST', '/connect/start', { cookies: [pre?.split(';')[0] as string], form: { invite, csrf, provider: 'google' }, base64: true }));
  expect(started.statusCode).toBe(303);
  const location = new URL(String(started.headers?.location));
  expect(location.origin + location.pathname).toBe('https://accounts.google.com/o/oauth2/v2/auth');
  expect(location.searchParams.get('redirect_uri')).toBe(`${BASE}/connect/google/callback`);
  expect(location.searchParams.get('code_challenge_method')).toBe('S256');
  const session = (started.cookies ?? []).find((c) => c.startsWith('m2t_session='));
  expect(session).toMatch(/HttpOnly; SameSite=Lax; Secure$/);

  const status = await handle(event('GET', '/connect/status', { cookies: [session?.split(';')[0] as string] }));
  expect(status.statusCode).toBe(200);
  expect(String(status.body)).toContain('Handler AB');
  // The same form again: the invite is spent, and without the session it is refused.
  const again = await handle(event('POST', '/connect/start', { cookies: [pre?.split(';')[0] as string], form: { invite, csrf, provider: 'google' } }));
  expect(again.statusCode).toBe(410);
});
