// A KMS stand-in that speaks the service's JSON 1.1 wire protocol (X-Amz-Target: TrentService.*),
// so the real @aws-sdk/client-kms and the Encryption SDK's KMS keyring run unchanged against it.
// It enforces encryption contexts as KMS does and counts every call.
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

interface FakeKey {
  arn: string;
  secret: Buffer;
}

export class FakeKms {
  readonly calls = new Map<string, number>();
  private readonly keys = new Map<string, FakeKey>();
  private readonly aliases = new Map<string, string>();
  private server: Server | undefined;
  endpoint = '';

  /** Creates a key reachable through `alias` (e.g. alias/mail2ticket/tenant/acme). */
  createKey(alias: string): string {
    const arn = `arn:aws:kms:eu-west-1:123456789012:key/${randomBytes(16).toString('hex')}`;
    this.keys.set(arn, { arn, secret: randomBytes(32) });
    this.aliases.set(alias, arn);
    return arn;
  }

  scheduleDeletion(alias: string): void {
    const arn = this.aliases.get(alias);
    if (arn) this.keys.delete(arn);
  }

  count(target: string): number {
    return this.calls.get(target) ?? 0;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const target = String(req.headers['x-amz-target'] ?? '').replace('TrentService.', '');
        this.calls.set(target, (this.calls.get(target) ?? 0) + 1);
        try {
          const body = this.handle(target, JSON.parse(Buffer.concat(chunks).toString() || '{}') as Record<string, unknown>);
          res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(body));
        } catch (error) {
          const [type, message] = (error as Error).message.split(': ');
          res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify({ __type: type, message }));
        }
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }

  private key(id: unknown): FakeKey {
    const arn = typeof id === 'string' ? (this.aliases.get(id) ?? id) : '';
    const key = this.keys.get(arn);
    if (!key) throw new Error('NotFoundException: key not found');
    return key;
  }

  private handle(target: string, input: Record<string, unknown>): Record<string, unknown> {
    switch (target) {
      case 'DescribeKey':
        return { KeyMetadata: { Arn: this.key(input.KeyId).arn, KeyId: this.key(input.KeyId).arn, Enabled: true } };
      case 'GenerateDataKey': {
        const key = this.key(input.KeyId);
        const plaintext = randomBytes(Number(input.NumberOfBytes ?? 32));
        return { KeyId: key.arn, Plaintext: plaintext.toString('base64'), CiphertextBlob: this.seal(key, plaintext, input.EncryptionContext).toString('base64') };
      }
      case 'Encrypt': {
        const key = this.key(input.KeyId);
        return { KeyId: key.arn, CiphertextBlob: this.seal(key, Buffer.from(String(input.Plaintext), 'base64'), input.EncryptionContext).toString('base64') };
      }
      case 'Decrypt': {
        const blob = Buffer.from(String(input.CiphertextBlob), 'base64');
        const arn = blob.subarray(0, blob.readUInt16BE(0) + 2).subarray(2).toString();
        const key = this.key(arn);
        return { KeyId: key.arn, Plaintext: this.open(key, blob, input.EncryptionContext).toString('base64'), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
      }
      case 'GenerateMac': {
        const key = this.key(input.KeyId);
        const mac = createHmac('sha256', key.secret).update(Buffer.from(String(input.Message), 'base64')).digest();
        return { KeyId: key.arn, Mac: mac.toString('base64'), MacAlgorithm: input.MacAlgorithm };
      }
      default:
        throw new Error(`UnsupportedOperationException: ${target}`);
    }
  }

  private aad(context: unknown): Buffer {
    const entries = Object.entries((context ?? {}) as Record<string, string>).sort(([a], [b]) => a.localeCompare(b));
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
      throw new Error('InvalidCiphertextException: the ciphertext or its encryption context is invalid');
    }
  }
}
