// One 256-bit key per tenant in a file of its own. Creation is atomic across processes: the key is
// written and flushed under a unique name, then hard-linked to its final name, which fails if another
// process got there first; both then read the winner's key. A reader never sees a half-written file.
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CiphertextRejected } from './errors.js';

const KEY_BYTES = 32;

export async function readKeyFile(path: string): Promise<Buffer | undefined> {
  let key: Buffer;
  try {
    key = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  // A damaged key must never be replaced silently: every ciphertext of the tenant depends on it.
  if (key.length !== KEY_BYTES) throw new Error(`the key file ${path} is damaged (expected ${KEY_BYTES} bytes)`);
  return key;
}

/** The key at `path`, created (mode 0600, directory 0700) when `create` and it doesn't exist yet. */
export async function tenantKeyFile(path: string, create: boolean): Promise<Buffer> {
  const existing = await readKeyFile(path);
  if (existing) return existing;
  if (!create) throw new CiphertextRejected('the tenant has no key (never created, or destroyed)');
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const candidate = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const file = await open(candidate, 'wx', 0o600);
  try {
    await file.writeFile(randomBytes(KEY_BYTES));
    await file.sync();
  } finally {
    await file.close();
  }
  try {
    await link(candidate, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    await rm(candidate, { force: true });
  }
  const key = await readKeyFile(path);
  if (!key) throw new Error(`the key file ${path} vanished while it was being created`);
  return key;
}
