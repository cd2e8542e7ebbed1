// CDK context validation: defaults, bounds, and errors that name the key (infra/config.ts).
import { App } from 'aws-cdk-lib';
import { afterAll, describe, expect, it } from 'vitest';
import { ContextError, readContext, readInfraConfig, text } from '../../infra/config.js';
import { newApp, removeTempDirs } from './synth.js';

afterAll(removeTempDirs);

const read = (context: Record<string, unknown>) => readInfraConfig(new App({ context }).node);

describe('infra context', () => {
  const CONNECTOR_DEFAULTS = {
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
