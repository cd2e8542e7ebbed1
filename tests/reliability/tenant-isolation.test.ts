// Tenant isolation on the local stack (dynalite, s3rver, the local keyring): two tenants with mail,
// and every read and data-subject path called under tenant A with tenant B's ids — the domain's
// reads, the DSRs, the ticket viewer's routes and the consent site's forms. Each answers "not
// found", each read leaves a record of the attempt in A's audit log, and B's data is unchanged.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GoogleGmailConnector } from '../../shared/adapters/gmail/google-gmail-connector.js';
import { GoogleOAuthAuthorization } from '../../shared/adapters/oauth/google-authorization.js';
import { CountingMetrics } from '../../shared/adapters/system/metrics.js';
import { loadLocalConfig } from '../../shared/config.js';
import type { Accessor, AuditRecord } from '../../shared/domain/audit.js';
import { createInvite, createTenant } from '../../shared/domain/consent/invites.js';
import { NotFound } from '../../shared/domain/errors.js';
import { ingestMessage, type IngestResult } from '../../shared/domain/ingest.js';
import { eraseRequester, exportRequester, rectifyRequester, restrictRequester } from '../../shared/domain/requesters.js';
import { listTickets, readAttachment, showTicket } from '../../shared/domain/tickets.js';
import { localConsentSite } from '../../shared/local/consent-site.js';
import { openLocalStack, type LocalStack } from '../../shared/local/stack.js';
import { handleConsentRequest, type ConsentSite, type WebRequest } from '../../shared/web/consent-router.js';
import { handleViewerRequest, SESSION_COOKIE, type ViewerRequest, type ViewerSite } from '../../shared/web/viewer-router.js';
import { OperatorSessions } from '../../shared/web/viewer-session.js';
import { EicarScanner, ManualClock } from '../support/memory.js';
import { mimeMessage } from '../support/mail.js';

const A = 'acme';
const B = 'globex';
const BASE = 'https://consent.example';
const AGENT_A: Accessor = { actor: 'operator:acme-agent', reason: 'isolation probe' };
const AGENT_B: Accessor = { actor: 'operator:globex-agent', reason: 'globex own work' };
const ANN = 'ann@acme-customer.example';
const BEA = 'bea@globex-customer.example';

let dataDir: string;
let stack: LocalStack;
let consent: ConsentSite;
const mails: Record<string, IngestResult> = {};
let bAttachmentId: string;
let aAttachmentId: string;

function mail(o: { id: string; from: string; body: string; attachment: string }): Buffer {
  return mimeMessage({
    messageId: `${o.id}@customer.example`,
    from: o.from,
    subject: `Isolation ${o.id}`,
    text: o.body,
    attachments: [{ filename: o.attachment, contentType: 'application/octet-stream', bytes: `${o.body}-BYTES` }],
  });
}

async function audit(tenantId: string): Promise<AuditRecord[]> {
  return stack.deps.audit.list(tenantId);
}

/** Everything tenant B holds, as B's own agent reads it: must not change under A's probes. */
async function snapshotOfB(): Promise<unknown> {
  const tickets = await listTickets(stack.deps, B, AGENT_B);
  const views = await Promise.all(tickets.map((t) => showTicket(stack.deps, B, t.ticketId, AGENT_B)));
  const { document } = await exportRequester(stack.deps, B, BEA, 'B-SNAPSHOT', AGENT_B);
  return { tickets, views, exported: document.tickets, restricted: [...(await stack.deps.repo.listRestrictions(B))] };
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'm2t-isolation-'));
  stack = await openLocalStack(loadLocalConfig({ MAIL2TICKET_DATA_DIR: dataDir }), { scanner: new EicarScanner() });
  const createdAt = stack.deps.clock.now().toISOString();
  for (const tenantId of [A, B]) {
    await createTenant({ store: stack.consent.store, clock: stack.deps.clock, ids: stack.deps.ids }, `Tenant ${tenantId}`, tenantId);
    await stack.deps.repo.putMailbox({ tenantId, mailboxId: 'support', provider: 'local', status: 'connected', createdAt });
    // A provider mailbox of each tenant, for the consent site's forms.
    await stack.deps.repo.putMailbox({ tenantId, mailboxId: `gmail-${tenantId}1`, provider: 'gmail', status: 'connected', createdAt });
  }
  const ingest = async (tenantId: string, raw: Buffer) => ingestMessage(stack.deps, Readable.from([raw]), { tenantId, mailboxId: 'support', receivedAt: stack.deps.clock.now() });
  mails.a = await ingest(A, mail({ id: 'a1', from: `Ann <${ANN}>`, body: 'ACME-BODY', attachment: 'acme.txt' }));
  mails.b = await ingest(B, mail({ id: 'b1', from: `Bea <${BEA}>`, body: 'GLOBEX-BODY', attachment: 'globex.txt' }));
  aAttachmentId = mails.a.attachments[0]?.id as string;
  bAttachmentId = mails.b.attachments[0]?.id as string;
  expect(mails.a.attachments[0]?.scan).toBe('clean');
  expect(mails.b.attachments[0]?.scan).toBe('clean');

  const lifecycle = { ...stack.deps, directory: stack.directory, gmail: new GoogleGmailConnector({ clientId: 'c', clientSecret: 's' }), metrics: new CountingMetrics(), settings: { topicName: 'projects/p/topics/t' } };
  consent = localConsentSite(stack, {
    baseUrl: BASE,
    retention: { repo: stack.deps.repo, retention: stack.retention, blobs: stack.deps.blobs, clock: stack.deps.clock },
    providers: { google: { authorization: new GoogleOAuthAuthorization({ clientId: 'client-1', clientSecret: 's' }), origin: 'https://accounts.google.com', lifecycle } },
    report: (line) => expect.fail(line),
  });
});
afterAll(async () => {
  await stack?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('tenant isolation', () => {
  it('the read use-cases under A with B\'s ticket and attachment ids: not found, audited in A, nothing of B shown', async () => {
    const before = await snapshotOfB();
    const bTicket = mails.b?.ticketId as string;

    const listed = await listTickets(stack.deps, A, AGENT_A);
    expect(listed.map((t) => t.ticketId)).toEqual([mails.a?.ticketId]);
    // B's mailbox id is 'support' in A too: a filter by it still shows A's only.
    expect((await listTickets(stack.deps, A, AGENT_A, 'support')).map((t) => t.ticketId)).toEqual([mails.a?.ticketId]);

    await expect(showTicket(stack.deps, A, bTicket, AGENT_A)).rejects.toBeInstanceOf(NotFound);
    expect((await audit(A)).at(-1)).toMatchObject({ tenantId: A, actor: AGENT_A.actor, action: 'ticket.view', outcome: 'not_found', subjectIds: [bTicket] });

    await expect(readAttachment(stack.deps, A, bAttachmentId, AGENT_A)).rejects.toBeInstanceOf(NotFound);
    expect((await audit(A)).at(-1)).toMatchObject({ actor: AGENT_A.actor, action: 'attachment.download', outcome: 'not_found', subjectIds: [bAttachmentId] });

    // The control: A's own ids are served, so the refusals above are about the tenant.
    expect((await showTicket(stack.deps, A, mails.a?.ticketId as string, AGENT_A)).messages[0]?.text.trim()).toBe('ACME-BODY');
    await (await readAttachment(stack.deps, A, aAttachmentId, AGENT_A)).content.resume();

    expect(await snapshotOfB()).toEqual(before);
  });

  it('regression: a data-subject request naming another tenant\'s requester was audited as "ok" — now "not_found"; nothing found, B unchanged', async () => {
    const before = await snapshotOfB();
    const ref = (n: number) => `ISO-${n}`;

    const exported = await exportRequester(stack.deps, A, BEA, ref(1), AGENT_A);
    expect(exported.document.tickets).toEqual([]);
    expect(exported.files).toEqual([]);
    expect(await rectifyRequester(stack.deps, A, BEA, { name: 'Mallory', newEmail: 'mallory@evil.example' }, ref(2), AGENT_A)).toEqual({ messages: 0, tickets: 0 });
    expect(await eraseRequester(stack.deps, A, BEA, ref(3), AGENT_A)).toEqual({ deleted: 0, redacted: 0, suppressed: 0, ticketsDeleted: 0 });
    await restrictRequester(stack.deps, A, BEA, true, ref(4), AGENT_A);

    const records = (await audit(A)).filter((r) => r.actor === AGENT_A.actor && r.action.startsWith('requester.'));
    expect(records.map((r) => [r.action, r.outcome, r.subjectIds])).toEqual([
      ['requester.export', 'not_found', []],
      ['requester.rectify', 'not_found', []],
      ['requester.erase', 'not_found', []],
      // A restriction may be set before any mail of the address arrives: it is recorded as done.
      ['requester.restrict', 'ok', []],
    ]);
    for (const [i, r] of records.entries()) expect(r.reason).toContain(`[request ${ref(i + 1)}]`);

    // B still sees Bea's ticket, unrestricted and unrectified, with her message and file.
    expect(await snapshotOfB()).toEqual(before);
    expect(JSON.stringify(before)).toContain(BEA);
  });

  it('A\'s audit log holds only A\'s records, and B\'s holds none of A\'s probes', async () => {
    await showTicket(stack.deps, B, mails.b?.ticketId as string, AGENT_B);
    const ofA = await audit(A);
    const ofB = await audit(B);
    expect(ofA.length).toBeGreaterThan(0);
    expect(ofA.every((r) => r.tenantId === A && r.actor !== AGENT_B.actor)).toBe(true);
    expect(ofB.every((r) => r.tenantId === B && r.actor !== AGENT_A.actor)).toBe(true);
    // B's ids appear in A's log only as what was asked for and refused.
    const bIds = new Set([mails.b?.ticketId, mails.b?.messageId, bAttachmentId]);
    for (const r of ofA.filter((r) => r.subjectIds.some((id) => bIds.has(id)))) expect(r.outcome).not.toBe('ok');
  });

  describe('the ticket viewer fixed to tenant A', () => {
    let site: ViewerSite;
    let cookie: string;
    const get = (path: string): Promise<Awaited<ReturnType<typeof handleViewerRequest>>> =>
      handleViewerRequest(site, { method: 'GET', path, query: {}, headers: {}, cookies: { [SESSION_COOKIE]: cookie }, addressedToLoopback: true } satisfies ViewerRequest);

    beforeAll(() => {
      site = { deps: stack.deps, tenantId: A, sessions: new OperatorSessions(new ManualClock(), 'login-token'), reportError: (route, error) => expect.fail(`${route}: ${String(error)}`) };
      cookie = site.sessions.redeem('login-token')?.sessionId as string;
    });

    it('answers B\'s ticket and attachment URLs with the not-found page and audits each attempt in A', async () => {
      const before = await snapshotOfB();
      const bTicket = mails.b?.ticketId as string;
      const aTicket = mails.a?.ticketId as string;
      const cases: Array<{ path: string; action: AuditRecord['action']; asked: string }> = [
        { path: `/tickets/${bTicket}`, action: 'ticket.view', asked: bTicket },
        { path: `/tickets/${bTicket}/attachments/${bAttachmentId}`, action: 'attachment.download', asked: bAttachmentId },
        { path: `/tickets/${aTicket}/attachments/${bAttachmentId}`, action: 'attachment.download', asked: bAttachmentId },
      ];
      for (const { path, action, asked } of cases) {
        const response = await get(path);
        expect(response.status, path).toBe(404);
        expect(typeof response.body === 'string' ? response.body : '', path).not.toMatch(/GLOBEX|globex\.txt|bea@/);
        expect((await audit(A)).at(-1), path).toMatchObject({ actor: 'operator:viewer', action, outcome: 'not_found', subjectIds: [asked] });
      }
      const list = await get('/tickets');
      expect(list.status).toBe(200);
      expect(list.body).not.toContain(bTicket);
      expect(list.body).toContain(aTicket);
      expect((await get(`/tickets/${aTicket}`)).status).toBe(200);
      expect(await snapshotOfB()).toEqual(before);
    });
  });

  describe('the consent site under A\'s admin session', () => {
    let sessionCookie: string;
    let csrf: string;
    const post = (path: string, form: Record<string, string>) =>
      handleConsentRequest(consent, {
        method: 'POST',
        path,
        query: {},
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        cookies: { m2t_session: sessionCookie },
        body: new URLSearchParams({ csrf, ...form }).toString(),
      } satisfies WebRequest);

    beforeAll(async () => {
      const { url } = await createInvite({ store: stack.consent.store, clock: stack.deps.clock, ids: stack.deps.ids, signingKey: stack.consent.signingKey, baseUrl: BASE }, A);
      const invite = new URL(url).searchParams.get('invite') as string;
      const landing = await handleConsentRequest(consent, { method: 'GET', path: '/connect', query: { invite }, headers: {}, cookies: {}, body: undefined });
      const pre = landing.cookies.find((c) => c.startsWith('m2t_pre='))?.split(';')[0]?.slice('m2t_pre='.length) as string;
      const landingCsrf = /name="csrf" value="([^"]+)"/.exec(landing.body)?.[1] as string;
      const started = await handleConsentRequest(consent, {
        method: 'POST',
        path: '/connect/start',
        query: {},
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        cookies: { m2t_pre: pre },
        body: new URLSearchParams({ invite, csrf: landingCsrf, provider: 'google' }).toString(),
      });
      expect(started.status).toBe(303);
      sessionCookie = started.cookies.find((c) => c.startsWith('m2t_session='))?.split(';')[0]?.slice('m2t_session='.length) as string;
      const status = await handleConsentRequest(consent, { method: 'GET', path: '/connect/status', query: {}, headers: {}, cookies: { m2t_session: sessionCookie }, body: undefined });
      expect(status.status).toBe(200);
      expect(status.body).toContain(`gmail-${A}1`);
      expect(status.body).not.toContain(`gmail-${B}1`);
      csrf = /name="csrf" value="([^"]+)"/.exec(status.body)?.[1] as string;
    });

    it('refuses B\'s mailbox id in the disconnect and reconnect forms as not found, and leaves B\'s mailbox connected', async () => {
      const foreign = `gmail-${B}1`;
      for (const [path, form] of [
        ['/connect/disconnect', { mailbox: foreign }],
        ['/connect/start', { provider: 'google', mailbox: foreign }],
      ] as const) {
        const response = await post(path, form);
        expect(response.status, path).toBe(404);
        expect(response.headers.location, path).toBeUndefined();
      }
      // The control: the same forms with A's own mailbox lead on to Google.
      for (const [path, form] of [
        ['/connect/disconnect', { mailbox: `gmail-${A}1` }],
        ['/connect/start', { provider: 'google', mailbox: `gmail-${A}1` }],
      ] as const) {
        const response = await post(path, form);
        expect(response.status, path).toBe(303);
        expect(response.headers.location, path).toMatch(/^https:\/\/accounts\.google\.com\//);
      }
      expect(await stack.deps.repo.getMailbox(B, foreign)).toMatchObject({ status: 'connected' });
    });
  });
});
