// A throwaway PKI for the fake Microsoft endpoints. msal-node only accepts https authorities, and
// @microsoft/microsoft-graph-client only attaches the bearer token to https URLs (its
// AuthenticationHandler drops Authorization for any other scheme), so both fakes need TLS. Node has no
// X.509 writer, so the certificates come from the openssl binary; the keys never leave the temp dir
// and the process.
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestPki {
  dir: string;
  caCertPath: string;
  caCertPem: string;
  /** Leaf for 127.0.0.1 / localhost, signed by the CA; both fakes serve it. */
  serverKeyPem: string;
  serverCertPem: string;
  remove(): Promise<void>;
}

export interface ClientCertificate {
  certPem: string;
  privateKeyPem: string;
  /** Hex, as msal-node's clientCertificate.thumbprint / thumbprintSha256 want them. */
  thumbprint: string;
  thumbprintSha256: string;
}

async function openssl(dir: string, args: string[]): Promise<void> {
  await run('openssl', args, { cwd: dir, timeout: 30_000 });
}

export async function createTestPki(): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'm2t-fake-ms-pki-'));
  try {
    await openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=mail2ticket test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    await openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost']);
    await writeFile(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n');
    await openssl(dir, ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'server.ext']);
    const [caCertPem, serverKeyPem, serverCertPem] = await Promise.all(['ca.pem', 'server.key', 'server.pem'].map((f) => readFile(join(dir, f), 'utf8')));
    // The CA key is only needed to sign the leaf: drop it so nothing can mint more certificates.
    await rm(join(dir, 'ca.key'), { force: true });
    return {
      dir,
      caCertPath: join(dir, 'ca.pem'),
      caCertPem: caCertPem as string,
      serverKeyPem: serverKeyPem as string,
      serverCertPem: serverCertPem as string,
      remove: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw new Error('fake-identity: could not create the test CA with openssl', { cause: error });
  }
}

/** A self-signed certificate an app registration can hold as its credential (Entra accepts self-signed ones). */
export async function createClientCertificate(subject = '/CN=mail2ticket test app'): Promise<ClientCertificate> {
  const dir = await mkdtemp(join(tmpdir(), 'm2t-fake-ms-app-'));
  try {
    await openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'app.key', '-out', 'app.pem', '-days', '2', '-subj', subject]);
    const [privateKeyPem, certPem] = await Promise.all([readFile(join(dir, 'app.key'), 'utf8'), readFile(join(dir, 'app.pem'), 'utf8')]);
    const x509 = new X509Certificate(certPem);
    return { certPem, privateKeyPem, thumbprint: hexThumbprint(x509.fingerprint), thumbprintSha256: hexThumbprint(x509.fingerprint256) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `AB:CD:…` (node's X509Certificate.fingerprint*) → `abcd…`. */
export function hexThumbprint(fingerprint: string): string {
  return fingerprint.replace(/:/g, '').toLowerCase();
}
