// The ticket viewer of npm start, in process: a local stack (dynalite, s3rver, the local keyring) with
// the test run's real clamd, fixture mails ingested through ingestMessage, and the viewer's handler
// behind a real loopback HTTP server driven with fetch. What the operator sees (and cannot see),
// how the session and the host guard hold, and that every view and download lands in the audit log.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClamdScanner } from '../../shared/adapters/clamav/clamd-scanner.js';
import { loadLocalConfig } from '../../shared/config.js';
import type { AuditRecord } from '../../shared/domain/audit.js';
import { ingestMessage, type IngestResult } from '../../shared/domain/ingest.js';
import type { Scanner, ScanVerdict } from '../../shared/domain/ports.js';
import { openLocalStack, type LocalStack } from '../../shared/local/stack.js';
import { createTicketViewer, type TicketViewer } from '../../shared/local/ticket-viewer.js';
import { clamdSocket } from '../support/clamd.js';
import { ManualClock } from '../support/memory.js';

const ROOT = join(import.meta.dirname, '../..');
const MAIL = join(ROOT, 'tests/fixtures/mail');
const TENANT = 'default';
const STRICT_CSP = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

/** The real clamd, except while `hold` is set: then every verdict is "pending", as AWS's async scanner answers. */
class HoldableScanner implements Scanner {
  hold = false;
  constructor(private readonly clamd: Scanner) {}
  async scan(content: Readable): Promise<ScanVerdict> {
    if (!this.hold) return this.clamd.scan(content);
    content.pipe(new PassThrough()).resume();
    return { status: 'pending' };
  }
}

let dataDir: string;
let stack: LocalStack;
let scanner: HoldableScanner;
const servers: Server[] = [];
const ingested: Record<string, IngestResult> = {};
let minute = 0;

async function ingest(file: string, tenantId = TENANT, mailboxId = 'default'): Promise<IngestResult> {
  const raw = await readFile(join(MAIL, file));
  // One minute apart, in this order: the list's "newest activity first" is then known.
  const receivedAt = new Date(Date.UTC(2026, 10, 24, 9, minute++));
  const result = await ingestMessage(stack.deps, Readable.from([raw]), { tenantId, mailboxId, receivedAt });
  ingested[file] = result;
  return result;
}

/** A viewer behind its own loopback server, as npm start routes /tickets… to it. */
async function serveViewer(options: { clock?: ManualClock; deps?: LocalStack['deps']; report?: (line: string) => void } = {}): Promise<{ viewer: TicketViewer; base: string; port: number }> {
  let viewer: TicketViewer | undefined;
  const server = createServer((req, res) => {
    void (viewer as TicketViewer).serve(req, res, new URL(req.url ?? '/', 'http://127.0.0.1'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  const { port } = server.address() as AddressInfo;
  viewer = createTicketViewer({ deps: options.deps ?? stack.deps }, { tenantId: TENANT, port, ...(options.clock ? { clock: options.clock } : {}), ...(options.report ? { report: options.report } : {}) });
  return { viewer, base: `http://127.0.0.1:${port}`, port };
}

/** Follows the printed link: the session cookie it sets, as a Cookie header value. */
async function signIn(viewer: TicketViewer): Promise<string> {
  const response = await fetch(viewer.loginUrl, { redirect: 'manual' });
  expect(response.status).toBe(303);
  const session = response.headers.getSetCookie().find((c) => c.startsWith('m2t_viewer='));
  expect(session).toBeDefined();
  return (session as string).split(';')[0] as string;
}

async function get(url: string, cookie?: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; text: string }> {
  const response = await fetch(url, { redirect: 'manual', headers: { ...(cookie ? { cookie } : {}), ...headers } });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

function unescapeAttribute(value: string): string {
  return value.replace(/&(amp|lt|gt|quot|#39);/g, (_, name: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[name] as string);
}

/** The documents of the page's mail frames, and the page with them taken out. */
function frames(page: string): { documents: string[]; outside: string } {
  const documents: string[] = [];
  const outside = page.replace(/srcdoc="([^"]*)"/g, (_, value: string) => {
    documents.push(unescapeAttribute(value));
    return 'srcdoc=""';
  });
  return { documents, outside };
}

async function auditRecords(): Promise<AuditRecord[]> {
  return stack.deps.audit.list(TENANT);
}

async function attachmentId(file: string, filename: string): Promise<string> {
  const id = ingested[file]?.attachments.find((a) => a.filename === filename)?.id;
  expect(id, `${filename} of ${file}`).toBeDefined();
  return id as string;
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'm2t-viewer-'));
  scanner = new HoldableScanner(new ClamdScanner({ socketPath: clamdSocket() }));
  stack = await openLocalStack(loadLocalConfig({ MAIL2TICKET_DATA_DIR: dataDir }), { scanner });
  const createdAt = new Date().toISOString();
  await stack.deps.repo.putMailbox({ tenantId: TENANT, mailboxId: 'default', provider: 'local', status: 'connected', createdAt });
  await stack.deps.repo.putMailbox({ tenantId: TENANT, mailboxId: 'support', provider: 'local', status: 'connected', createdAt });
  await stack.deps.repo.putMailbox({ tenantId: 'globex', mailboxId: 'default', provider: 'local', status: 'connected', createdAt });

  await ingest('plain-text.eml');
  await ingest('html-hostile.eml', TENANT, 'support');
  await ingest('attach-clean.eml');
  await ingest('attach-eicar-plain.eml');
  await ingest('attach-encrypted-zip.eml');
  await ingest('inline-cid-image.eml');
  await ingest('no-message-id.eml');
  scanner.hold = true;
  await ingest('rfc2231-filename.eml');
  scanner.hold = false;
  // Carol's reply joins Alice's ticket last: that ticket now has the newest activity.
  await ingest('reply-from-new-participant.eml');
  await ingest('gmail-html-alternative.eml', 'globex');
}, 120_000);

afterAll(async () => {
  for (const server of servers) await new Promise<void>((resolve) => server.close(() => resolve()));
  await stack?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('ticket viewer: the operator session', () => {
  it('answers every route with a localized 401 page pointing to the printed link until the browser signs in', async () => {
    const { base, viewer } = await serveViewer();
    const ticketId = ingested['plain-text.eml']?.ticketId as string;
    for (const path of ['/tickets', `/tickets/${ticketId}`, `/tickets/${ticketId}/attachments/${await attachmentId('attach-clean.eml', 'clean.pdf')}`]) {
      const page = await get(`${base}${path}`, undefined, { 'accept-language': 'sv-SE,sv;q=0.9,en;q=0.5' });
      expect(page.status, path).toBe(401);
      expect(page.headers.get('content-security-policy')).toBe(STRICT_CSP);
      expect(page.headers.get('cache-control')).toBe('no-store');
      expect(page.text).toContain('<html lang="sv">');
      expect(page.text).toContain('Logga in med länken från npm start');
      expect(page.text).not.toContain('Printer on floor 3');
    }
    // A made-up session cookie is no session.
    expect((await get(`${base}/tickets`, 'm2t_viewer=forged-session-id')).status).toBe(401);
    // The stylesheet the 401 page links to is served without a session.
    const css = await get(`${base}/tickets/assets/viewer.css`);
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(viewer.loginUrl).toMatch(new RegExp(`^${base}/tickets/login\\?token=[A-Za-z0-9_-]{43}$`));
  });

  it('trades the printed link once for an HttpOnly, Secure, SameSite=Strict session of 8 hours', async () => {
    const { base, viewer } = await serveViewer();
    expect((await get(`${base}/tickets/login?token=${'A'.repeat(43)}`)).status).toBe(401);
    expect((await get(`${base}/tickets/login`)).status).toBe(401);

    const response = await fetch(viewer.loginUrl, { redirect: 'manual' });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/tickets');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    const [setCookie] = response.headers.getSetCookie();
    expect(setCookie).toMatch(/^m2t_viewer=[A-Za-z0-9_-]{43}; Path=\/tickets; Max-Age=28800; HttpOnly; Secure; SameSite=Strict$/);
    const cookie = (setCookie as string).split(';')[0] as string;
    expect((await get(`${base}/tickets`, cookie)).status).toBe(200);

    // Used: another browser following the same link gets a page that says so, and no session.
    const again = await get(viewer.loginUrl);
    expect(again.status).toBe(401);
    expect(again.headers.get('set-cookie')).toBeNull();
    expect(again.text).toContain('This sign-in link cannot be used');
    // The browser that used it comes back to the list.
    const back = await get(viewer.loginUrl, cookie);
    expect(back.status).toBe(303);
    expect(back.headers.get('location')).toBe('/tickets');
  });

  it('ends the session after 8 hours', async () => {
    const clock = new ManualClock(new Date());
    const { base, viewer } = await serveViewer({ clock });
    const cookie = await signIn(viewer);
    clock.advance(8 * 3_600_000 - 1000);
    expect((await get(`${base}/tickets`, cookie)).status).toBe(200);
    clock.advance(1000);
    const expired = await get(`${base}/tickets`, cookie);
    expect(expired.status).toBe(401);
    expect(expired.text).toContain('Sign in with the link from npm start');
  });

  it('refuses a request addressed to another host name, even with a valid session (DNS rebinding)', async () => {
    const { viewer, port } = await serveViewer();
    const cookie = await signIn(viewer);
    const before = (await auditRecords()).length;
    for (const host of [`rebound.example:${port}`, `127.0.0.1:${port + 1}`, 'localhost']) {
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, path: '/tickets', headers: { host, cookie } }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk)).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject).end();
      });
      expect(answer.status, host).toBe(421);
      expect(answer.body).not.toContain('Printer on floor 3');
    }
    expect((await auditRecords()).length).toBe(before);
    // Both loopback names are this server.
    expect((await get(`http://localhost:${port}/tickets`, cookie)).status).toBe(200);
  });

  it('is read-only: any other method is refused', async () => {
    const { base, viewer } = await serveViewer();
    const cookie = await signIn(viewer);
    const response = await fetch(`${base}/tickets`, { method: 'POST', headers: { cookie }, body: 'x=1' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET');
  });
});

describe('ticket viewer: what the operator sees', () => {
  let base: string;
  let cookie: string;
  beforeAll(async () => {
    const served = await serveViewer();
    base = served.base;
    cookie = await signIn(served.viewer);
  });

  it('lists the demo tenant’s tickets newest activity first, with requester, mailbox, activity and message count, and audits the list', async () => {
    const before = await auditRecords();
    const page = await get(`${base}/tickets`, cookie);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toBe(STRICT_CSP);
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.text).not.toMatch(/<script|style=/i);

    const rows = [...page.text.matchAll(/<tr>\n<th scope="row"><a href="\/tickets\/([A-Za-z0-9]+)">([^<]*)<\/a><\/th>\n<td><span class="address">([^<]*)<\/span><\/td>\n<td>([^<]*)<\/td>\n<td><time datetime="([^"]+)">[^<]*<\/time><\/td>\n<td class="number">(\d+)<\/td>/g)];
    const shown = rows.map((r) => ({ ticketId: r[1], subject: r[2], requester: r[3], mailbox: r[4], at: r[5], count: Number(r[6]) }));
    const expected = ['reply-from-new-participant.eml', 'rfc2231-filename.eml', 'no-message-id.eml', 'inline-cid-image.eml', 'attach-encrypted-zip.eml', 'attach-eicar-plain.eml', 'attach-clean.eml', 'html-hostile.eml'];
    expect(shown.map((r) => r.ticketId)).toEqual(expected.map((file) => ingested[file]?.ticketId));
    expect(shown[0]).toMatchObject({ subject: 'Printer on floor 3 is jammed', requester: 'Alice &lt;alice@customer.example&gt;', mailbox: 'default', count: 2, at: '2026-11-24T09:08:00.000Z' });
    expect(shown.find((r) => r.ticketId === ingested['html-hostile.eml']?.ticketId)).toMatchObject({ mailbox: 'support', count: 1 });
    // Another tenant's ticket is not among them.
    expect(page.text).not.toContain(ingested['gmail-html-alternative.eml']?.ticketId as string);
    expect(page.text).toContain('Tickets 1 to 8 of 8');

    const after = await auditRecords();
    expect(after).toHaveLength(before.length + 1);
    expect(after.at(-1)).toMatchObject({ action: 'ticket.list', actor: 'operator:viewer', reason: 'ticket viewer', outcome: 'ok' });
    expect(after.at(-1)?.subjectIds).toHaveLength(8);
  });

  it('shows the thread oldest first, with notices localized by code and their detail as stored, and audits the view', async () => {
    const ticketId = ingested['plain-text.eml']?.ticketId as string;
    const before = (await auditRecords()).length;
    const page = await get(`${base}/tickets/${ticketId}?lang=fr`, cookie);
    expect(page.status).toBe(200);
    expect(page.text).toContain('<html lang="fr">');
    expect(page.headers.getSetCookie().some((c) => c.startsWith('m2t_viewer_lang=fr;'))).toBe(true);
    expect(page.text).toContain('<h1>Printer on floor 3 is jammed</h1>');
    // Oldest first: Alice's message, then Carol's reply with its new_participant notice.
    const alice = page.text.indexOf('PHRASE-PLAIN-7f3a');
    const carol = page.text.indexOf('PHRASE-CAROL-1a5b');
    expect(alice).toBeGreaterThan(0);
    expect(carol).toBeGreaterThan(alice);
    expect(page.text).toContain('Message 2 sur 2');
    expect(page.text).toContain('Une nouvelle personne a rejoint la conversation.');
    expect(page.text).toContain('<span class="notice-detail" lang="en">carol@customer.example joined the conversation by replying to it</span>');
    // Plain-text mail is escaped text in a <pre>, not a frame.
    expect(frames(page.text).documents).toEqual([]);
    expect(page.text).toMatch(/<pre class="mail-text">[^<]*PHRASE-PLAIN-7f3a/);

    const after = await auditRecords();
    expect(after).toHaveLength(before + 1);
    expect(after.at(-1)).toMatchObject({ action: 'ticket.view', actor: 'operator:viewer', outcome: 'ok' });
    expect(after.at(-1)?.subjectIds[0]).toBe(ticketId);
    expect(after.at(-1)?.subjectIds).toHaveLength(3);

    const synthesized = await get(`${base}/tickets/${ingested['no-message-id.eml']?.ticketId}`, cookie);
    expect(synthesized.text).toContain('The message had no Message-ID. One was made from its content.');
  });

  it('renders hostile HTML only inside a sandboxed srcdoc frame with its own CSP: no script, handler, form, remote image or tracking pixel', async () => {
    const page = await get(`${base}/tickets/${ingested['html-hostile.eml']?.ticketId}`, cookie);
    expect(page.status).toBe(200);
    // The page's policy, plus data: images for its mail frames (which inherit it).
    expect(page.headers.get('content-security-policy')).toBe(
      "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'",
    );
    const { documents, outside } = frames(page.text);
    expect(documents).toHaveLength(1);
    expect(outside).toMatch(/<iframe class="mail-frame" sandbox="" referrerpolicy="no-referrer" title="Message 1, HTML version" srcdoc="">/);
    // Outside the frame, the mail is text only: its plain-text part may name those links, as escaped text.
    expect(outside).not.toMatch(/<script|<img|<form|<object|<embed|<base|<link rel="(?!stylesheet" href="\/tickets\/assets\/viewer\.css")|<meta http-equiv|\son[a-z]+=|(?:href|src|action)="(?![/#])/i);
    expect(outside).toContain('[javascript:alert(document.domain)]');

    const mail = documents[0] as string;
    expect(mail).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; base-uri 'none'; form-action 'none'">`);
    expect(mail).toContain('PHRASE-HOSTILE-0b9e');
    const body = mail.slice(mail.indexOf('<body>'));
    for (const forbidden of [/<script/i, /<style/i, /<link/i, /<iframe/i, /<form/i, /<input/i, /<object/i, /<embed/i, /<svg/i, /<base/i, /<meta/i, /\son[a-z]+\s*=/i, /style=/i, /javascript:/i, /data:text/i, /<img/i, /https?:\/\//i]) {
      expect(body, String(forbidden)).not.toMatch(forbidden);
    }
    // The text of the hostile links stays, without their targets.
    expect(body).toContain('Click here to keep your mailbox');
  });

  it('shows an inline cid: image only as an attachment: the frame references no part a browser cannot resolve', async () => {
    const page = await get(`${base}/tickets/${ingested['inline-cid-image.eml']?.ticketId}`, cookie);
    const { documents, outside } = frames(page.text);
    expect(documents[0]).toContain('PHRASE-INLINE-5b3e');
    expect(documents[0]).not.toContain('cid:');
    expect(outside).toContain('<span class="filename">PastedGraphic-1.png</span><p class="note">Embedded in the message</p>');
  });

  it('shows each attachment with its scan state and links only the clean ones', async () => {
    const eicar = await get(`${base}/tickets/${ingested['attach-eicar-plain.eml']?.ticketId}`, cookie);
    const infectedId = await attachmentId('attach-eicar-plain.eml', 'eicar.com.txt');
    const cleanId = await attachmentId('attach-eicar-plain.eml', 'clean.pdf');
    const signature = (await stack.deps.repo.getAttachment(TENANT, infectedId))?.scanDetail as string;
    expect(signature).toMatch(/eicar/i);
    const ticketId = ingested['attach-eicar-plain.eml']?.ticketId as string;
    expect(eicar.text).toContain(`<span class="state scan-infected">Infected (${signature})</span>`);
    expect(eicar.text).toContain('Not available: the file is infected and was not kept.');
    expect(eicar.text).not.toContain(`/attachments/${infectedId}`);
    expect(eicar.text).toContain(`<a href="/tickets/${ticketId}/attachments/${cleanId}">Download<span class="visually-hidden"> clean.pdf</span></a>`);
    expect(eicar.text).toContain('<span class="state scan-clean">Clean</span>');
    expect(eicar.text).toContain('An attachment contains malware. It was not kept and is never offered for download.');

    const encrypted = await get(`${base}/tickets/${ingested['attach-encrypted-zip.eml']?.ticketId}`, cookie);
    expect(encrypted.text).toContain('<span class="state scan-unscanned">Not scanned</span>');
    expect(encrypted.text).toContain('Not available until it passes a virus scan.');
    expect(encrypted.text).not.toContain(`/attachments/${await attachmentId('attach-encrypted-zip.eml', 'encrypted.zip')}`);

    const pending = await get(`${base}/tickets/${ingested['rfc2231-filename.eml']?.ticketId}?lang=sv`, cookie);
    expect(pending.text.match(/<span class="state scan-pending">Sökning pågår<\/span>/g)).toHaveLength(3);
    expect(pending.text).not.toContain('/attachments/');
    expect(pending.text).toContain('<span class="filename">résumé – v2.pdf</span>');
  });

  it('streams a clean attachment byte for byte as a download, never as a page, and audits it', async () => {
    const ticketId = ingested['attach-clean.eml']?.ticketId as string;
    const id = await attachmentId('attach-clean.eml', 'clean.pdf');
    const before = (await auditRecords()).length;
    const response = await fetch(`${base}/tickets/${ticketId}/attachments/${id}`, { headers: { cookie } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toBe(`attachment; filename="clean.pdf"; filename*=UTF-8''clean.pdf`);
    expect(response.headers.get('content-type')).toBe('application/octet-stream');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('content-security-policy')).toBe("default-src 'none'; sandbox");
    expect(response.headers.get('cache-control')).toBe('no-store');
    const bytes = Buffer.from(await response.arrayBuffer());
    expect(bytes.equals(await readFile(join(ROOT, 'tests/fixtures/attachments/clean.pdf')))).toBe(true);
    const after = await auditRecords();
    expect(after).toHaveLength(before + 1);
    expect(after.at(-1)).toMatchObject({ action: 'attachment.download', actor: 'operator:viewer', outcome: 'ok', subjectIds: [id, ticketId] });
  });

  it('never serves an infected, unscanned or pending attachment: a 409 page saying why, and the refusal audited', async () => {
    const cases = [
      ['attach-eicar-plain.eml', 'eicar.com.txt', 'Not available: the file is infected and was not kept.'],
      ['attach-encrypted-zip.eml', 'encrypted.zip', 'Not available until it passes a virus scan.'],
      ['rfc2231-filename.eml', 'résumé – v2.pdf', 'Not available while its virus scan is pending.'],
    ] as const;
    for (const [file, filename, why] of cases) {
      const id = await attachmentId(file, filename);
      const before = (await auditRecords()).length;
      const response = await get(`${base}/tickets/${ingested[file]?.ticketId}/attachments/${id}`, cookie);
      expect(response.status, filename).toBe(409);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.headers.get('content-disposition')).toBeNull();
      expect(response.text).toContain('This attachment cannot be downloaded');
      expect(response.text).toContain(why);
      expect(response.text).not.toContain('EICAR-STANDARD-ANTIVIRUS-TEST-FILE');
      const after = await auditRecords();
      expect(after).toHaveLength(before + 1);
      expect(after.at(-1)).toMatchObject({ action: 'attachment.download', outcome: 'refused', subjectIds: [id] });
    }
  });

  it('looks ids up under the demo tenant only, refuses malformed ones, and an attachment only under its own ticket', async () => {
    const other = ingested['gmail-html-alternative.eml']?.ticketId as string;
    const foreign = await get(`${base}/tickets/${other}`, cookie);
    expect(foreign.status).toBe(404);
    expect(foreign.text).not.toContain('PHRASE-GMAIL-19c2');
    expect((await auditRecords()).at(-1)).toMatchObject({ action: 'ticket.view', outcome: 'not_found', subjectIds: [other] });

    for (const path of ['/tickets/..%2F..%2Fetc', '/tickets/a.b', `/tickets/${'x'.repeat(65)}`, '/tickets/', '/tickets/x/attachments/', '/tickets/x/other/y', '/tickets/x/attachments/y/z']) {
      const before = (await auditRecords()).length;
      const response = await get(`${base}${path}`, cookie);
      expect(response.status, path).toBe(404);
      expect(response.text).toContain('Not found');
      expect((await auditRecords()).length, path).toBe(before);
    }

    const cleanId = await attachmentId('attach-clean.eml', 'clean.pdf');
    const elsewhere = await get(`${base}/tickets/${ingested['html-hostile.eml']?.ticketId}/attachments/${cleanId}`, cookie);
    expect(elsewhere.status).toBe(404);
    expect((await auditRecords()).at(-1)).toMatchObject({ action: 'attachment.download', outcome: 'not_found', subjectIds: [cleanId] });
  });

  it('answers an unexpected failure with a generic localized 500 page and reports only the error’s name', async () => {
    const reports: string[] = [];
    const failing = Object.create(stack.deps.repo) as LocalStack['deps']['repo'];
    failing.listTickets = async () => {
      throw new TypeError('boom for alice@customer.example');
    };
    const { viewer, base: failingBase } = await serveViewer({ deps: { ...stack.deps, repo: failing }, report: (line) => reports.push(line) });
    const page = await get(`${failingBase}/tickets`, await signIn(viewer), { 'accept-language': 'nl' });
    expect(page.status).toBe(500);
    expect(page.text).toContain('<html lang="nl">');
    expect(page.text).toContain('De pagina kon niet worden getoond');
    expect(page.text).not.toMatch(/boom|alice@|TypeError|at \w+ \(/);
    expect(reports).toEqual(['ticket viewer: GET /tickets failed (TypeError)']);
  });
});
