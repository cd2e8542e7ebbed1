// The ticket viewer's stylesheet, served at VIEWER_ROUTES.stylesheet: the consent site's (same
// palettes, whose contrast pairs its tests check) and a few rules of the viewer's own, using only
// those pairs: ok/warn/error/off text on their own backgrounds.
import { CONSENT_CSS } from './consent-css.js';

const VIEWER_RULES = `
.site-header-inner, main { max-width: 72rem; }
.read-only { margin: 0; color: var(--muted); font-size: 0.95rem; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
table.attachments { min-width: 40rem; }
.filename { overflow-wrap: anywhere; }

.message { margin: 2rem 0 0; padding: 1rem 0 0; border-top: 3px solid var(--divider); }
.message > h3 { margin-top: 0; }
.notices {
  margin: 0 0 1rem; padding: 0.75rem 1rem; border-radius: 0.375rem;
  background: var(--warn-bg); color: var(--text); border-left: 6px solid var(--warn-text);
}
.notices h4 { margin-top: 0; }
.notices ul { margin: 0; }
.notice-detail { display: block; overflow-wrap: anywhere; }

/* The mail's own document: white like a mail client's reading pane, whatever the page's scheme. */
.mail-frame {
  display: block; width: 100%; height: 28rem; margin: 0 0 0.5rem;
  border: 1px solid var(--border); border-radius: 0.375rem; background: #ffffff;
  resize: vertical; overflow: auto;
}
.mail-text {
  margin: 0 0 1rem; padding: 0.75rem 1rem; white-space: pre-wrap; overflow-wrap: anywhere;
  font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 0.9rem;
  background: var(--surface); border: 1px solid var(--divider); border-radius: 0.375rem;
}
.plain-text { margin: 0 0 1rem; }
.plain-text summary { cursor: pointer; color: var(--link); margin: 0 0 0.5rem; }

.scan-clean { background: var(--ok-bg); color: var(--ok-text); }
.scan-infected { background: var(--error-bg); color: var(--error-text); }
.scan-unscanned, .scan-pending { background: var(--warn-bg); color: var(--warn-text); }
.state-outbound { background: var(--off-bg); color: var(--off-text); font-size: 0.85rem; vertical-align: middle; }

.pager ul { display: flex; flex-wrap: wrap; gap: 0.5rem 1.5rem; margin: 0; padding: 0; list-style: none; }
.pager li + li { margin-top: 0; }
@media (forced-colors: active) {
  .notices { border: 2px solid CanvasText; }
}
`;

export const VIEWER_CSS = `${CONSENT_CSS}${VIEWER_RULES}`;
