// Small parts of npm start's sandbox: the query string handed to the Graph webhook as API Gateway
// hands it to the Lambda, and the notification outages `sandbox outage` switches on and off.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { toQueryStringParameters } from '../../shared/local/http.js';
import { MAX_OUTAGE_MINUTES, Outages } from '../../shared/local/sandbox/outages.js';

describe('toQueryStringParameters', () => {
  it('decodes values, as API Gateway does for the validation token Graph URL-encodes', () => {
    expect(toQueryStringParameters(new URL('http://127.0.0.1/webhooks/graph?validationToken=Validation%3A%20a%20b%26c%2B%2F'))).toEqual({ validationToken: 'Validation: a b&c+/' });
  });

  it('joins a repeated name with commas and leaves no parameters absent', () => {
    expect(toQueryStringParameters(new URL('http://127.0.0.1/x?a=1&a=2&b='))).toEqual({ a: '1,2', b: '' });
    expect(toQueryStringParameters(new URL('http://127.0.0.1/x'))).toBeUndefined();
  });

  it('keeps __proto__ and constructor as plain names', () => {
    const parameters = toQueryStringParameters(new URL('http://127.0.0.1/x?__proto__=p&constructor=c'));
    expect(Object.getPrototypeOf(parameters)).toBe(Object.prototype);
    expect(Object.entries(parameters ?? {})).toEqual([
      ['__proto__', 'p'],
      ['constructor', 'c'],
    ]);
  });
});

describe('Outages', () => {
  afterEach(() => void vi.useRealTimers());

  it('switches a mailbox off for the minutes asked and on again when they are over', () => {
    vi.useFakeTimers({ now: new Date('2026-12-02T10:00:00Z') });
    const changes: Array<[string, boolean]> = [];
    const outages = new Outages((address, on) => void changes.push([address, on]));
    expect(outages.set('a@x.example', 5)).toBe('2026-12-02T10:05:00.000Z');
    expect(outages.active()).toEqual({ 'a@x.example': '2026-12-02T10:05:00.000Z' });
    vi.advanceTimersByTime(5 * 60_000 - 1);
    expect(outages.activeUntil('a@x.example')).toBeDefined();
    vi.advanceTimersByTime(1);
    expect(outages.activeUntil('a@x.example')).toBeUndefined();
    expect(changes).toEqual([
      ['a@x.example', true],
      ['a@x.example', false],
    ]);
  });

  it('replaces an outage, ends one with 0 minutes (once), and refuses what is out of range', () => {
    vi.useFakeTimers({ now: new Date('2026-12-02T10:00:00Z') });
    const changes: Array<[string, boolean]> = [];
    const outages = new Outages((address, on) => void changes.push([address, on]));
    outages.set('a@x.example', 5);
    expect(outages.set('a@x.example', 10)).toBe('2026-12-02T10:10:00.000Z');
    vi.advanceTimersByTime(6 * 60_000); // the first outage's end no longer applies
    expect(outages.activeUntil('a@x.example')).toBeDefined();
    expect(outages.set('a@x.example', 0)).toBeNull();
    expect(outages.set('a@x.example', 0)).toBeNull();
    expect(changes).toEqual([
      ['a@x.example', true],
      ['a@x.example', true],
      ['a@x.example', false],
    ]);
    for (const minutes of [-1, 1.5, MAX_OUTAGE_MINUTES + 1]) expect(() => outages.set('a@x.example', minutes)).toThrow(RangeError);
  });
});
