// The interactive half of the fake Microsoft identity platform (fake-identity.ts serves it): the
// directory (users with their directory roles, verified domains), the v2.0 authorize endpoint with a
// sign-in screen, the authorization-code grant at the token endpoint, and the v2.0 admin-consent
// endpoint with a consent screen. Wire format as Microsoft documents it (entra-docs
// v2-oauth2-auth-code-flow.md, v2-admin-consent.md, id-token-claims-reference.md,
// reference-error-codes.md) and, where the docs are silent, as Entra was seen to answer:
//   - an unknown client or a redirect URI not registered on the app never redirects: Entra shows its
//     error page (HTML, 400) with AADSTS700016 / AADSTS50011;
//   - sign-in → 302 redirect_uri?code&state&session_state; Cancel → error=access_denied (AADSTS65004);
//   - admin consent → 302 redirect_uri?admin_consent=True&tenant&scope&state; Cancel →
//     error=access_denied&error_description=AADSTS65004…&error_uri&admin_consent=True&state, without
//     `tenant` (MicrosoftDocs/azure-docs#114009; the docs' own sample shows error=consent_required);
//   - code redemption: AADSTS54005 (code already redeemed), AADSTS501481 (verifier does not match
//     the challenge), AADSTS500112 (redirect URI differs from the authorize request's), as invalid_grant.
// Screens are small accessible pages (lang, title, one h1, real buttons) a headless browser can click:
// one POST form per account, buttons labelled `Sign in as <upn>` / `Accept as <upn>`, and `Cancel`.
// A pending request is kept here and referenced by a random hidden field, used once.
// Simplifications: no cookies or SSO session (prompt=none answers login_required), no passwords, a
// delegated sign-in needs no consent screen (as if users may consent to openid/profile/User.Read),
// Microsoft Graph is the only resource, and refresh tokens are issued but not redeemable.
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { escapeHtml } from '../web/html.js';

/** Directory role template ids (`wids`) that may grant Microsoft Graph application permissions. */
export const GLOBAL_ADMINISTRATOR = '62e90394-69f5-4237-9190-012177145e10';
export const PRIVILEGED_ROLE_ADMINISTRATOR = 'e8611ab8-c189-46e8-94e1-60213ab1f814';
/** May consent to application permissions, except Microsoft Graph's (so not to ours). */
export const CLOUD_APPLICATION_ADMINISTRATOR = '158c047a-c907-4556-b7ef-446551a6b5f7';
const GRAPH_APP_CONSENT_ROLES = new Set([GLOBAL_ADMINISTRATOR, PRIVILEGED_ROLE_ADMINISTRATOR]);

const GRAPH = 'https://graph.microsoft.com';
const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);
const PENDING_MS = 15 * 60_000;
const CODE_MS = 10 * 60_000;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The app manifest's groupMembershipClaims; `wids` is emitted only for DirectoryRole and All. */
export type GroupMembershipClaims = 'None' | 'SecurityGroup' | 'DirectoryRole' | 'ApplicationGroup' | 'All';

export interface DirectoryUserInput {
  tenantId: string;
  objectId?: string;
  userPrincipalName: string;
  displayName: string;
  /** Directory role template ids (the `wids` claim), e.g. GLOBAL_ADMINISTRATOR. */
  roles?: string[];
}

export type DirectoryUser = Required<DirectoryUserInput>;

export interface VerifiedDomain {
  capabilities: string;
  isDefault: boolean;
  isInitial: boolean;
  name: string;
  type: 'Managed';
}

/** Graph's organization resource, as far as the fake keeps it. */
export interface OrganizationRecord {
  id: string;
  displayName: string;
  verifiedDomains: VerifiedDomain[];
}

export interface InteractiveRequestRecord {
  endpoint: 'authorize' | 'adminconsent';
  /** The tenant path segment, lower-cased. */
  tenant: string;
  /** The query as the browser sent it. */
  params: Record<string, string>;
  /** `screen` while the user decides; then `code`, `consented`, or the error answered (`AADSTS50011`, `access_denied`…). */
  outcome: string;
  at: number;
}

/** What the interactive endpoints read of an app registration. */
export interface InteractiveApp {
  clientId: string;
  displayName: string;
  redirectUris: string[];
  /** Graph application permissions (app roles) its admin consent grants. */
  roles: string[];
  groupMembershipClaims: GroupMembershipClaims;
  /** Optional id token claims from the manifest; only `auth_time` is modelled. */
  optionalIdTokenClaims: string[];
}

/** The core fake the interactive endpoints run on. */
export interface IdentityHost {
  /** https://127.0.0.1:PORT, known once the server listens. */
  baseUrl(): string;
  readonly tokenLifetimeSeconds: number;
  app(clientId: string): InteractiveApp | undefined;
  /** Client authentication at the token endpoint, as for client credentials; undefined when it passes. */
  authenticateClient(clientId: string, tenant: string, form: URLSearchParams): Promise<OAuthFailure | undefined>;
  /** Admin consent: the app gets a service principal (and its app roles) in the tenant. */
  grantConsent(tenantId: string, clientId: string): void;
  /** A user of the tenant signed in to the app: its delegated tokens are good there. */
  signedIn(tenantId: string, clientId: string): void;
  /** An RS256 JWT with the fake's key: `kid`, and `x5t` too for v1.0 tokens. */
  sign(claims: Record<string, unknown>, options: { x5t: boolean }): Promise<string>;
}

export interface OAuthFailure {
  status: number;
  error: string;
  code: number;
  description: string;
}

type TenantScope = { all: true } | { all: false; tenantId: string };
type ResponseMode = 'query' | 'fragment' | 'form_post';

interface PendingSignIn {
  record: InteractiveRequestRecord;
  scope: TenantScope;
  tenantRef: string;
  clientId: string;
  redirectUri: string;
  responseMode: ResponseMode;
  state: string | undefined;
  nonce: string | undefined;
  scopes: string[];
  codeChallenge: string | undefined;
  codeChallengeMethod: 'S256' | 'plain';
  loginHint: string | undefined;
  maxAge: boolean;
  expiresAt: number;
}

interface IssuedCode {
  clientId: string;
  tenantRef: string;
  redirectUri: string;
  user: DirectoryUser;
  scopes: string[];
  nonce: string | undefined;
  codeChallenge: string | undefined;
  codeChallengeMethod: 'S256' | 'plain';
  authTime: number;
  maxAge: boolean;
  expiresAt: number;
  redeemed: boolean;
}

interface PendingConsent {
  record: InteractiveRequestRecord;
  scope: TenantScope;
  tenantRef: string;
  clientId: string;
  redirectUri: string;
  state: string | undefined;
  requestedScope: string;
  expiresAt: number;
}

export interface TokenReply {
  status: number;
  json: Record<string, unknown>;
  /** `issued`, or the OAuth error answered. */
  outcome: string;
}

// ---- the directory --------------------------------------------------------------------------------

export class Directory {
  private readonly users = new Map<string, DirectoryUser>();
  private readonly domains = new Map<string, string[]>();
  private readonly names = new Map<string, string>();

  addUser(input: DirectoryUserInput): DirectoryUser {
    const user: DirectoryUser = {
      tenantId: input.tenantId.toLowerCase(),
      objectId: (input.objectId ?? randomUUID()).toLowerCase(),
      userPrincipalName: input.userPrincipalName,
      displayName: input.displayName,
      roles: (input.roles ?? []).map((r) => r.toLowerCase()),
    };
    this.users.set(`${user.tenantId}/${user.objectId}`, user);
    return user;
  }

  usersOf(tenantId?: string): DirectoryUser[] {
    return [...this.users.values()].filter((u) => tenantId === undefined || u.tenantId === tenantId.toLowerCase());
  }

  setVerifiedDomains(tenantId: string, domains: string[]): void {
    this.domains.set(tenantId.toLowerCase(), [...domains]);
  }

  setDisplayName(tenantId: string, displayName: string): void {
    this.names.set(tenantId.toLowerCase(), displayName);
  }

  /** A tenant named by a verified domain (`contoso.onmicrosoft.com`), as the endpoints accept. */
  tenantOfDomain(domain: string): string | undefined {
    const lower = domain.toLowerCase();
    for (const [tenantId, names] of this.domains) if (names.some((n) => n.toLowerCase() === lower)) return tenantId;
    return undefined;
  }

  organization(tenantId: string): OrganizationRecord {
    const id = tenantId.toLowerCase();
    const names = this.domains.get(id) ?? [];
    const initial = names.find((n) => /\.onmicrosoft\.com$/i.test(n));
    const preferred = names.find((n) => n !== initial) ?? initial;
    return {
      id,
      displayName: this.names.get(id) ?? id,
      verifiedDomains: names.map((name) => ({
        capabilities: name === initial ? 'Email, OfficeCommunicationsOnline' : 'Email',
        isDefault: name === preferred,
        isInitial: name === initial,
        name,
        type: 'Managed' as const,
      })),
    };
  }
}

// ---- the endpoints --------------------------------------------------------------------------------

export class InteractiveEndpoints {
  readonly authorizeRequests: InteractiveRequestRecord[] = [];
  readonly adminConsentRequests: InteractiveRequestRecord[] = [];
  private readonly signIns = new Map<string, PendingSignIn>();
  private readonly consents = new Map<string, PendingConsent>();
  private readonly codes = new Map<string, IssuedCode>();

  constructor(
    private readonly host: IdentityHost,
    private readonly directory: Directory,
    private readonly isTenant: (tenantId: string) => boolean,
  ) {}

  /** Serves the request when it is one of the interactive routes; false otherwise. */
  async route(method: string, tenantRef: string, route: string, query: URLSearchParams, body: Buffer, res: ServerResponse): Promise<boolean> {
    const tenant = tenantRef.toLowerCase();
    const path = route.toLowerCase();
    if (method === 'GET' && path === 'oauth2/v2.0/authorize') this.authorize(tenant, query, res);
    else if (method === 'POST' && path === 'login') this.signInDecision(new URLSearchParams(body.toString('utf8')), res);
    else if (method === 'GET' && path === 'v2.0/adminconsent') this.adminConsent(tenant, query, res);
    else if (method === 'POST' && path === 'consent/set') this.consentDecision(new URLSearchParams(body.toString('utf8')), res);
    else return false;
    return true;
  }

  // ---- sign-in ------------------------------------------------------------------------------------

  private authorize(tenantRef: string, query: URLSearchParams, res: ServerResponse): void {
    const record = this.record(this.authorizeRequests, 'authorize', tenantRef, query);
    const checked = this.checkClientAndRedirect(tenantRef, query, res, record);
    if (!checked) return;
    const { scope, app, redirectUri } = checked;
    const state = query.get('state') ?? undefined;
    const requestedMode = query.get('response_mode') ?? 'query';
    const responseMode: ResponseMode = requestedMode === 'fragment' || requestedMode === 'form_post' ? requestedMode : 'query';
    const back = (error: string, code: number, text: string): void => {
      record.outcome = error;
      redirect(res, redirectUri, responseMode, { error, error_description: aadsts(code, text), error_uri: errorUri(code), state });
    };
    if (requestedMode !== responseMode) return back('invalid_request', 70007, `The application returned an unsupported value '${requestedMode}' of 'response_mode'.`);
    const responseType = query.get('response_type');
    if (!responseType) return back('invalid_request', 900144, "The request body must contain the following parameter: 'response_type'.");
    if (responseType !== 'code') return back('unsupported_response_type', 700054, `response_type '${responseType}' is not enabled for the application.`);
    const scopes = (query.get('scope') ?? '').split(' ').filter(Boolean);
    if (scopes.length === 0) return back('invalid_request', 900144, "The request body must contain the following parameter: 'scope'.");
    const codeChallenge = query.get('code_challenge') ?? undefined;
    const method = query.get('code_challenge_method');
    if (method !== null && codeChallenge === undefined) return back('invalid_request', 900144, "The request body must contain the following parameter: 'code_challenge'.");
    if (method !== null && method !== 'S256' && method !== 'plain') return back('invalid_request', 501491, `Invalid code_challenge_method '${method}'.`);
    if (codeChallenge !== undefined && !/^[A-Za-z0-9\-._~]{43,128}$/.test(codeChallenge)) return back('invalid_request', 501491, 'Invalid size of Code_Challenge parameter.');
    const prompt = query.get('prompt');
    if (prompt === 'none') return back('login_required', 50058, 'A silent sign-in request was sent but no user is signed in.');
    if (prompt !== null && !['login', 'select_account', 'consent', 'create'].includes(prompt)) return back('invalid_request', 90023, `Invalid value '${prompt}' for the 'prompt' parameter.`);
    const id = opaque();
    const pending: PendingSignIn = {
      record,
      scope,
      tenantRef,
      clientId: app.clientId,
      redirectUri,
      responseMode,
      state,
      nonce: query.get('nonce') ?? undefined,
      scopes,
      codeChallenge,
      // PKCE: without a method, the challenge is the verifier itself (RFC 7636 §4.3).
      codeChallengeMethod: method === 'S256' ? 'S256' : 'plain',
      loginHint: query.get('login_hint') ?? undefined,
      maxAge: query.has('max_age'),
      expiresAt: Date.now() + PENDING_MS,
    };
    prune(this.signIns);
    this.signIns.set(id, pending);
    record.outcome = 'screen';
    sendHtml(res, 200, signInScreen(app, tenantRef, id, this.signInCandidates(pending), pending.loginHint));
  }

  private signInCandidates(pending: PendingSignIn): DirectoryUser[] {
    const users = this.directory.usersOf(pending.scope.all ? undefined : pending.scope.tenantId);
    const hint = pending.loginHint?.toLowerCase();
    return hint ? users.filter((u) => u.userPrincipalName.toLowerCase() === hint) : users;
  }

  private signInDecision(form: URLSearchParams, res: ServerResponse): void {
    const pending = take(this.signIns, form.get('request'));
    if (!pending) return errorPage(res, 400, 50089, 'Authentication failed due to flow token expired. This sign-in request is unknown, has expired or was already used.');
    const { record, redirectUri, responseMode, state } = pending;
    if (form.get('action') === 'cancel') {
      record.outcome = 'access_denied';
      const code = 65004;
      return redirect(res, redirectUri, responseMode, { error: 'access_denied', error_subcode: 'cancel', error_description: aadsts(code, 'User declined to consent to access the app.'), error_uri: errorUri(code), state });
    }
    const user = this.signInCandidates(pending).find((u) => u.objectId === form.get('account')?.toLowerCase());
    if (!user) return errorPage(res, 400, 50034, 'The user account does not exist in the directory. To sign into this application, the account must be added to the directory.');
    const code = `1.${opaque()}${opaque()}`;
    prune(this.codes);
    this.codes.set(code, {
      clientId: pending.clientId,
      tenantRef: pending.tenantRef,
      redirectUri,
      user,
      scopes: pending.scopes,
      nonce: pending.nonce,
      codeChallenge: pending.codeChallenge,
      codeChallengeMethod: pending.codeChallengeMethod,
      authTime: Math.floor(Date.now() / 1000),
      maxAge: pending.maxAge,
      expiresAt: Date.now() + CODE_MS,
      redeemed: false,
    });
    record.outcome = 'code';
    redirect(res, redirectUri, responseMode, { code, state, session_state: randomUUID() });
  }

  /** grant_type=authorization_code at /{tenant}/oauth2/v2.0/token. */
  async redeemCode(tenantRef: string, form: URLSearchParams): Promise<TokenReply> {
    const tenant = tenantRef.toLowerCase();
    if (!this.resolveTenant(tenant)) return tokenError(400, 'invalid_request', 90002, `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`);
    const clientId = form.get('client_id');
    if (!clientId) return tokenError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'client_id'.");
    const app = this.host.app(clientId);
    if (!app) return tokenError(400, 'unauthorized_client', 700016, `Application with identifier '${clientId}' was not found in the directory '${tenant}'.`);
    if (!form.has('client_secret') && !form.has('client_assertion')) return tokenError(401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
    const refused = await this.host.authenticateClient(app.clientId, tenant, form);
    if (refused) return { status: refused.status, json: oauthError(refused), outcome: refused.error };
    const code = form.get('code');
    if (!code) return tokenError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'code'.");
    const issued = this.codes.get(code);
    if (!issued || issued.clientId !== app.clientId) return tokenError(400, 'invalid_grant', 70000, "The provided value for the 'code' parameter is not valid.");
    if (issued.redeemed) return tokenError(400, 'invalid_grant', 54005, 'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.');
    if (issued.expiresAt <= Date.now()) return tokenError(400, 'invalid_grant', 70008, 'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.');
    if (tenant !== issued.tenantRef && tenant !== issued.user.tenantId) return tokenError(400, 'invalid_grant', 700005, 'Provided Authorization Code is intended to use against other tenant, thus rejected.');
    const redirectUri = form.get('redirect_uri');
    if (!redirectUri) return tokenError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'redirect_uri'.");
    if (redirectUri !== issued.redirectUri) return tokenError(400, 'invalid_grant', 500112, `The reply address '${redirectUri}' does not match the reply address '${issued.redirectUri}' provided when requesting Authorization code.`);
    if (issued.codeChallenge !== undefined && !verifierMatches(form.get('code_verifier'), issued.codeChallenge, issued.codeChallengeMethod)) {
      return tokenError(400, 'invalid_grant', 501481, 'The Code_Verifier does not match the code_challenge supplied in the authorization request.');
    }
    issued.redeemed = true;
    this.host.signedIn(issued.user.tenantId, app.clientId);
    return { status: 200, json: await this.mint(app, issued, form), outcome: 'issued' };
  }

  private async mint(app: InteractiveApp, issued: IssuedCode, form: URLSearchParams): Promise<Record<string, unknown>> {
    const { user } = issued;
    const now = Math.floor(Date.now() / 1000);
    const lifetime = this.host.tokenLifetimeSeconds;
    const requested = new Set(issued.scopes.map((s) => s.toLowerCase()));
    const oidc = ['openid', 'profile', 'email'].filter((s) => requested.has(s));
    // Graph is the only resource here: `User.Read` or `https://graph.microsoft.com/User.Read`.
    const graphScopes = issued.scopes
      .filter((s) => !OIDC_SCOPES.has(s.toLowerCase()))
      .map((s) => (s.toLowerCase().startsWith(`${GRAPH}/`) ? s.slice(GRAPH.length + 1) : s))
      .filter((s) => s !== '.default');
    const scp = [...oidc, ...(graphScopes.length ? graphScopes : ['User.Read'])].join(' ');
    const wids = ['DirectoryRole', 'All'].includes(app.groupMembershipClaims) && user.roles.length ? { wids: [...user.roles] } : {};
    const profile = requested.has('profile');
    const idToken = requested.has('openid')
      ? await this.host.sign(
          {
            aud: app.clientId,
            iss: `${this.host.baseUrl()}/${user.tenantId}/v2.0`,
            iat: now,
            nbf: now,
            exp: now + 3600,
            ...(issued.maxAge || app.optionalIdTokenClaims.includes('auth_time') ? { auth_time: issued.authTime } : {}),
            ...(profile ? { name: user.displayName, preferred_username: user.userPrincipalName, oid: user.objectId } : {}),
            ...(requested.has('email') ? { email: user.userPrincipalName } : {}),
            ...(issued.nonce !== undefined ? { nonce: issued.nonce } : {}),
            // Pairwise: unique to this app and user.
            sub: createHash('sha256').update(`${app.clientId}/${user.objectId}`).digest('base64url').slice(0, 43),
            tid: user.tenantId,
            uti: opaque().slice(0, 22),
            ver: '2.0',
            ...wids,
          },
          { x5t: false },
        )
      : undefined;
    const accessToken = await this.host.sign(
      {
        aud: GRAPH,
        iss: `https://sts.windows.net/${user.tenantId}/`,
        iat: now,
        nbf: now,
        exp: now + lifetime,
        acr: '1',
        amr: ['pwd'],
        app_displayname: app.displayName,
        appid: app.clientId,
        appidacr: form.has('client_assertion') ? '2' : '1',
        idtyp: 'user',
        name: user.displayName,
        oid: user.objectId,
        scp,
        sub: createHash('sha256').update(`${GRAPH}/${user.objectId}`).digest('base64url').slice(0, 43),
        tid: user.tenantId,
        unique_name: user.userPrincipalName,
        upn: user.userPrincipalName,
        uti: opaque().slice(0, 22),
        ver: '1.0',
        ...(user.roles.length ? { wids: [...user.roles] } : {}),
      },
      { x5t: true },
    );
    return {
      token_type: 'Bearer',
      scope: scp,
      expires_in: lifetime,
      ext_expires_in: lifetime,
      access_token: accessToken,
      ...(requested.has('offline_access') ? { refresh_token: `1.${opaque()}${opaque()}` } : {}),
      ...(idToken ? { id_token: idToken } : {}),
      ...(form.get('client_info') === '1' ? { client_info: Buffer.from(JSON.stringify({ uid: user.objectId, utid: user.tenantId })).toString('base64url') } : {}),
    };
  }

  // ---- admin consent ------------------------------------------------------------------------------

  private adminConsent(tenantRef: string, query: URLSearchParams, res: ServerResponse): void {
    const record = this.record(this.adminConsentRequests, 'adminconsent', tenantRef, query);
    const checked = this.checkClientAndRedirect(tenantRef, query, res, record);
    if (!checked) return;
    const { scope, app, redirectUri } = checked;
    const state = query.get('state') ?? undefined;
    const requestedScope = query.get('scope');
    if (!requestedScope) {
      record.outcome = 'invalid_request';
      return redirect(res, redirectUri, 'query', { error: 'invalid_request', error_description: aadsts(900144, "The request body must contain the following parameter: 'scope'."), error_uri: errorUri(900144), admin_consent: 'True', state });
    }
    const id = opaque();
    prune(this.consents);
    this.consents.set(id, { record, scope, tenantRef, clientId: app.clientId, redirectUri, state, requestedScope, expiresAt: Date.now() + PENDING_MS });
    record.outcome = 'screen';
    const users = this.directory.usersOf(scope.all ? undefined : scope.tenantId);
    sendHtml(res, 200, consentScreen(app, tenantRef, id, permissionsOf(app, requestedScope), users.filter(canGrantGraphAppPermissions), users.filter((u) => !canGrantGraphAppPermissions(u))));
  }

  private consentDecision(form: URLSearchParams, res: ServerResponse): void {
    const pending = take(this.consents, form.get('request'));
    if (!pending) return errorPage(res, 400, 50089, 'Authentication failed due to flow token expired. This consent request is unknown, has expired or was already used.');
    const { record, redirectUri, state } = pending;
    if (form.get('action') === 'cancel') {
      record.outcome = 'access_denied';
      const code = 65004;
      return redirect(res, redirectUri, 'query', { error: 'access_denied', error_description: aadsts(code, 'User declined to consent to access the app.'), error_uri: errorUri(code), admin_consent: 'True', state });
    }
    const account = form.get('account')?.toLowerCase();
    const user = this.directory.usersOf(pending.scope.all ? undefined : pending.scope.tenantId).find((u) => u.objectId === account);
    if (!user) return errorPage(res, 400, 50034, 'The user account does not exist in the directory.');
    if (!canGrantGraphAppPermissions(user)) return errorPage(res, 403, 90094, 'Administrator consent is required: this app needs permission to access resources in your organization that only an admin can grant.');
    // Application permissions come only with `/.default`; dynamic scopes would be delegated ones.
    if (pending.requestedScope.split(' ').some((s) => s.toLowerCase() === `${GRAPH}/.default`)) this.host.grantConsent(user.tenantId, pending.clientId);
    record.outcome = 'consented';
    redirect(res, redirectUri, 'query', { admin_consent: 'True', tenant: user.tenantId, scope: pending.requestedScope, state });
  }

  // ---- shared -------------------------------------------------------------------------------------

  /** Errors before the redirect URI is known to be good are shown, never redirected. */
  private checkClientAndRedirect(tenantRef: string, query: URLSearchParams, res: ServerResponse, record: InteractiveRequestRecord): { scope: TenantScope; app: InteractiveApp; redirectUri: string } | undefined {
    const shown = (status: number, code: number, text: string): undefined => {
      record.outcome = `AADSTS${code}`;
      errorPage(res, status, code, text);
      return undefined;
    };
    const scope = this.resolveTenant(tenantRef);
    if (!scope) return shown(400, 90002, `Tenant '${tenantRef}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`);
    const clientId = query.get('client_id');
    if (!clientId) return shown(400, 900144, "The request body must contain the following parameter: 'client_id'.");
    const app = this.host.app(clientId);
    if (!app) return shown(400, 700016, `Application with identifier '${clientId}' was not found in the directory '${tenantRef}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.`);
    const redirectUri = query.get('redirect_uri');
    if (!redirectUri) return shown(400, 900971, 'No reply address provided.');
    if (!app.redirectUris.includes(redirectUri)) {
      return shown(400, 50011, `The redirect URI '${redirectUri}' specified in the request does not match the redirect URIs configured for the application '${app.clientId}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this.`);
    }
    return { scope, app, redirectUri };
  }

  /** organizations and common: any work account; a GUID or a verified domain: that directory only. */
  private resolveTenant(tenantRef: string): TenantScope | undefined {
    if (tenantRef === 'organizations' || tenantRef === 'common') return { all: true };
    if (GUID.test(tenantRef)) return this.isTenant(tenantRef) ? { all: false, tenantId: tenantRef } : undefined;
    const tenantId = this.directory.tenantOfDomain(tenantRef);
    return tenantId ? { all: false, tenantId } : undefined;
  }

  private record(list: InteractiveRequestRecord[], endpoint: InteractiveRequestRecord['endpoint'], tenant: string, query: URLSearchParams): InteractiveRequestRecord {
    const record: InteractiveRequestRecord = { endpoint, tenant, params: Object.fromEntries(query), outcome: 'pending', at: Date.now() };
    list.push(record);
    return record;
  }
}

function canGrantGraphAppPermissions(user: DirectoryUser): boolean {
  return user.roles.some((r) => GRAPH_APP_CONSENT_ROLES.has(r));
}

function permissionsOf(app: InteractiveApp, requestedScope: string): Array<{ name: string; kind: string }> {
  const scopes = requestedScope.split(' ').filter(Boolean);
  const graphDefault = scopes.some((s) => s.toLowerCase() === `${GRAPH}/.default`);
  return [
    ...(graphDefault ? app.roles.map((name) => ({ name, kind: 'Application' })) : []),
    ...scopes.filter((s) => s.toLowerCase() !== `${GRAPH}/.default`).map((name) => ({ name, kind: 'Delegated' })),
  ];
}

function verifierMatches(verifier: string | null, challenge: string, method: 'S256' | 'plain'): boolean {
  if (!verifier || !/^[A-Za-z0-9\-._~]{43,128}$/.test(verifier)) return false;
  const derived = Buffer.from(method === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier);
  const expected = Buffer.from(challenge);
  return derived.length === expected.length && timingSafeEqual(derived, expected);
}

function opaque(): string {
  return randomBytes(24).toString('base64url');
}

function take<T extends { expiresAt: number }>(map: Map<string, T>, id: string | null): T | undefined {
  if (!id) return undefined;
  const entry = map.get(id);
  map.delete(id);
  return entry && entry.expiresAt > Date.now() ? entry : undefined;
}

function prune(map: Map<string, { expiresAt: number }>): void {
  const now = Date.now();
  for (const [id, entry] of map) if (entry.expiresAt <= now) map.delete(id);
}

// ---- Entra's wire format --------------------------------------------------------------------------

export function failure(status: number, error: string, code: number, description: string): OAuthFailure {
  return { status, error, code, description };
}

function tokenError(status: number, error: string, code: number, description: string): TokenReply {
  return { status, json: oauthError(failure(status, error, code, description)), outcome: error };
}

/** Entra's error body: the AADSTS code leads error_description, which ends with trace and time. */
export function oauthError(f: OAuthFailure): Record<string, unknown> {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = entraTimestamp();
  return {
    error: f.error,
    error_description: `AADSTS${f.code}: ${f.description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
    error_codes: [f.code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: errorUri(f.code),
  };
}

function entraTimestamp(): string {
  return new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

function errorUri(code: number): string {
  return `https://login.microsoftonline.com/error?code=${code}`;
}

/** An error_description as the authorize and admin-consent endpoints put it in the redirect. */
function aadsts(code: number, text: string): string {
  return `AADSTS${code}: ${text}\r\nTrace ID: ${randomUUID()}\r\nCorrelation ID: ${randomUUID()}\r\nTimestamp: ${entraTimestamp()}`;
}

export function sendJson(res: ServerResponse, status: number, json: unknown): void {
  const text = JSON.stringify(json);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store, no-cache', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function redirect(res: ServerResponse, redirectUri: string, mode: ResponseMode, params: Record<string, string | undefined>): void {
  const defined = Object.entries(params).filter((entry): entry is [string, string] => entry[1] !== undefined);
  if (mode === 'form_post') {
    const nonce = randomBytes(16).toString('base64');
    const fields = defined.map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`).join('');
    const body = `<h1>Working…</h1><form method="post" action="${escapeHtml(redirectUri)}">${fields}<noscript><button type="submit">Continue</button></noscript></form><script nonce="${nonce}">document.forms[0].submit()</script>`;
    return sendHtml(res, 200, page('Working…', body), `script-src 'nonce-${nonce}'`);
  }
  const target = new URL(redirectUri);
  if (mode === 'fragment') target.hash = new URLSearchParams(defined).toString();
  else for (const [name, value] of defined) target.searchParams.append(name, value);
  res.writeHead(302, { location: target.toString(), 'cache-control': 'no-store, no-cache', 'content-length': 0 }).end();
}

// ---- screens --------------------------------------------------------------------------------------


function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem}ul{list-style:none;padding:0}li{margin:.5rem 0}button{font-size:1rem;padding:.5rem 1rem}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

function sendHtml(res: ServerResponse, status: number, html: string, scriptSrc = ''): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store, no-cache',
    'content-length': Buffer.byteLength(html),
    // No form-action: the answer to a form is a redirect to the app, on another origin.
    'content-security-policy': `default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'${scriptSrc ? `; ${scriptSrc}` : ''}`,
    'x-frame-options': 'DENY',
  });
  res.end(html);
}

/** One POST form per button: hidden fields, then the button, so each form stands alone. */
function form(action: string, fields: Record<string, string>, label: string): string {
  const hidden = Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('');
  return `<form method="post" action="${escapeHtml(action)}">${hidden}<button type="submit">${escapeHtml(label)}</button></form>`;
}

function signInScreen(app: InteractiveApp, tenantRef: string, id: string, users: DirectoryUser[], loginHint: string | undefined): string {
  const action = `/${encodeURIComponent(tenantRef)}/login`;
  const accounts = users.length
    ? `<ul>${users.map((u) => `<li>${form(action, { request: id, account: u.objectId }, `Sign in as ${u.userPrincipalName}`)}</li>`).join('')}</ul>`
    : `<p role="alert">${loginHint ? `We couldn't find an account with the username ${escapeHtml(loginHint)}.` : 'No account can sign in here.'}</p>`;
  return page('Sign in to your account', `<h1>Pick an account</h1>\n<p>to continue to ${escapeHtml(app.displayName)}</p>\n${accounts}\n${form(action, { request: id, action: 'cancel' }, 'Cancel')}`);
}

function consentScreen(app: InteractiveApp, tenantRef: string, id: string, permissions: Array<{ name: string; kind: string }>, admins: DirectoryUser[], others: DirectoryUser[]): string {
  const action = `/${encodeURIComponent(tenantRef)}/Consent/Set`;
  const list = permissions.map((p) => `<li>${escapeHtml(p.name)} (${escapeHtml(p.kind)})</li>`).join('');
  const accept = admins.length
    ? `<ul>${admins.map((u) => `<li>${form(action, { request: id, account: u.objectId }, `Accept as ${u.userPrincipalName}`)}</li>`).join('')}</ul>`
    : '<p role="alert">No administrator of this directory can sign in here.</p>';
  const cannot = others.length
    ? `<h2>Cannot consent</h2>\n<p>These accounts hold no role that may grant Microsoft Graph application permissions (Global Administrator or Privileged Role Administrator):</p>\n<ul>${others.map((u) => `<li>${escapeHtml(u.userPrincipalName)}</li>`).join('')}</ul>`
    : '';
  return page(
    'Permissions requested',
    `<h1>Permissions requested</h1>\n<p>${escapeHtml(app.displayName)} asks for these permissions, for your whole organization:</p>\n<ul>${list}</ul>\n<h2>Accept for your organization</h2>\n${accept}\n${form(action, { request: id, action: 'cancel' }, 'Cancel')}\n${cannot}`,
  );
}

function errorPage(res: ServerResponse, status: number, code: number, text: string): void {
  const body = `<h1>Sorry, but we're having trouble signing you in.</h1>\n<p>AADSTS${code}: ${escapeHtml(text)}</p>\n<p>Trace ID: ${randomUUID()}<br>Timestamp: ${entraTimestamp()}</p>`;
  sendHtml(res, status, page('Sign in to your account', body));
}
