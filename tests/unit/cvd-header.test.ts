// The pieces of the definitions flow that need no process or bucket: the CVD header parser, the
// manifest, the age, and the configs written for clamd and freshclam.
import { describe, expect, it } from 'vitest';
import { clamdDaemonConfig } from '../../shared/adapters/clamav/clamd-daemon.js';
import { definitionsAgeHours, parseCvdHeader, parseManifest } from '../../shared/adapters/clamav/definitions.js';
import { freshclamConfig } from '../../shared/adapters/clamav/freshclam.js';
import { DEFAULT_LIMITS } from '../../shared/domain/limits.js';

/** A header as ClamAV writes it: ASCII, space padded to 512 bytes, then the (gzip'd tar) body. */
function container(header: string, body = Buffer.from([0x1f, 0x8b, 0x08, 0x3a, 0x3a, 0x00])): Buffer {
  return Buffer.concat([Buffer.from(header.padEnd(512, ' '), 'latin1'), body]);
}

// Verbatim what ClamAV 1.4.6's `sigtool --build --unsigned` wrote for the test database (assets/clamav).
const SIGTOOL_HEADER = 'ClamAV-VDB:02 Dec 2026 16-21 +0000:7:2:216:4d2c247469c3a48a4c2be838e52fdb84:X:m2t:1796228469';
// A daily.cvd header of 2017, as quoted in the documentation of the Go package github.com/mxplusb/clamav.
const DOCUMENTED_HEADER =
  'ClamAV-VDB:07 Mar 2017 08-02 -0500:23182:1741572:63:c1537143239006af01e814a4dcd58a48:QC2ZncCPK0AzfYPW8OKvde9GFOO1HyH5qbozl9JZbmlOmZnSV55zWaP9yH9tXiS+JmZWA1277X6pBeTHPCcaqUDakke4W58duZ5mavDGJoWekl3q/5RgVeAg39cM1X4zNf6gER8G+HIWDUka0sRQWal1KXAb1UWkFoKsbHVqgVi:neo:1488891746';

describe('parseCvdHeader', () => {
  it('reads the build time (stime, epoch seconds) and the numbers of a header sigtool wrote', () => {
    expect(parseCvdHeader(container(SIGTOOL_HEADER))).toEqual({
      buildTimeText: '02 Dec 2026 16-21 +0000',
      version: 7,
      signatures: 2,
      functionalityLevel: 216,
      builder: 'm2t',
      builtAt: new Date('2026-12-02T16:21:09Z'),
    });
  });

  it('reads the documented daily.cvd header: stime agrees with the text time (08:02 -0500)', () => {
    const header = parseCvdHeader(container(DOCUMENTED_HEADER));
    expect(header).toMatchObject({ version: 23182, signatures: 1741572, functionalityLevel: 63, builder: 'neo' });
    expect(header?.builtAt.toISOString()).toBe('2017-03-07T13:02:26.000Z');
  });

  it('reads only the 512-byte header (the body may hold any bytes, colons included)', () => {
    expect(parseCvdHeader(container(SIGTOOL_HEADER, Buffer.from(':99999999999:x:y')))?.builtAt).toEqual(new Date('2026-12-02T16:21:09Z'));
  });

  it('is null for anything that is not a CVD/CLD header', () => {
    expect(parseCvdHeader(Buffer.from('44d88612fea8a8f36de82e1278abb02f:68:Eicar-Test-Signature\n'))).toBeNull(); // an .hdb
    expect(parseCvdHeader(container(SIGTOOL_HEADER.replace('ClamAV-VDB', 'ClamAV-XYZ')))).toBeNull();
    expect(parseCvdHeader(container(SIGTOOL_HEADER.replace(/:\d+$/, ':soon')))).toBeNull();
    expect(parseCvdHeader(container('ClamAV-VDB:02 Dec 2026 16-21 +0000:7:2:216'))).toBeNull();
    expect(parseCvdHeader(Buffer.alloc(0))).toBeNull();
  });
});

describe('definitions age', () => {
  const now = new Date('2026-12-03T12:00:00Z');

  it('prefers the definitions’ own build time over the upload time', () => {
    expect(definitionsAgeHours({ builtAt: '2026-12-01T12:00:00Z', updatedAt: '2026-12-03T11:00:00Z' }, now)).toBe(48);
  });

  it('falls back to the upload time, and is null when there is neither', () => {
    expect(definitionsAgeHours({ builtAt: null, updatedAt: '2026-12-03T09:30:00Z' }, now)).toBe(2.5);
    expect(definitionsAgeHours({ builtAt: null, updatedAt: null }, now)).toBeNull();
  });

  it('is never negative (a builder clock ahead of ours)', () => {
    expect(definitionsAgeHours({ builtAt: '2026-12-03T13:00:00Z' }, now)).toBe(0);
  });
});

describe('parseManifest', () => {
  it('reads a manifest the update job wrote', () => {
    const manifest = { updatedAt: '2026-12-03T09:00:00.000Z', builtAt: '2026-12-03T08:00:00.000Z', files: [{ name: 'daily.cld', sha256: 'ab'.repeat(32), size: 123 }] };
    expect(parseManifest(JSON.stringify(manifest))).toEqual(manifest);
  });

  it('rejects what is not one, and drops malformed file entries', () => {
    expect(parseManifest('not json')).toBeUndefined();
    expect(parseManifest(JSON.stringify({ builtAt: null, files: [] }))).toBeUndefined();
    expect(parseManifest(JSON.stringify({ updatedAt: 'yesterday', files: [] }))).toBeUndefined();
    expect(parseManifest(JSON.stringify({ updatedAt: '2026-12-03T09:00:00Z', builtAt: 'never', files: [{ name: 'x' }, null] }))).toEqual({
      updatedAt: '2026-12-03T09:00:00Z',
      builtAt: null,
      files: [],
    });
  });
});

describe('configs', () => {
  it('lets clamd take at least the attachment limit, on a private socket, in the foreground', () => {
    const conf = clamdDaemonConfig({ socketPath: '/tmp/clamav/clamd.sock', databaseDir: '/tmp/clamav/db', tempDir: '/tmp/clamav/tmp', maxAttachmentBytes: DEFAULT_LIMITS.maxAttachmentBytes });
    const value = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(conf)?.[1]);
    for (const name of ['StreamMaxLength', 'MaxScanSize', 'MaxFileSize']) expect(value(name), name).toBeGreaterThanOrEqual(DEFAULT_LIMITS.maxAttachmentBytes);
    expect(conf).toMatch(/^LocalSocket \/tmp\/clamav\/clamd\.sock$/m);
    expect(conf).toMatch(/^DatabaseDirectory \/tmp\/clamav\/db$/m);
    expect(conf).toMatch(/^Foreground yes$/m);
    expect(conf).toMatch(/^AlertExceedsMax yes$/m);
    expect(value('MaxRecursion')).toBeGreaterThan(0);
    expect(value('MaxFiles')).toBeGreaterThan(0);
  });

  it('points freshclam at the public mirror and the scratch directory, notifying no daemon', () => {
    const conf = freshclamConfig({ workDir: '/tmp/freshclam', databaseDir: '/tmp/freshclam/db' });
    expect(conf).toMatch(/^DatabaseMirror database\.clamav\.net$/m);
    expect(conf).toMatch(/^DatabaseDirectory \/tmp\/freshclam\/db$/m);
    expect(conf).not.toMatch(/NotifyClamd/);
    const private_ = freshclamConfig({ workDir: '/tmp/f', databaseDir: '/tmp/f/db', privateMirror: 'http://127.0.0.1:9' });
    expect(private_).toMatch(/^PrivateMirror http:\/\/127\.0\.0\.1:9$/m);
    expect(private_).not.toMatch(/DatabaseMirror/);
  });
});
