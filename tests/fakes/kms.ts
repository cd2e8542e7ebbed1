// A KMS stand-in that speaks the service's JSON 1.1 wire protocol (POST /, X-Amz-Target:
// TrentService.<Operation>), so the real @aws-sdk/client-kms and the Encryption SDK's KMS keyring run
// unchanged against it. Like KMS it binds every wrapped blob to its encryption context (Decrypt with
// another context fails with InvalidCiphertextException), refuses aliases where KMS does, refuses keys
// pending deletion, and counts every call. It can also be told to fail the next calls of an operation.
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

interface FakeKey {
  arn: string;
  secret: Buffer;
  spec: 'SYMMETRIC_DEFAULT' | 'HMAC_256';
  pendingDeletion: boolean;
  deletionDate?: number;
}

type Input = Record<string, unknown>;

class KmsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export class FakeKms {
  readonly calls = new Map<string, number>();
  private readonly keys = new Map<string, FakeKey>();
  private readonly aliases = new Map<string, string>();
  private readonly failures = new Map<string, { type: string; status: number; remaining: number }>();
  private server: Server | undefined;
  endpoint = '';

  constructor(readonly region = 'eu-west-1') {}

  /** Creates a key reachable through `alias` (e.g. alias/mail2ticket/tenant/acme); returns its ARN. */
  createKey(alias: string, spec: FakeKey['spec'] = alias.endsWith('-index') ? 'HMAC_256' : 'SYMMETRIC_DEFAULT'): string {
    const arn = `arn:aws:kms:${this.region}:123456789012:key/${randomBytes(16).toString('hex')}`;
    this.keys.set(arn, { arn, secret: randomBytes(32), spec, pendingDeletion: false });
    this.aliases.set(alias, arn);
    return arn;
  }

  /** Whether the key behind an alias or ARN is scheduled for deletion. */
  isPendingDeletion(id: string): boolean {
    return this.keys.get(this.aliases.get(id) ?? id)?.pendingDeletion ?? false;
  }

  /** The next `times` calls of `operation` fail with this error type (500 for internal, else 400). */
  failNext(operation: string, type: string, times = 1): void {
    this.failures.set(operation, { type, status: type === 'KMSInternalException' ? 500 : 400, remaining: times });
  }

  count(operation: string): number {
    return this.calls.get(operation) ?? 0;
  }

  total(): number {
    return [...this.calls.values()].reduce((a, b) => a + b, 0);
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const operation = String(req.headers['x-amz-target'] ?? '').replace(/^TrentService\./, '');
        this.calls.set(operation, (this.calls.get(operation) ?? 0) + 1);
        const reply = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(body));
        try {
          this.injectedFailure(operation);
          reply(200, this.handle(operation, JSON.parse(Buffer.concat(chunks).toString() || '{}') as Input));
        } catch (error) {
          const e = error instanceof KmsError ? error : new KmsError('KMSInternalException', 'fake failure', 500);
          reply(e.status, { __type: e.type, message: e.message });
        }
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  private injectedFailure(operation: string): void {
    const failure = this.failures.get(operation);
    if (!failure) return;
    if (--failure.remaining <= 0) this.failures.delete(operation);
    throw new KmsError(failure.type, 'injected failure', failure.status);
  }

  private key(id: unknown, options: { alias: boolean; spec?: FakeKey['spec'] }): FakeKey {
    if (typeof id !== 'string' || !id) throw new KmsError('ValidationException', 'KeyId is required');
    if (id.startsWith('alias/') && !options.alias) throw new KmsError('NotFoundException', `Invalid keyId ${id}`);
    const key = this.keys.get(this.aliases.get(id) ?? id);
    if (!key) throw new KmsError('NotFoundException', 'Key not found');
    if (key.pendingDeletion) throw new KmsError('KMSInvalidStateException', `${key.arn} is pending deletion.`);
    if (options.spec && key.spec !== options.spec) throw new KmsError('InvalidKeyUsageException', 'the key does not support this operation');
    return key;
  }

  private handle(operation: string, input: Input): Input {
    switch (operation) {
      case 'DescribeKey': {
        const arn = this.aliases.get(String(input.KeyId)) ?? String(input.KeyId);
        const key = this.keys.get(arn);
        if (!key) throw new KmsError('NotFoundException', 'Key not found');
        return {
          KeyMetadata: { Arn: key.arn, KeyId: key.arn.split('/')[1], Enabled: !key.pendingDeletion, KeySpec: key.spec, KeyState: key.pendingDeletion ? 'PendingDeletion' : 'Enabled', DeletionDate: key.deletionDate },
        };
      }
      case 'GenerateDataKey': {
        const key = this.key(input.KeyId, { alias: true, spec: 'SYMMETRIC_DEFAULT' });
        const bytes = input.KeySpec === 'AES_128' ? 16 : Number(input.NumberOfBytes ?? 32);
        const plaintext = randomBytes(bytes);
        return { KeyId: key.arn, Plaintext: plaintext.toString('base64'), CiphertextBlob: this.seal(key, plaintext, input.EncryptionContext).toString('base64') };
      }
      case 'Encrypt': {
        const key = this.key(input.KeyId, { alias: true, spec: 'SYMMETRIC_DEFAULT' });
        return { KeyId: key.arn, CiphertextBlob: this.seal(key, Buffer.from(String(input.Plaintext), 'base64'), input.EncryptionContext).toString('base64') };
      }
      case 'Decrypt': {
        const blob = Buffer.from(String(input.CiphertextBlob), 'base64');
        if (blob.length < 2 || blob.length < 2 + blob.readUInt16BE(0) + 28) throw new KmsError('InvalidCiphertextException', 'the ciphertext is invalid');
        const key = this.key(blob.subarray(2, 2 + blob.readUInt16BE(0)).toString(), { alias: false });
        if (input.KeyId !== undefined && this.key(input.KeyId, { alias: true }).arn !== key.arn) {
          throw new KmsError('IncorrectKeyException', 'the ciphertext was not encrypted under the KMS key specified');
        }
        return { KeyId: key.arn, Plaintext: this.open(key, blob, input.EncryptionContext).toString('base64'), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
      }
      case 'GenerateMac': {
        const key = this.key(input.KeyId, { alias: true, spec: 'HMAC_256' });
        const mac = createHmac('sha256', key.secret).update(Buffer.from(String(input.Message), 'base64')).digest();
        return { KeyId: key.arn, Mac: mac.toString('base64'), MacAlgorithm: input.MacAlgorithm };
      }
      case 'ScheduleKeyDeletion': {
        // Like KMS: a key id or key ARN only, never an alias.
        const key = this.key(input.KeyId, { alias: false });
        const days = Number(input.PendingWindowInDays ?? 30);
        if (days < 7 || days > 30) throw new KmsError('ValidationException', 'PendingWindowInDays must be between 7 and 30');
        key.pendingDeletion = true;
        key.deletionDate = Math.floor(Date.now() / 1000) + days * 86_400;
        return { KeyId: key.arn, KeyState: 'PendingDeletion', PendingWindowInDays: days, DeletionDate: key.deletionDate };
      }
      default:
        throw new KmsError('UnsupportedOperationException', `${operation} is not in this fake`);
    }
  }

  /** Context as KMS treats it: a set of pairs, order irrelevant. */
  private aad(context: unknown): Buffer {
    const entries = Object.entries((context ?? {}) as Record<string, string>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return Buffer.from(JSON.stringify(entries));
  }

  private seal(key: FakeKey, plaintext: Buffer, context: unknown): Buffer {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key.secret, iv).setAAD(this.aad(context));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const arn = Buffer.from(key.arn);
    const length = Buffer.alloc(2);
    length.writeUInt16BE(arn.length);
    return Buffer.concat([length, arn, iv, cipher.getAuthTag(), body]);
  }

  private open(key: FakeKey, blob: Buffer, context: unknown): Buffer {
    const rest = blob.subarray(2 + blob.readUInt16BE(0));
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.secret, rest.subarray(0, 12)).setAAD(this.aad(context));
      decipher.setAuthTag(rest.subarray(12, 28));
      return Buffer.concat([decipher.update(rest.subarray(28)), decipher.final()]);
    } catch {
      throw new KmsError('InvalidCiphertextException', 'the ciphertext or its encryption context is invalid');
    }
  }
}
