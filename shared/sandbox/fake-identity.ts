// A Microsoft identity platform (Entra ID v2.0 endpoint) on loopback HTTPS, speaking the documented
// client-credentials wire format so the real @azure/msal-node runs unchanged against it: POST
// /{tenant}/oauth2/v2.0/token with client_secret or a client_assertion JWT (RS256 + x5t, or PS256 +
// x5t#S256 as msal-node 7 signs it), answering `{ token_type, expires_in, ext_expires_in,
// access_token }` or the AADSTS error JSON. The access tokens are RS256 JWTs shaped like Entra's v1
// app-only tokens for Microsoft Graph (aud, iss sts.windows.net/{tid}/, tid, appid, roles) and
// FakeGraph verifies them with verifyAccessToken(). The interactive endpoints — a directory of users
// and verified domains, the v2.0 authorize endpoint, the authorization-code grant and the v2.0
// admin-consent endpoint, with small HTML screens — live in fake-identity-interactive.ts; this file
// routes to them, and verifyAccessToken() also takes their delegated Graph tokens (`scp`, no roles).
//
// Trust: the server certificate comes from a throwaway CA made at start(). Child processes trust it
// with NODE_EXTRA_CA_CERTS=caCertPath (read once at process start). In-process, msal-node takes
// `system.networkClient: new CaTrustingNetworkModule(identity.caCertPem)`; fetch-based clients in the
// same process (the Graph SDK) need trustCaInProcess(), which extends Node's default CA list.
import { createPublicKey, generateKeyPairSync, randomBytes, randomUUID, X509Certificate, type KeyObject } from 'node:crypto';
import { createServer, request as httpsRequest, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import { decodeProtectedHeader, exportJWK, jwtVerify, SignJWT } from 'jose';
import { createTestPki, type TestPki } from './fake-graph-tls.js';
import {
  Directory,
  failure,
  InteractiveEndpoints,
  oauthError,
  sendJson,
  type DirectoryUser,
  type DirectoryUserInput,
  type GroupMembershipClaims,
  type InteractiveApp,
  type InteractiveRequestRecord,
  type OAuthFailure,
  type OrganizationRecord,
} from './fake-identity-interactive.js';

export {
  CLOUD_APPLICATION_ADMINISTRATOR,
  GLOBAL_ADMINISTRATOR,
  PRIVILEGED_ROLE_ADMINISTRATOR,
  type DirectoryUser,
  type DirectoryUserInput,
  type GroupMembershipClaims,
  type InteractiveRequestRecord,
  type OrganizationRecord,
  type VerifiedDomain,
} from './fake-identity-interactive.js';

export const GRAPH_RESOURCE = 'https://graph.microsoft.com';
/** Microsoft Graph's app id, which Entra also accepts as its audience. */
export const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const MAX_BODY_BYTES = 64 * 1024;

export interface AppRegistration {
  clientId: string;
  clientSecret?: string;
  /** PEM certificates whose keys may sign client assertions. */
  certificates?: string[];
  /** Graph application permissions granted by admin consent (the token's `roles`). */
  roles?: string[];
  /** Tenants whose admin consented (the app has a service principal there). */
  tenants?: string[];
  /** Web redirect URIs, matched exactly by the authorize and admin-consent endpoints. */
  redirectUris?: string[];
  /** Shown on the sign-in and consent screens. */
  displayName?: string;
  /** The manifest's groupMembershipClaims: id tokens carry `wids` only with DirectoryRole or All (default None). */
  groupMembershipClaims?: GroupMembershipClaims;
  /** The manifest's optional id token claims; `auth_time` is the one modelled. */
  optionalIdTokenClaims?: string[];
}

export interface AccessTokenClaims {
  tenantId: string;
  clientId: string;
  /** Application permissions (app-only tokens); empty in delegated ones. */
  roles: string[];
  audience: string;
  expiresAt: Date;
  /** A user's token from the authorization-code grant (`scp`), not an app-only one. */
  delegated: boolean;
  /** Delegated permissions (`scp`); empty in app-only tokens. */
  scopes: string[];
  /** The signed-in user's object id (delegated tokens). */
  objectId?: string;
}

export interface TokenRequestRecord {
  tenant: string;
  grantType: string | undefined;
  clientId: string | undefined;
  credential: 'client_secret' | 'client_assertion' | 'none';
  /** `issued`, or the OAuth error code answered. */
  outcome: string;
  at: number;
}

export type TokenRejection = 'missing' | 'malformed' | 'signature' | 'expired' | 'audience' | 'revoked';

interface App extends InteractiveApp {
  secrets: Set<string>;
  certificates: X509Certificate[];
  tenants: Set<string>;
  /** Tenants where a user signed in (delegated grant); revokeConsent clears them too. */
  signedInTenants: Set<string>;
  servicePrincipalId: string;
}

export class FakeIdentity {
  readonly tokenRequests: TokenRequestRecord[] = [];
  /** Unexpected exceptions inside the fake (answered as 500); a test can assert it stays empty. */
  readonly errors: unknown[] = [];
  url = '';
  private pki: TestPki | undefined;
  private server: Server | undefined;
  private readonly apps = new Map<string, App>();
  private readonly tenants = new Set<string>();
  /** Per-tenant lifetime of the app-only tokens the token endpoint issues (setTokenLifetime). */
  private readonly tenantLifetimes = new Map<string, number>();
  private readonly signingKey: KeyObject;
  private readonly verifyKey: KeyObject;
  private readonly keyId = randomBytes(20).toString('base64url');
  private readonly directory = new Directory();
  private readonly interactive: InteractiveEndpoints;

  constructor(private readonly options: { tokenLifetimeSeconds?: number } = {}) {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.signingKey = privateKey;
    this.verifyKey = publicKey;
    this.interactive = new InteractiveEndpoints(
      {
        baseUrl: () => this.url,
        tokenLifetimeSeconds: options.tokenLifetimeSeconds ?? 3599,
        app: (clientId) => this.apps.get(clientId.toLowerCase()),
        authenticateClient: async (clientId, tenant, form) => {
          const app = this.apps.get(clientId.toLowerCase());
          return app ? this.checkCredential(app, tenant, form) : failure(400, 'unauthorized_client', 700016, `Application with identifier '${clientId}' was not found in the directory '${tenant}'.`);
        },
        grantConsent: (tenantId, clientId) => this.grantConsent(tenantId, clientId),
        signedIn: (tenantId, clientId) => this.apps.get(clientId.toLowerCase())?.signedInTenants.add(tenantId.toLowerCase()),
        sign: (claims, { x5t }) => new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: this.keyId, ...(x5t ? { x5t: this.keyId } : {}) }).sign(this.signingKey),
      },
      this.directory,
      (tenantId) => this.tenants.has(tenantId.toLowerCase()),
    );
  }

  /** Every GET of the authorize endpoint, with its query and what came of it. */
  get authorizeRequests(): readonly InteractiveRequestRecord[] {
    return this.interactive.authorizeRequests;
  }

  /** Every GET of the v2.0 admin-consent endpoint, with its query and what came of it. */
  get adminConsentRequests(): readonly InteractiveRequestRecord[] {
    return this.interactive.adminConsentRequests;
  }

  /** host:port, for msal's knownAuthorities. */
  get host(): string {
    return new URL(this.url).host;
  }

  get caCertPem(): string {
    return this.requirePki().caCertPem;
  }

  get caCertPath(): string {
    return this.requirePki().caCertPath;
  }

  /** Key and certificate for another loopback HTTPS server under the same CA (FakeGraph serves them). */
  get serverTls(): { key: string; cert: string } {
    const pki = this.requirePki();
    return { key: pki.serverKeyPem, cert: pki.serverCertPem };
  }

  async start(): Promise<void> {
    this.pki = await createTestPki();
    const server = createServer({ key: this.pki.serverKeyPem, cert: this.pki.serverCertPem }, (req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        this.errors.push(error);
        if (!res.headersSent) res.writeHead(500).end();
        else res.destroy();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    this.server = server;
    this.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    }
    await this.pki?.remove();
    this.pki = undefined;
  }

  // ---- directory side ---------------------------------------------------------------------------

  addTenant(tenantId: string, options: { displayName?: string } = {}): void {
    this.tenants.add(tenantId.toLowerCase());
    if (options.displayName !== undefined) this.directory.setDisplayName(tenantId, options.displayName);
  }

  /** A user of a directory; `roles` are directory role template ids (the `wids` claim). */
  addUser(input: DirectoryUserInput): DirectoryUser {
    this.addTenant(input.tenantId);
    return this.directory.addUser(input);
  }

  users(tenantId?: string): DirectoryUser[] {
    return this.directory.usersOf(tenantId);
  }

  /** The directory's verified domains, the initial `*.onmicrosoft.com` one included (Graph's /organization). */
  setVerifiedDomains(tenantId: string, domains: string[]): void {
    this.addTenant(tenantId);
    this.directory.setVerifiedDomains(tenantId, domains);
  }

  /** Graph's organization resource for a known tenant. */
  organization(tenantId: string): OrganizationRecord | undefined {
    return this.tenants.has(tenantId.toLowerCase()) ? this.directory.organization(tenantId) : undefined;
  }

  /** Whether the tenant's admin consented to the app (it has a service principal there). */
  hasConsent(tenantId: string, clientId: string): boolean {
    return this.apps.get(clientId.toLowerCase())?.tenants.has(tenantId.toLowerCase()) ?? false;
  }

  registerApp(registration: AppRegistration): void {
    const app: App = {
      clientId: registration.clientId,
      displayName: registration.displayName ?? registration.clientId,
      secrets: new Set(registration.clientSecret ? [registration.clientSecret] : []),
      certificates: (registration.certificates ?? []).map((pem) => new X509Certificate(pem)),
      roles: registration.roles ?? ['Mail.ReadWrite', 'Mail.Send'],
      redirectUris: [...(registration.redirectUris ?? [])],
      groupMembershipClaims: registration.groupMembershipClaims ?? 'None',
      optionalIdTokenClaims: [...(registration.optionalIdTokenClaims ?? [])],
      tenants: new Set(),
      signedInTenants: new Set(),
      servicePrincipalId: randomUUID(),
    };
    this.apps.set(registration.clientId.toLowerCase(), app);
    for (const tenant of registration.tenants ?? []) this.grantConsent(tenant, registration.clientId);
  }

  /** Admin consent in a tenant: the app gets a service principal there. */
  grantConsent(tenantId: string, clientId?: string): void {
    this.addTenant(tenantId);
    for (const app of this.appsFor(clientId)) app.tenants.add(tenantId.toLowerCase());
  }

  /**
   * The tenant's admin removed the app (its service principal): the token endpoint answers
   * invalid_client AADSTS7000229, and tokens already issued for that tenant stop working at Graph
   * (Graph would otherwise honour them until they expire; the fake models the revocation as immediate).
   */
  revokeConsent(tenantId: string, clientId?: string): void {
    for (const app of this.appsFor(clientId)) {
      app.tenants.delete(tenantId.toLowerCase());
      app.signedInTenants.delete(tenantId.toLowerCase());
    }
  }

  /**
   * App-only tokens issued for the tenant from now on last `seconds` (Entra's are 60–90 minutes). Under
   * msal's five-minute renewal margin, a client then asks the token endpoint again on every request:
   * a test can watch each token request a sync makes.
   */
  setTokenLifetime(tenantId: string, seconds: number): void {
    this.tenantLifetimes.set(tenantId.toLowerCase(), seconds);
  }

  setRoles(clientId: string, roles: string[]): void {
    const app = this.apps.get(clientId.toLowerCase());
    if (!app) throw new Error(`fake-identity: no app ${clientId}`);
    app.roles = [...roles];
  }

  // ---- what msal needs so it makes no discovery call ---------------------------------------------

  authority(tenantId: string): string {
    return `${this.url}/${tenantId}`;
  }

  tokenEndpoint(tenantId: string): string {
    return `${this.url}/${tenantId}/oauth2/v2.0/token`;
  }

  /** The OpenID configuration document, as msal-node's `auth.authorityMetadata` string. */
  authorityMetadata(tenantId: string): string {
    return JSON.stringify(this.openIdConfiguration(tenantId));
  }

  /** The instance discovery answer, as msal-node's `auth.cloudDiscoveryMetadata` string. */
  cloudDiscoveryMetadata(tenantId = 'common'): string {
    return JSON.stringify(this.instanceDiscovery(tenantId));
  }

  // ---- tokens ------------------------------------------------------------------------------------

  /** Mints a Graph app-only token directly (for the sandbox, or tests that bypass msal). */
  async issueAccessToken(input: { tenantId: string; clientId: string; roles?: string[]; lifetimeSeconds?: number; audience?: string }): Promise<string> {
    const app = this.apps.get(input.clientId.toLowerCase());
    const now = Math.floor(Date.now() / 1000);
    const lifetime = input.lifetimeSeconds ?? this.options.tokenLifetimeSeconds ?? 3599;
    const tenantId = input.tenantId.toLowerCase();
    return new SignJWT({
      aud: input.audience ?? GRAPH_RESOURCE,
      iss: `https://sts.windows.net/${tenantId}/`,
      idp: `https://sts.windows.net/${tenantId}/`,
      appid: input.clientId,
      appidacr: '1',
      idtyp: 'app',
      oid: app?.servicePrincipalId ?? randomUUID(),
      sub: app?.servicePrincipalId ?? randomUUID(),
      tid: tenantId,
      roles: input.roles ?? app?.roles ?? [],
      uti: randomBytes(16).toString('base64url'),
      ver: '1.0',
    })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: this.keyId, x5t: this.keyId })
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + lifetime)
      .sign(this.signingKey);
  }

  /** Checks a bearer token the way Graph does: signature, lifetime, audience, and that the app is still consented. */
  async verifyAccessToken(token: string | undefined): Promise<AccessTokenClaims | { rejected: TokenRejection }> {
    if (!token) return { rejected: 'missing' };
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.verifyKey, { algorithms: ['RS256'] }));
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'ERR_JWT_EXPIRED') return { rejected: 'expired' };
      if (code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') return { rejected: 'signature' };
      return { rejected: 'malformed' };
    }
    const audience = String(payload.aud);
    if (audience !== GRAPH_RESOURCE && audience !== `${GRAPH_RESOURCE}/` && audience !== GRAPH_APP_ID) return { rejected: 'audience' };
    const tenantId = String(payload.tid);
    const clientId = String(payload.appid);
    const delegated = typeof payload.scp === 'string';
    const app = this.apps.get(clientId.toLowerCase());
    // App-only tokens need admin consent in the tenant; a user's token, that user's sign-in there.
    const consented = app?.tenants.has(tenantId) ?? false;
    if (!consented && !(delegated && app?.signedInTenants.has(tenantId))) return { rejected: 'revoked' };
    const roles = !delegated && Array.isArray(payload.roles) ? payload.roles.map(String) : [];
    const scopes = delegated ? String(payload.scp).split(' ').filter(Boolean) : [];
    const expiresAt = new Date(Number(payload.exp) * 1000);
    return { tenantId, clientId, roles, audience, expiresAt, delegated, scopes, ...(delegated ? { objectId: String(payload.oid) } : {}) };
  }

  countTokenRequests(filter: { tenant?: string; outcome?: string } = {}): number {
    return this.tokenRequests.filter((r) => (!filter.tenant || r.tenant === filter.tenant.toLowerCase()) && (!filter.outcome || r.outcome === filter.outcome)).length;
  }

  // ---- the server --------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const body = await readBody(req);
    if (body === undefined) return;
    const segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const [tenant, ...rest] = segments;
    const route = rest.join('/');
    if (tenant && (await this.interactive.route(req.method ?? 'GET', tenant, route, url.searchParams, body, res))) return;
    if (req.method === 'POST' && tenant && route === 'oauth2/v2.0/token') {
      return this.token(tenant, new URLSearchParams(body.toString('utf8')), res);
    }
    if (req.method === 'GET' && tenant && route === 'v2.0/.well-known/openid-configuration') {
      return sendJson(res, 200, this.openIdConfiguration(tenant));
    }
    if (req.method === 'GET' && tenant && route === 'discovery/instance') {
      return sendJson(res, 200, this.instanceDiscovery(tenant));
    }
    if (req.method === 'GET' && tenant && route === 'discovery/v2.0/keys') {
      const jwk = await exportJWK(this.verifyKey);
      return sendJson(res, 200, { keys: [{ ...jwk, kty: 'RSA', use: 'sig', kid: this.keyId, x5t: this.keyId }] });
    }
    sendJson(res, 404, { error: 'invalid_request', error_description: `fake-identity: no route ${req.method} ${url.pathname}` });
  }

  private async token(tenantRef: string, form: URLSearchParams, res: ServerResponse): Promise<void> {
    const tenant = tenantRef.toLowerCase();
    const clientId = form.get('client_id') ?? undefined;
    const credential = form.has('client_assertion') ? 'client_assertion' : form.has('client_secret') ? 'client_secret' : 'none';
    const grantType = form.get('grant_type') ?? undefined;
    const record: TokenRequestRecord = { tenant, grantType, clientId, credential, outcome: 'issued', at: Date.now() };
    this.tokenRequests.push(record);
    if (grantType === 'authorization_code') {
      const reply = await this.interactive.redeemCode(tenant, form);
      record.outcome = reply.outcome;
      return sendJson(res, reply.status, reply.json);
    }
    const result = await this.checkTokenRequest(tenant, form);
    if ('failure' in result) {
      record.outcome = result.failure.error;
      return sendJson(res, result.failure.status, oauthError(result.failure));
    }
    const lifetime = this.tenantLifetimes.get(tenant) ?? this.options.tokenLifetimeSeconds ?? 3599;
    const accessToken = await this.issueAccessToken({ tenantId: tenant, clientId: result.app.clientId, roles: result.roles, audience: result.audience, lifetimeSeconds: lifetime });
    sendJson(res, 200, { token_type: 'Bearer', expires_in: lifetime, ext_expires_in: lifetime, access_token: accessToken });
  }

  private async checkTokenRequest(tenant: string, form: URLSearchParams): Promise<{ app: App; roles: string[]; audience: string } | { failure: OAuthFailure }> {
    const grant = form.get('grant_type');
    if (!grant) return fail(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'grant_type'.");
    if (grant !== 'client_credentials') return fail(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grant}'.`);
    if (!this.tenants.has(tenant)) return fail(400, 'invalid_request', 90002, `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`);
    const clientId = form.get('client_id');
    if (!clientId) return fail(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'client_id'.");
    const app = this.apps.get(clientId.toLowerCase());
    if (!app) return fail(400, 'unauthorized_client', 700016, `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`);
    const credentialFailure = await this.checkCredential(app, tenant, form);
    if (credentialFailure) return { failure: credentialFailure };
    if (!app.tenants.has(tenant)) return fail(401, 'invalid_client', 7000229, `The client application ${app.clientId} is missing service principal in the tenant ${tenant}. See instructions here: https://go.microsoft.com/fwlink/?linkid=2225119`);
    // msal adds the OIDC scopes to every request; client credentials only looks at the `/.default` one.
    const scopes = (form.get('scope') ?? '').split(' ').filter((s) => s && !['openid', 'profile', 'offline_access'].includes(s));
    const resourceScope = scopes[0];
    if (scopes.length !== 1 || !resourceScope?.endsWith('/.default')) return fail(400, 'invalid_scope', 1002012, `The provided value for scope ${scopes.join(' ') || '(none)'} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`);
    const audience = resourceScope.slice(0, -'/.default'.length);
    const forGraph = audience === GRAPH_RESOURCE || audience === GRAPH_APP_ID;
    return { app, roles: forGraph ? [...app.roles] : [], audience: forGraph ? GRAPH_RESOURCE : audience };
  }

  private async checkCredential(app: App, tenant: string, form: URLSearchParams): Promise<OAuthFailure | undefined> {
    const secret = form.get('client_secret');
    const assertion = form.get('client_assertion');
    if (secret !== null) {
      return app.secrets.has(secret) ? undefined : failure(401, 'invalid_client', 7000215, `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.clientId}'.`);
    }
    if (assertion === null) return failure(401, 'invalid_client', 7000216, "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.");
    if (form.get('client_assertion_type') !== ASSERTION_TYPE) return failure(400, 'invalid_request', 900144, `The request body must contain the following parameter: 'client_assertion_type' with the value '${ASSERTION_TYPE}'.`);
    let header: { alg?: string; x5t?: string; 'x5t#S256'?: string };
    try {
      header = decodeProtectedHeader(assertion) as typeof header;
    } catch {
      return failure(401, 'invalid_client', 50027, 'JWT token is invalid or malformed.');
    }
    const strip = (s: string): string => s.replace(/=+$/, '');
    const certificate = app.certificates.find((c) =>
      header['x5t#S256'] !== undefined
        ? strip(Buffer.from(c.fingerprint256.replace(/:/g, ''), 'hex').toString('base64url')) === strip(header['x5t#S256'])
        : header.x5t !== undefined && strip(Buffer.from(c.fingerprint.replace(/:/g, ''), 'hex').toString('base64url')) === strip(header.x5t),
    );
    if (!certificate) return failure(401, 'invalid_client', 700027, `The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '${header['x5t#S256'] ?? header.x5t ?? ''}']`);
    try {
      await jwtVerify(assertion, createPublicKey(certificate.publicKey.export({ type: 'spki', format: 'pem' })), {
        algorithms: ['RS256', 'PS256'],
        // Entra allows five minutes of clock skew; msal rounds its iat/nbf to the second.
        clockTolerance: 300,
        audience: this.tokenEndpoint(tenant),
        issuer: app.clientId,
        subject: app.clientId,
      });
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'ERR_JWT_EXPIRED' || (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && (error as { claim?: string }).claim === 'nbf')) {
        return failure(401, 'invalid_client', 700024, 'Client assertion is not within its valid time range.');
      }
      return failure(401, 'invalid_client', 700027, `Client assertion failed signature validation or its claims are wrong (${code ?? 'unknown'}).`);
    }
    return undefined;
  }

  private openIdConfiguration(tenant: string): Record<string, unknown> {
    const base = `${this.url}/${tenant}`;
    // Multi-tenant authorities advertise a template issuer; each id token names its own tenant.
    const issuer = ['organizations', 'common'].includes(tenant.toLowerCase()) ? `${this.url}/{tenantid}/v2.0` : `${base}/v2.0`;
    return {
      token_endpoint: `${base}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${base}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer,
      request_uri_parameter_supported: false,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      tenant_region_scope: 'EU',
      cloud_instance_name: 'microsoftonline.com',
      msgraph_host: 'graph.microsoft.com',
    };
  }

  private instanceDiscovery(tenant: string): Record<string, unknown> {
    return {
      tenant_discovery_endpoint: `${this.url}/${tenant}/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [{ preferred_network: this.host, preferred_cache: this.host, aliases: [this.host] }],
    };
  }

  private appsFor(clientId: string | undefined): App[] {
    if (clientId === undefined) return [...this.apps.values()];
    const app = this.apps.get(clientId.toLowerCase());
    if (!app) throw new Error(`fake-identity: no app ${clientId} (registerApp first)`);
    return [app];
  }

  private requirePki(): TestPki {
    if (!this.pki) throw new Error('fake-identity: start() first');
    return this.pki;
  }
}

function fail(status: number, error: string, code: number, description: string): { failure: OAuthFailure } {
  return { failure: failure(status, error, code, description) };
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      req.socket.destroy();
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * msal-node's INetworkModule over node:https with an explicit CA list, for `system.networkClient`.
 * msal's built-in client uses global fetch, which only trusts what Node trusted at start (or what
 * trustCaInProcess() added); this one trusts exactly `ca`, so it works with no process-wide change.
 */
export class CaTrustingNetworkModule implements INetworkModule {
  constructor(private readonly ca: string | string[], private readonly timeoutMs = 10_000) {}

  sendGetRequestAsync<T>(url: string, options?: NetworkRequestOptions, timeout?: number): Promise<NetworkResponse<T>> {
    return this.send<T>('GET', url, options, timeout);
  }

  sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>('POST', url, options);
  }

  private send<T>(method: 'GET' | 'POST', url: string, options: NetworkRequestOptions | undefined, timeout?: number): Promise<NetworkResponse<T>> {
    const body = method === 'POST' ? Buffer.from(options?.body ?? '', 'utf8') : undefined;
    const headers: Record<string, string | number> = { ...(options?.headers ?? {}) };
    if (body) headers['content-length'] = body.length;
    return new Promise((resolve, reject) => {
      const req = httpsRequest(url, { method, headers, ca: this.ca, timeout: timeout ?? this.timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const responseHeaders: Record<string, string> = {};
          for (const [name, value] of Object.entries(res.headers)) {
            if (value !== undefined) responseHeaders[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
          }
          try {
            // msal parses every identity answer as JSON, errors included.
            resolve({ headers: responseHeaders, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as T, status: res.statusCode ?? 0 });
          } catch (error) {
            reject(new Error(`Failed to parse response from ${url}`, { cause: error }));
          }
        });
      });
      req.on('timeout', () => req.destroy(new Error(`Request timeout: ${url}`)));
      req.on('error', reject);
      req.end(body);
    });
  }
}

/**
 * Adds a CA to the default trust list of this process's TLS clients (global fetch included), for
 * clients with no CA option, like the Graph SDK. Process-wide and additive: Node's own roots stay.
 */
export function trustCaInProcess(caCertPem: string): void {
  const current = tls.getCACertificates('default');
  const fingerprint = new X509Certificate(caCertPem).fingerprint256;
  if (current.some((pem) => new X509Certificate(pem).fingerprint256 === fingerprint)) return;
  tls.setDefaultCACertificates([...current, caCertPem]);
}
