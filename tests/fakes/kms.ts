// A KMS stand-in that speaks the service's JSON 1.1 wire protocol (POST /, X-Amz-Target:
// TrentService.<Operation>), so the real @aws-sdk/client-kms and the Encryption SDK's KMS keyring run
// unchanged against it. Like KMS it binds every wrapped blob to its encryption context (Decrypt with
// another context fails with InvalidCiphertextException), refuses aliases where KMS does, refuses keys
// pending deletion, and counts every call. It can also be told to fail the next calls of an operation.
// Keys are created either by a test directly (`createKey`) or, as in AWS, through the API: CreateKey
// (KeySpec, KeyUsage, Description, Tags), CreateAlias (KMS's alias naming rules), EnableKeyRotation
// (symmetric encryption keys only), ListAliases and ListResourceTags.
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

interface FakeKey {
  arn: string;
  secret: Buffer;
  spec: 'SYMMETRIC_DEFAULT' | 'HMAC_256';
  pendingDeletion: boolean;
  deletionDate?: number;
  description: string;
  tags: Array<{ TagKey: string; TagValue: string }>;
  rotation: boolean;
  creationDate: number;
}

/** What a test sees of a key. */
export interface FakeKeyView {
  arn: string;
  spec: FakeKey['spec'];
  description: string;
  tags: Record<string, string>;
  rotation: boolean;
  pendingDeletion: boolean;
  aliases: string[];
}

/** KMS: 1–256 characters of letters, digits, / _ -, starting alias/, never alias/aws/. */
const ALIAS_NAME = /^alias\/[A-Za-z0-9/_-]{1,250}$/;

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
  private readonly failures = new Map<string, { type: string; status: number; remaining: number; skip: number }>();
  private server: Server | undefined;
  endpoint = '';

  constructor(readonly region = 'eu-west-1') {}

  /** Creates a key reachable through `alias` (e.g. alias/mail2ticket/tenant/acme); returns its ARN. */
  createKey(alias: string, spec: FakeKey['spec'] = alias.endsWith('-index') ? 'HMAC_256' : 'SYMMETRIC_DEFAULT'): string {
    const arn = this.newKey(spec, '', []).arn;
    this.aliases.set(alias, arn);
    return arn;
  }

  /** Every key, as created (also those pending deletion), with its tags and aliases. */
  listKeys(): FakeKeyView[] {
    return [...this.keys.values()].map((key) => ({
      arn: key.arn,
      spec: key.spec,
      description: key.description,
      tags: Object.fromEntries(key.tags.map((t) => [t.TagKey, t.TagValue])),
      rotation: key.rotation,
      pendingDeletion: key.pendingDeletion,
      aliases: [...this.aliases].filter(([, arn]) => arn === key.arn).map(([alias]) => alias),
    }));
  }

  /** The key ARN an alias points at, if any. */
  aliasTarget(alias: string): string | undefined {
    return this.aliases.get(alias);
  }

  private newKey(spec: FakeKey['spec'], description: string, tags: FakeKey['tags']): FakeKey {
    // Key ids are UUIDs in KMS; the ARN ends with the id.
    const id = randomBytes(16).toString('hex').replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');
    const key: FakeKey = { arn: `arn:aws:kms:${this.region}:123456789012:key/${id}`, secret: randomBytes(32), spec, pendingDeletion: false, description, tags, rotation: false, creationDate: Math.floor(Date.now() / 1000) };
    this.keys.set(key.arn, key);
    return key;
  }

  /** Whether the key behind an alias or ARN is scheduled for deletion. */
  isPendingDeletion(id: string): boolean {
    return this.keys.get(this.aliases.get(id) ?? id)?.pendingDeletion ?? false;
  }

  /**
   * The next `times` calls of `operation` fail with this error type (500 for internal, else 400);
   * with `after`, only once that many calls of it have succeeded (e.g. the second CreateKey of a run).
   */
  failNext(operation: string, type: string, times = 1, options: { after?: number } = {}): void {
    this.failures.set(operation, { type, status: type === 'KMSInternalException' ? 500 : 400, remaining: times, skip: options.after ?? 0 });
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
    if (failure.skip > 0) {
      failure.skip--;
      return;
    }
    if (--failure.remaining <= 0) this.failures.delete(operation);
    throw new KmsError(failure.type, 'injected failure', failure.status);
  }

  private key(id: unknown, options: { alias: boolean; spec?: FakeKey['spec'] }): FakeKey {
    if (typeof id !== 'string' || !id) throw new KmsError('ValidationException', 'KeyId is required');
    if (id.startsWith('alias/') && !options.alias) throw new KmsError('NotFoundException', `Invalid keyId ${id}`);
    const key = this.lookup(id);
    if (!key) throw new KmsError('NotFoundException', 'Key not found');
    if (key.pendingDeletion) throw new KmsError('KMSInvalidStateException', `${key.arn} is pending deletion.`);
    if (options.spec && key.spec !== options.spec) throw new KmsError('InvalidKeyUsageException', 'the key does not support this operation');
    return key;
  }

  /** A key by alias, key ARN or key id; undefined when none. */
  private lookup(id: string): FakeKey | undefined {
    const arn = this.aliases.get(id) ?? id;
    return this.keys.get(arn) ?? [...this.keys.values()].find((key) => key.arn.endsWith(`:key/${id}`));
  }

  /** Like KMS for key-management calls: a key id or key ARN, never an alias; pending deletion refused. */
  private keyById(id: unknown): FakeKey {
    return this.key(id, { alias: false });
  }

  private handle(operation: string, input: Input): Input {
    switch (operation) {
      case 'DescribeKey': {
        const key = this.lookup(String(input.KeyId));
        if (!key) throw new KmsError('NotFoundException', `Alias or key ${String(input.KeyId)} is not found.`);
        return {
          KeyMetadata: {
            Arn: key.arn,
            KeyId: key.arn.split('/')[1],
            Enabled: !key.pendingDeletion,
            KeySpec: key.spec,
            KeyUsage: key.spec === 'HMAC_256' ? 'GENERATE_VERIFY_MAC' : 'ENCRYPT_DECRYPT',
            KeyState: key.pendingDeletion ? 'PendingDeletion' : 'Enabled',
            DeletionDate: key.deletionDate,
            Description: key.description,
            CreationDate: key.creationDate,
            KeyManager: 'CUSTOMER',
            Origin: 'AWS_KMS',
          },
        };
      }
      case 'CreateKey': {
        const spec = String(input.KeySpec ?? 'SYMMETRIC_DEFAULT');
        const usage = String(input.KeyUsage ?? 'ENCRYPT_DECRYPT');
        if (spec !== 'SYMMETRIC_DEFAULT' && spec !== 'HMAC_256') throw new KmsError('ValidationException', `KeySpec ${spec} is not in this fake`);
        const expectedUsage = spec === 'HMAC_256' ? 'GENERATE_VERIFY_MAC' : 'ENCRYPT_DECRYPT';
        if (usage !== expectedUsage) throw new KmsError('ValidationException', `KeyUsage ${usage} is not valid for KeySpec ${spec}`);
        const tags = (Array.isArray(input.Tags) ? input.Tags : []) as Array<{ TagKey?: unknown; TagValue?: unknown }>;
        if (tags.some((t) => typeof t.TagKey !== 'string' || !t.TagKey || typeof t.TagValue !== 'string')) throw new KmsError('TagException', 'every tag needs a TagKey and a TagValue');
        if (new Set(tags.map((t) => t.TagKey)).size !== tags.length) throw new KmsError('TagException', 'duplicate tag keys');
        const key = this.newKey(spec, String(input.Description ?? ''), tags.map((t) => ({ TagKey: String(t.TagKey), TagValue: String(t.TagValue) })));
        return this.handle('DescribeKey', { KeyId: key.arn });
      }
      case 'CreateAlias': {
        const name = String(input.AliasName ?? '');
        if (!ALIAS_NAME.test(name) || name.startsWith('alias/aws/')) throw new KmsError('ValidationException', `alias name ${name} is not valid`);
        const target = String(input.TargetKeyId ?? '');
        if (target.startsWith('alias/')) throw new KmsError('ValidationException', 'TargetKeyId must be a key id or key ARN');
        const key = this.keyById(target);
        if (this.aliases.has(name)) throw new KmsError('AlreadyExistsException', `An alias with the name ${name} already exists`);
        this.aliases.set(name, key.arn);
        return {};
      }
      case 'EnableKeyRotation': {
        const key = this.keyById(input.KeyId);
        if (key.spec !== 'SYMMETRIC_DEFAULT') throw new KmsError('UnsupportedOperationException', `${key.arn} key usage does not support key rotation`);
        key.rotation = true;
        return {};
      }
      case 'ListAliases': {
        const keyArn = input.KeyId === undefined ? undefined : this.keyById(input.KeyId).arn;
        const aliases = [...this.aliases]
          .filter(([, arn]) => keyArn === undefined || arn === keyArn)
          .map(([name, arn]) => ({ AliasName: name, AliasArn: `arn:aws:kms:${this.region}:123456789012:${name}`, TargetKeyId: arn.split('/')[1] }));
        return { Aliases: aliases, Truncated: false };
      }
      case 'ListResourceTags': {
        const key = this.lookup(String(input.KeyId));
        if (!key || String(input.KeyId).startsWith('alias/')) throw new KmsError('NotFoundException', 'Key not found');
        return { Tags: key.tags, Truncated: false };
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
