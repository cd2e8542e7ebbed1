// MicrosoftAuthorization on @azure/msal-node: the OpenID Connect sign-in of a customer's Entra
// administrator (authorization code + PKCE S256 + nonce, against the multi-tenant `organizations`
// authority), what that sign-in proves (directory `tid`, user `oid`, admin role from `wids`, the
// directory's verified domains read from Graph with the admin's delegated token), and the v2.0
// admin-consent URL for that directory, asking for our app's Graph application permissions.
//
// The id token comes straight from the token endpoint over TLS, so its signature is not checked
// again (OpenID Connect Core §3.1.3.7 allows TLS server validation instead; msal-node does not
// verify it either); msal checks the nonce, and so do we, along with audience, issuer and tenant.
// The admin's tokens are used once, for GET /organization, then dropped from msal's in-memory cache.
//
// Nothing secret reaches an error: failures are re-described from the OAuth error code and the
// AADSTS number only, never from Entra's description or the library's message.
import { AuthError, ConfidentialClientApplication, ResponseMode, ServerError, type AuthenticationResult, type Configuration, type INetworkModule } from '@azure/msal-node';
import { AuthenticationHandler, AuthenticationHandlerOptions, Client, HTTPMessageHandler } from '@microsoft/microsoft-graph-client';
import { AuthorizationRejected, type MicrosoftAuthorization, type MicrosoftSignIn } from '../../domain/consent/ports.js';
import type { GraphAppCredential } from '../graph/microsoft-graph-connector.js';

/**
 * Directory roles (template ids, as in `wids`) that may grant Microsoft Graph application permissions
 * such as Mail.Read and Mail.Send: Global Administrator and Privileged Role Administrator. Cloud
 * Application and Application Administrators may consent to application permissions except
 * Microsoft Graph's, so they cannot finish our admin consent and do not count as admins here.
 */
export const GRAPH_APP_CONSENT_ROLES: ReadonlySet<string> = new Set([
  '62e90394-69f5-4237-9190-012177145e10', // Global Administrator
  'e8611ab8-c189-46e8-94e1-60213ab1f814', // Privileged Role Administrator
]);

/**
 * Sign-in scopes: who the admin is (openid, profile: `oid`), and User.Read, the least delegated
 * permission that reads GET /organization (its verifiedDomains). msal adds offline_access itself.
 */
const SIGN_IN_SCOPES = ['openid', 'profile', 'User.Read'];
/** Admin consent to every application permission the app registration lists (Mail.Read, Mail.Send). */
const GRAPH_DEFAULT_SCOPE = 'https://graph.microsoft.com/.default';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface MsalMicrosoftAuthorizationOptions {
  clientId: string;
  credential: GraphAppCredential;
  /** `https://login.microsoftonline.com` in production; a fake's origin elsewhere. msal accepts only https. */
  authorityHost?: string;
  /** `https://graph.microsoft.com` in production; a fake's origin (without the version) elsewhere. */
  graphBaseUrl?: string;
  /** msal's HTTP client (a test CA's, for the fakes). */
  networkClient?: INetworkModule;
  /** Hosts msal trusts without asking Microsoft's instance discovery; the authority host when it is not Microsoft's. */
  knownAuthorities?: string[];
  /** The `organizations` authority's OpenID configuration as a string, so msal makes no discovery call. */
  authorityMetadata?: string;
  cloudDiscoveryMetadata?: string;
}

interface IdTokenClaims {
  aud?: unknown;
  iss?: unknown;
  tid?: unknown;
  oid?: unknown;
  nonce?: unknown;
  auth_time?: unknown;
  wids?: unknown;
}

export class MsalMicrosoftAuthorization implements MicrosoftAuthorization {
  private readonly host: string;
  /** One msal client: it caches the authority's metadata; the admins' tokens are removed after each sign-in. */
  private readonly app: ConfidentialClientApplication;
  /** One Graph client; each request brings its own delegated token. */
  private readonly graph: Client;

  constructor(private readonly options: MsalMicrosoftAuthorizationOptions) {
    this.host = (options.authorityHost ?? 'https://login.microsoftonline.com').replace(/\/+$/, '');
    const knownAuthorities = options.knownAuthorities ?? (options.authorityHost ? [new URL(this.host).host] : undefined);
    const config: Configuration = {
      auth: {
        clientId: options.clientId,
        // Multi-tenant, work and school accounts only: personal accounts cannot consent for a directory.
        authority: `${this.host}/organizations`,
        ...options.credential,
        ...(knownAuthorities ? { knownAuthorities } : {}),
        ...(options.authorityMetadata ? { authorityMetadata: options.authorityMetadata } : {}),
        ...(options.cloudDiscoveryMetadata ? { cloudDiscoveryMetadata: options.cloudDiscoveryMetadata } : {}),
      },
      ...(options.networkClient ? { system: { networkClient: options.networkClient } } : {}),
    };
    this.app = new ConfidentialClientApplication(config);
    const graphBaseUrl = (options.graphBaseUrl ?? 'https://graph.microsoft.com').replace(/\/+$/, '');
    // Authentication, then the request: no retry, redirect or telemetry handlers (a sign-in is interactive).
    const auth = new AuthenticationHandler({
      getAccessToken: () => Promise.reject(new Error('each Graph request of a sign-in brings its own token')),
    });
    auth.setNext(new HTTPMessageHandler());
    this.graph = Client.initWithMiddleware({
      middleware: auth,
      baseUrl: graphBaseUrl,
      defaultVersion: 'v1.0',
      // The SDK sends the bearer token only to Graph's own hosts and these.
      ...(options.graphBaseUrl ? { customHosts: new Set([new URL(graphBaseUrl).hostname]) } : {}),
    });
  }

  async signInUrl(input: { state: string; codeChallenge: string; nonce: string; redirectUri: string; fresh: boolean }): Promise<string> {
    if (!input.state || !input.codeChallenge || !input.nonce) throw new Error('A Microsoft sign-in needs a state, a PKCE challenge and a nonce');
    try {
      return await this.app.getAuthCodeUrl({
        scopes: SIGN_IN_SCOPES,
        redirectUri: input.redirectUri,
        state: input.state,
        nonce: input.nonce,
        codeChallenge: input.codeChallenge,
        codeChallengeMethod: 'S256',
        responseMode: ResponseMode.QUERY,
        // login: a new sign-in whatever session the browser holds; select_account: the admin picks.
        prompt: input.fresh ? 'login' : 'select_account',
      });
    } catch (error) {
      throw rejection(error, 'building the sign-in URL');
    }
  }

  async completeSignIn(input: { code: string; codeVerifier: string; redirectUri: string; nonce: string }): Promise<MicrosoftSignIn> {
    let result: AuthenticationResult;
    try {
      // With `nonce` set, msal also rejects an id token whose nonce differs (ClientAuthError nonce_mismatch).
      result = await this.app.acquireTokenByCode({ code: input.code, codeVerifier: input.codeVerifier, redirectUri: input.redirectUri, scopes: SIGN_IN_SCOPES, nonce: input.nonce });
    } catch (error) {
      throw rejection(error, 'redeeming the authorization code');
    }
    try {
      const claims = (result.idTokenClaims ?? {}) as IdTokenClaims;
      if (claims.nonce !== input.nonce) throw new AuthorizationRejected('nonce_mismatch', 'the Microsoft id token carries another nonce than this sign-in sent');
      const tid = typeof claims.tid === 'string' && GUID.test(claims.tid) ? claims.tid.toLowerCase() : undefined;
      const oid = typeof claims.oid === 'string' && claims.oid ? claims.oid.toLowerCase() : undefined;
      if (!tid || !oid) throw new AuthorizationRejected('invalid_token', 'the Microsoft id token names no directory (tid) or user (oid)');
      if (claims.aud !== this.options.clientId) throw new AuthorizationRejected('invalid_token', 'the Microsoft id token was issued to another client');
      // v2.0 issuer: https://login.microsoftonline.com/{tid}/v2.0, the same directory as `tid`.
      if (typeof claims.iss !== 'string' || !claims.iss.toLowerCase().endsWith(`/${tid}/v2.0`)) throw new AuthorizationRejected('invalid_token', 'the Microsoft id token issuer is not its directory');
      // `wids` holds the user's directory role template ids. Entra emits it only when the app
      // manifest's groupMembershipClaims includes DirectoryRole (or All): without it every admin
      // signs in as isAdmin false.
      const wids = Array.isArray(claims.wids) ? claims.wids.filter((w): w is string => typeof w === 'string').map((w) => w.toLowerCase()) : [];
      return {
        azureTenantId: tid,
        objectId: oid,
        isAdmin: wids.some((role) => GRAPH_APP_CONSENT_ROLES.has(role)),
        verifiedDomains: await this.verifiedDomains(result.accessToken),
        ...(typeof claims.auth_time === 'number' ? { authTime: claims.auth_time } : {}),
      };
    } finally {
      // The admin's access and refresh tokens served this one read; keep none of them.
      if (result.account) await this.app.getTokenCache().removeAccount(result.account);
    }
  }

  adminConsentUrl(input: { azureTenantId: string; state: string; redirectUri: string }): string {
    // Always the signed-in directory, never `organizations`: consent lands exactly where the admin proved a role.
    if (!GUID.test(input.azureTenantId)) throw new Error('Admin consent needs the directory id (a GUID) of the signed-in admin');
    const url = new URL(`${this.host}/${input.azureTenantId.toLowerCase()}/v2.0/adminconsent`);
    url.searchParams.set('client_id', this.options.clientId);
    url.searchParams.set('scope', GRAPH_DEFAULT_SCOPE);
    url.searchParams.set('redirect_uri', input.redirectUri);
    url.searchParams.set('state', input.state);
    return url.toString();
  }

  /** GET /organization?$select=verifiedDomains with the admin's delegated token (User.Read suffices). */
  private async verifiedDomains(accessToken: string): Promise<string[]> {
    let body: { value?: Array<{ verifiedDomains?: Array<{ name?: unknown }> }> };
    try {
      body = (await this.graph
        .api('/organization')
        .select('verifiedDomains')
        .middlewareOptions([new AuthenticationHandlerOptions({ getAccessToken: () => Promise.resolve(accessToken) })])
        .get()) as typeof body;
    } catch (error) {
      throw graphRejection(error);
    }
    const organization = body.value?.[0];
    if (!organization) throw new AuthorizationRejected('provider_error', 'Graph answered /organization without the directory');
    const names = (organization.verifiedDomains ?? []).map((d) => (typeof d.name === 'string' ? d.name.trim().toLowerCase() : '')).filter(Boolean);
    return [...new Set(names)];
  }
}

/** The AADSTS number of an Entra error (msal keeps error_codes[0] as errorNo). */
function aadstsCode(error: ServerError): string | undefined {
  const errorNo = error.errorNo as unknown;
  if ((typeof errorNo === 'string' || typeof errorNo === 'number') && /^\d{4,8}$/.test(String(errorNo))) return String(errorNo);
  return /AADSTS(\d{4,8})/.exec(error.errorMessage)?.[1];
}

function rejection(error: unknown, doing: string): AuthorizationRejected {
  if (error instanceof AuthorizationRejected) return error;
  if (error instanceof ServerError) {
    const code = aadstsCode(error);
    const said = `${/^[a-z_]{1,64}$/.test(error.errorCode) ? error.errorCode : 'error'}${code ? ` AADSTS${code}` : ''}${error.status ? `, HTTP ${error.status}` : ''}`;
    // AADSTS50011: not a registered redirect URI; AADSTS500112: not the one the code was issued for.
    if (code === '50011' || code === '500112') return new AuthorizationRejected('redirect_uri_mismatch', `Microsoft refused the redirect URI ${doing} (${said})`);
    if (error.errorCode === 'invalid_grant') return new AuthorizationRejected('invalid_grant', `Microsoft refused the grant ${doing} (${said})`);
    return new AuthorizationRejected('provider_error', `Microsoft's token endpoint refused ${doing} (${said})`);
  }
  if (error instanceof AuthError) {
    if (error.errorCode === 'nonce_mismatch') return new AuthorizationRejected('nonce_mismatch', 'the Microsoft id token carries another nonce than this sign-in sent');
    return new AuthorizationRejected('provider_error', `msal failed ${doing} (${/^[a-z_]{1,64}$/.test(error.errorCode) ? error.errorCode : 'client error'})`);
  }
  return new AuthorizationRejected('provider_error', `the Microsoft identity platform could not be reached ${doing}`);
}

function graphRejection(error: unknown): AuthorizationRejected {
  const { statusCode, code } = (error ?? {}) as { statusCode?: unknown; code?: unknown };
  const status = typeof statusCode === 'number' && statusCode > 0 ? statusCode : undefined;
  const said = `${status ? `HTTP ${status}` : 'no answer'}${typeof code === 'string' && /^[A-Za-z_]{1,64}$/.test(code) ? ` ${code}` : ''}`;
  // 401: the token was refused; 403 Authorization_RequestDenied: it lacks User.Read.
  if (status === 401 || status === 403) return new AuthorizationRejected('invalid_token', `Graph refused the admin's token reading the verified domains (${said})`);
  return new AuthorizationRejected('provider_error', `Graph failed reading the verified domains (${said})`);
}
