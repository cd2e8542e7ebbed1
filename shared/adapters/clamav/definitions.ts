// ClamAV definitions kept in a private bucket under `clamav/`: the scanner function downloads them at
// cold start, the definitions-update job refreshes them with freshclam. Their age is the build time
// written in the definitions themselves, so a stale mirror cannot pass for fresh.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { BlobNotFound } from '../../domain/errors.js';
import type { BlobStore, Clock } from '../../domain/ports.js';

export const DEFINITIONS_PREFIX = 'clamav/';
export const MANIFEST_NAME = 'manifest.json';
export const MANIFEST_KEY = `${DEFINITIONS_PREFIX}${MANIFEST_NAME}`;

/** The signed database containers freshclam maintains (a `.cld` is a `.cvd` with diffs applied). */
export const CONTAINER_FILE = /^[A-Za-z0-9_-]+\.(cvd|cld)$/;
/** What a definitions file may be called: a flat name, nothing that could leave the directory. */
const SAFE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const HEADER_BYTES = 512;
const HOUR_MS = 3_600_000;

export interface CvdHeader {
  /** The header's own build-time text, e.g. `07 Mar 2017 08-02 -0500`. */
  buildTimeText: string;
  version: number;
  signatures: number;
  functionalityLevel: number;
  builder: string;
  /** The build time (the header's last field, `stime`, in epoch seconds). */
  builtAt: Date;
}

/**
 * Parses the 512-byte ASCII header a .cvd / .cld starts with:
 * `ClamAV-VDB:<build time>:<version>:<sigs>:<f-level>:<md5>:<dsig>:<builder>:<stime>`, space padded.
 * (The same split ClamAV's own parser does, libclamav_rust/src/cvd.rs.) Null when it is not one.
 */
export function parseCvdHeader(bytes: Uint8Array): CvdHeader | null {
  const text = Buffer.from(bytes.subarray(0, HEADER_BYTES)).toString('latin1');
  const fields = text.split(':');
  if (fields[0] !== 'ClamAV-VDB' || fields.length < 9) return null;
  const [, buildTimeText = '', version = '', sigs = '', level = '', , , builder = '', stime = ''] = fields;
  const seconds = stime.replace(/[\s\0]+$/, '');
  if (![version, sigs, level, seconds].every((n) => /^\d+$/.test(n))) return null;
  return {
    buildTimeText,
    version: Number(version),
    signatures: Number(sigs),
    functionalityLevel: Number(level),
    builder,
    builtAt: new Date(Number(seconds) * 1000),
  };
}

export async function readCvdHeader(path: string): Promise<CvdHeader | null> {
  const file = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(HEADER_BYTES);
    const { bytesRead } = await file.read(buffer, 0, HEADER_BYTES, 0);
    return parseCvdHeader(buffer.subarray(0, bytesRead));
  } finally {
    await file.close();
  }
}

export interface ManifestFile {
  name: string;
  sha256: string;
  size: number;
}

export interface DefinitionsManifest {
  /** When the job last uploaded (ISO). */
  updatedAt: string;
  /** Build time of the newest container (ISO), null when none carries a header. */
  builtAt: string | null;
  files: ManifestFile[];
}

export function parseManifest(json: string): DefinitionsManifest | undefined {
  try {
    const value = JSON.parse(json) as Partial<DefinitionsManifest>;
    if (typeof value.updatedAt !== 'string' || Number.isNaN(Date.parse(value.updatedAt))) return undefined;
    const builtAt = typeof value.builtAt === 'string' && !Number.isNaN(Date.parse(value.builtAt)) ? value.builtAt : null;
    const files = Array.isArray(value.files)
      ? value.files.filter((f): f is ManifestFile => typeof f?.name === 'string' && typeof f.sha256 === 'string' && typeof f.size === 'number')
      : [];
    return { updatedAt: value.updatedAt, builtAt, files };
  } catch {
    return undefined;
  }
}

/** Hours since the definitions were built (their own header), else since they were last uploaded. */
export function definitionsAgeHours(source: { builtAt: Date | string | null; updatedAt?: Date | string | null }, now: Date): number | null {
  const at = source.builtAt ?? source.updatedAt ?? null;
  if (at === null) return null;
  const ms = now.getTime() - new Date(at).getTime();
  if (Number.isNaN(ms)) return null;
  return Math.max(0, Math.round((ms / HOUR_MS) * 10) / 10);
}

/** The newest build time among the containers in a directory: how current the definitions are. */
export async function newestBuildTime(dir: string, names?: readonly string[]): Promise<Date | null> {
  let newest: Date | null = null;
  for (const name of names ?? (await readdir(dir))) {
    if (!CONTAINER_FILE.test(name)) continue;
    const header = await readCvdHeader(join(dir, name)).catch(() => null);
    if (header && (!newest || header.builtAt > newest)) newest = header.builtAt;
  }
  return newest;
}

export async function describeFile(dir: string, name: string): Promise<ManifestFile> {
  const path = join(dir, name);
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return { name, sha256: hash.digest('hex'), size: (await stat(path)).size };
}

export async function readManifest(blobs: Pick<BlobStore, 'get'>): Promise<DefinitionsManifest | undefined> {
  try {
    const body = await blobs.get(MANIFEST_KEY);
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(Buffer.from(chunk as Uint8Array));
    return parseManifest(Buffer.concat(chunks).toString('utf8'));
  } catch (error) {
    if (error instanceof BlobNotFound) return undefined;
    throw error;
  }
}

/**
 * Downloads every definitions file under `clamav/` (the manifest excepted) into `dir`; returns the
 * names. Keys that are not a flat, safe file name are ignored.
 */
export async function downloadDefinitions(blobs: Pick<BlobStore, 'get' | 'list'>, dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const { key } of blobs.list(DEFINITIONS_PREFIX)) {
    const name = key.slice(DEFINITIONS_PREFIX.length);
    if (name === MANIFEST_NAME || !SAFE_NAME.test(name)) continue;
    await pipeline(await blobs.get(key), createWriteStream(join(dir, name), { mode: 0o600 }));
    names.push(name);
  }
  return names.sort();
}

/** Fetches current definitions into a directory that holds the previous ones (so only diffs travel). */
export interface DefinitionsFetcher {
  /** Resolves when the directory holds current definitions; rejects (with a short reason) otherwise. */
  update(dir: string): Promise<void>;
}

export interface RefreshDeps {
  /** The definitions bucket. */
  blobs: BlobStore;
  fetcher: DefinitionsFetcher;
  clock: Clock;
  /** A private scratch directory (in Lambda, under /tmp). */
  workDir: string;
}

export type RefreshResult =
  | { ok: true; uploaded: string[]; removed: string[]; ageHours: number; builtAt: string | null }
  | { ok: false; error: unknown; ageHours: number };

/**
 * Published when no age can be had at all (no definitions anywhere): far past any staleness alarm, so
 * "there are none" alarms instead of going unnoticed as missing data.
 */
export const UNKNOWN_AGE_HOURS = 10_000;

/**
 * One refresh: the bucket's definitions down, freshclam over them, what changed back up, the manifest
 * last (its updatedAt marks a complete upload). Never rejects: a failure comes back with the age of
 * the definitions the scanner still uses (the bucket's manifest, else their own headers).
 */
export async function refreshDefinitions(deps: RefreshDeps): Promise<RefreshResult> {
  const dir = join(deps.workDir, 'db');
  let downloadedBuild: Date | null = null;
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // A warm container keeps the directory: start from exactly what the bucket holds. freshclam's own
    // state (freshclam.dat: mirror cool-down) is kept.
    for (const name of await readdir(dir)) if (CONTAINER_FILE.test(name)) await rm(join(dir, name), { force: true });
    const downloaded = await downloadDefinitions(deps.blobs, dir);
    downloadedBuild = await newestBuildTime(dir, downloaded);
    const before = new Map<string, string>();
    for (const name of downloaded.filter((n) => CONTAINER_FILE.test(n))) before.set(name, (await describeFile(dir, name)).sha256);

    await deps.fetcher.update(dir);

    const names = (await readdir(dir)).filter((n) => CONTAINER_FILE.test(n)).sort();
    if (names.length === 0) throw new Error('freshclam left no definitions');
    const files = await Promise.all(names.map((name) => describeFile(dir, name)));
    const uploaded: string[] = [];
    for (const file of files) {
      if (before.get(file.name) === file.sha256) continue;
      await deps.blobs.put(`${DEFINITIONS_PREFIX}${file.name}`, createReadStream(join(dir, file.name)));
      uploaded.push(file.name);
    }
    // freshclam replaces daily.cvd by daily.cld once it applies diffs: the stale container goes too,
    // so clamd never loads two versions of one database.
    const removed = [...before.keys()].filter((name) => !names.includes(name));
    if (removed.length) await deps.blobs.delete(removed.map((name) => `${DEFINITIONS_PREFIX}${name}`));
    const builtAt = (await newestBuildTime(dir, names))?.toISOString() ?? null;
    const now = deps.clock.now();
    const manifest: DefinitionsManifest = { updatedAt: now.toISOString(), builtAt, files };
    await deps.blobs.put(MANIFEST_KEY, Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`));
    return { ok: true, uploaded, removed, builtAt, ageHours: definitionsAgeHours(manifest, now) ?? UNKNOWN_AGE_HOURS };
  } catch (error) {
    const manifest = await readManifest(deps.blobs).catch(() => undefined);
    const now = deps.clock.now();
    const age = manifest ? definitionsAgeHours(manifest, now) : definitionsAgeHours({ builtAt: downloadedBuild }, now);
    return { ok: false, error, ageHours: age ?? UNKNOWN_AGE_HOURS };
  }
}
