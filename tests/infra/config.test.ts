// CDK context validation: defaults, bounds, and errors that name the key (infra/config.ts).
import { App } from 'aws-cdk-lib';
import { afterAll, describe, expect, it } from 'vitest';
import { ContextError, readContext, readInfraConfig, text } from '../../infra/config.js';
import { newApp, removeTempDirs, SKIP_BUNDLING } from './synth.js';
import { fn, type Json } from './template.js';

afterAll(removeTempDirs);

const read = (context: Record<string, unknown>) => readInfraConfig(new App({ context }).node);

describe('infra context', () => {
  const CONNECTOR_DEFAULTS = {
    googlePushAudience: undefined,
    googlePushServiceAccount: undefined,
    gmailPushAudience: undefined,
    gmailPushServiceAccount: undefined,
    gmailTopic: undefined,
    gmailFullSyncDays: 7,
    gmailSafetySyncMinutes: 15,
    gmailSyncMaxReceiveCount: 8,
    graphFullSyncDays: 7,
    graphSafetySyncMinutes: 15,
    graphSyncMaxReceiveCount: 8,
    webhookRateLimit: 50,
    webhookBurstLimit: 100,
    consentDomainName: undefined,
    consentCertificateArn: undefined,
    msAppId: undefined,
    alarmEmail: undefined,
  };

  it('defaults to the promises: 30-day retention, 365-day backups, 5 receives', () => {
    // Unset Google names stay unset (the stack asks for them as parameters), never a made-up value.
    expect(read({})).toStrictEqual({ retentionDays: 30, backupRetentionDays: 365, maxReceiveCount: 5, ...CONNECTOR_DEFAULTS });
  });

  it('accepts numbers from cdk.json and decimal strings from -c', () => {
    expect(read({ retentionDays: 7, backupRetentionDays: '90', maxReceiveCount: ' 3 ' })).toEqual({ retentionDays: 7, backupRetentionDays: 90, maxReceiveCount: 3, ...CONNECTOR_DEFAULTS });
  });

  it('refuses retentionDays=45, naming the key, before anything is built', () => {
    expect(() => newApp({ retentionDays: '45' })).toThrow(ContextError);
    expect(() => newApp({ retentionDays: '45' })).toThrow(/"retentionDays" must be an integer from 1 to 30 \(got "45"\)/);
  });

  it('refuses backupRetentionDays=400, naming the key', () => {
    expect(() => read({ backupRetentionDays: 400 })).toThrow(/"backupRetentionDays" must be an integer from 1 to 365/);
  });

  it.each([['0'], ['31'], ['1e1'], ['0x1e'], ['12.5'], [12.5], ['thirty'], [true], [[30]]])('refuses retentionDays=%j', (value) => {
    expect(() => read({ retentionDays: value })).toThrow(/"retentionDays"/);
  });

  it('reports every bad key at once', () => {
    expect(() => read({ retentionDays: 0, maxReceiveCount: 0 })).toThrow(/"retentionDays".*; CDK context "maxReceiveCount"/);
  });
});

describe('the keys of issue 8', () => {
  const AUDIENCE = 'https://hooks.example.org/gmail';
  const ACCOUNT = 'gmail-push@my-project.iam.gserviceaccount.com';
  const APP_ID = '6f1c2a9e-8b7d-4e3f-a1b2-c3d4e5f60718';

  it.each([
    ['googlePushAudience', AUDIENCE],
    ['googlePushServiceAccount', ACCOUNT],
    ['msAppId', APP_ID],
    ['msAppId', APP_ID.toUpperCase()],
    ['alarmEmail', 'ops@example.com'],
    ['alarmEmail', 'on-call+mail2ticket@ops.example.co.uk'],
  ])('reads %s=%s', (key, value) => {
    expect(read({ [key]: value })).toMatchObject({ [key]: value });
  });

  it.each([
    ['googlePushAudience', 'http://hooks.example.org/gmail', /CDK context "googlePushAudience" must be an https URL without query or fragment \(got "http:/],
    ['googlePushAudience', 'https://hooks.example.org/gmail#x', /"googlePushAudience" must be an https URL/],
    ['googlePushServiceAccount', 'someone@gmail.com', /CDK context "googlePushServiceAccount" must be a Google service account e-mail/],
    ['msAppId', 'my-app', /CDK context "msAppId" must be the Entra application \(client\) id, a GUID/],
    ['msAppId', `{${APP_ID}}`, /"msAppId" must be the Entra application \(client\) id/],
    ['msAppId', `${APP_ID}0`, /"msAppId"/],
    ['alarmEmail', 'ops@', /CDK context "alarmEmail" must be an e-mail address/],
    ['alarmEmail', 'Ops <ops@example.com>', /"alarmEmail" must be an e-mail address/],
    ['alarmEmail', 'a@example.com,b@example.com', /"alarmEmail"/],
    ['alarmEmail', 'ops@localhost', /"alarmEmail"/],
  ])('refuses %s=%s, naming the key', (key, value, message) => {
    expect(() => read({ [key]: value })).toThrow(ContextError);
    expect(() => read({ [key]: value })).toThrow(message);
  });

  it('leaves msAppId and alarmEmail unset by default', () => {
    expect(read({})).toMatchObject({ msAppId: undefined, alarmEmail: undefined });
  });

  describe('the older gmailPush* spellings', () => {
    it('still work alone, read under both names', () => {
      expect(read({ gmailPushAudience: AUDIENCE, gmailPushServiceAccount: ACCOUNT })).toMatchObject({
        googlePushAudience: AUDIENCE,
        gmailPushAudience: AUDIENCE,
        googlePushServiceAccount: ACCOUNT,
        gmailPushServiceAccount: ACCOUNT,
      });
      expect(read({ googlePushAudience: AUDIENCE })).toMatchObject({ googlePushAudience: AUDIENCE, gmailPushAudience: AUDIENCE });
    });

    it('may repeat the same value', () => {
      expect(read({ googlePushServiceAccount: ACCOUNT, gmailPushServiceAccount: ACCOUNT })).toMatchObject({ googlePushServiceAccount: ACCOUNT });
    });

    it.each([
      ['googlePushAudience', 'gmailPushAudience', AUDIENCE, 'https://other.example.org/gmail'],
      ['googlePushServiceAccount', 'gmailPushServiceAccount', ACCOUNT, 'other@my-project.iam.gserviceaccount.com'],
    ])('refuse %s and %s with different values, naming both', (key, alias, value, other) => {
      expect(() => read({ [key]: value, [alias]: other })).toThrow(ContextError);
      expect(() => read({ [key]: value, [alias]: other })).toThrow(new RegExp(`CDK context "${key}" and "${alias}" \\(its older spelling\\) differ`));
    });

    it('are still checked on their own, naming the older key', () => {
      expect(() => read({ gmailPushServiceAccount: 'someone@gmail.com' })).toThrow(/"gmailPushServiceAccount" must be a Google service account e-mail/);
    });
  });

  it('reach the stack under the new names: no deploy parameter for the service account, the audience on the push function', () => {
    const template = newApp({ ...SKIP_BUNDLING, googlePushAudience: AUDIENCE, googlePushServiceAccount: ACCOUNT }).app.synth().getStackByName('Mail2Ticket').template as Json;
    expect(template.Parameters ?? {}).not.toHaveProperty('GmailPushServiceAccount');
    expect(fn(template, 'mail2ticket-gmail-push').env).toMatchObject({ GMAIL_PUSH_AUDIENCE: AUDIENCE, GMAIL_PUSH_SERVICE_ACCOUNT: ACCOUNT });
  }, 120_000);
});

describe('text context values (for the keys later issues add)', () => {
  const spec = {
    audience: text({ pattern: /^https:\/\/\S+$/, expected: 'an https URL', required: true }),
    topic: text({ pattern: /^projects\/[a-z][-a-z0-9]+\/topics\/[\w.~+%-]+$/, expected: 'projects/<project>/topics/<topic>' }),
  };
  const readText = (context: Record<string, unknown>) => readContext(new App({ context }).node, spec);

  it('reads a valid value and leaves an optional one undefined', () => {
    expect(readText({ audience: 'https://example.org/push' })).toEqual({ audience: 'https://example.org/push', topic: undefined });
  });

  it('names a missing required key and a malformed one', () => {
    expect(() => readText({})).toThrow(/"audience" is required: an https URL/);
    expect(() => readText({ audience: 'https://x', topic: 'my-topic' })).toThrow(/"topic" must be projects\/<project>\/topics\/<topic> \(got "my-topic"\)/);
  });
});
