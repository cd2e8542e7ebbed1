// The page an invite link opens: what connecting does, the promises that go with it, exactly what each
// provider will ask the admin to allow, and one button per provider. The promises come before the
// buttons so nobody grants access before reading them.
import type { ConsentView, Language } from '../consent-views.js';
import { html } from '../html.js';
import { t } from '../i18n/catalog.js';
import { connectForm, dateTimeHtml, googleNotice, tHtml, type RenderedPage } from './parts.js';

type LandingView = Extract<ConsentView, { page: 'landing' }>;

export function renderLanding(view: LandingView, lang: Language): RenderedPage {
  const tenant = view.tenantName;
  const invite = { invite: view.invite };
  const main = html`<h1>${t(lang, 'landing.heading', { tenant })}</h1>
<p class="lead">${t(lang, 'landing.intro', { tenant })}</p>

<section aria-labelledby="does-heading">
<h2 id="does-heading">${t(lang, 'landing.does.heading')}</h2>
<ul>
<li>${t(lang, 'landing.does.tickets')}</li>
<li>${t(lang, 'landing.does.replies')}</li>
<li>${t(lang, 'landing.does.control')}</li>
</ul>
</section>

<section aria-labelledby="promises-heading">
<h2 id="promises-heading">${t(lang, 'promises.heading')}</h2>
<ul>
<li>${t(lang, 'promises.encryption')}</li>
<li>${t(lang, 'promises.logging')}</li>
<li>${t(lang, 'promises.isolation')}</li>
<li>${t(lang, 'promises.deletion')}</li>
</ul>
</section>

<section aria-labelledby="providers-heading">
<h2 id="providers-heading">${t(lang, 'landing.providers.heading')}</h2>
<p>${t(lang, 'landing.providers.intro')}</p>
<div class="providers">
<section class="card" aria-labelledby="google-heading">
<h3 id="google-heading">${t(lang, 'access.google.heading')}</h3>
<p>${t(lang, 'access.google.intro')}</p>
<ul>
<li>${t(lang, 'access.google.read')}</li>
<li>${t(lang, 'access.google.send')}</li>
</ul>
<p>${t(lang, 'access.google.limit')}</p>
${googleNotice(lang, 4)}
${connectForm(lang, view.csrfToken, 'google', invite)}
</section>
<section class="card" aria-labelledby="microsoft-heading">
<h3 id="microsoft-heading">${t(lang, 'provider.graph')}</h3>
<p>${t(lang, 'access.microsoft.intro')}</p>
<ul>
<li>${t(lang, 'access.microsoft.read')}</li>
<li>${t(lang, 'access.microsoft.send')}</li>
</ul>
<p>${t(lang, 'access.microsoft.limit')}</p>
${connectForm(lang, view.csrfToken, 'microsoft', invite)}
</section>
</div>
<p>${tHtml(lang, 'landing.expires', { datetime: dateTimeHtml(lang, view.expiresAt) })}</p>
<p class="note">${t(lang, 'landing.once')}</p>
</section>`;
  return { title: t(lang, 'landing.title'), main };
}
