// The domain's EncryptionContext as the Encryption SDK carries it. The SDK writes it in clear in the
// message header and authenticates it (and, with KMS, binds the wrapped data key to it), so it holds
// opaque ids only, and exactly these three entries.
import type { EncryptionContext } from '../../domain/ports.js';

export type SdkEncryptionContext = Record<string, string>;

export function toSdkContext(context: EncryptionContext): SdkEncryptionContext {
  return { tenant: context.tenantId, mailbox: context.mailboxId, purpose: context.purpose };
}

/** Exactly the expected context: no entry missing, none added, none different. */
export function isExactContext(actual: Readonly<SdkEncryptionContext>, expected: EncryptionContext): boolean {
  const wanted = toSdkContext(expected);
  const keys = Object.keys(actual);
  return keys.length === Object.keys(wanted).length && keys.every((key) => Object.hasOwn(wanted, key) && actual[key] === wanted[key]);
}
