// The push verifier trusts the sandbox's signing key only in sandbox mode outside Lambda; a deployed
// function trusts Google's published keys and nothing else, whatever its environment says.
import { describe, expect, it } from 'vitest';
import { PubSubPushVerifier, pushSigningKeys } from '../../shared/adapters/gmail/pubsub-push-verifier.js';
import { PubSubPushEmitter } from '../../shared/sandbox/pubsub-push.js';

const AUDIENCE = 'https://hooks.example/webhooks/gmail';
const ACCOUNT = 'push@project.iam.gserviceaccount.com';

describe('pushSigningKeys', () => {
  it('accepts a sandbox-signed push only with MAIL2TICKET_SANDBOX=1 outside Lambda', async () => {
    const emitter = await PubSubPushEmitter.create({ audience: AUDIENCE, serviceAccountEmail: ACCOUNT });
    const token = await emitter.token();
    const verifierFor = (env: Record<string, string | undefined>) =>
      new PubSubPushVerifier({ audience: AUDIENCE, serviceAccountEmail: ACCOUNT, keys: pushSigningKeys(env, emitter.jwks()) });

    expect(await verifierFor({ MAIL2TICKET_SANDBOX: '1' }).verify(token)).toBe(true);
    // Google's keys (unreachable here, and never the sandbox's): the token is refused.
    expect(await verifierFor({}).verify(token)).toBe(false);
    expect(await verifierFor({ MAIL2TICKET_SANDBOX: '1', AWS_LAMBDA_FUNCTION_NAME: 'gmail-push' }).verify(token)).toBe(false);
  });
});
