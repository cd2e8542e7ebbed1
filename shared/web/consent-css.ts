// The consent site's only stylesheet, served by the router at CONSENT_ROUTES.stylesheet as text/css
// (the CSP is default-src 'self': no inline style, no web fonts, no images). Colours live in two
// palettes so their contrast can be checked by a test rather than by eye: TEXT_PAIRS must reach 4.5:1
// (WCAG AA text, buttons and links included), NON_TEXT_PAIRS 3:1 (input borders, focus rings).

export const PALETTES = {
  light: {
    bg: '#ffffff',
    surface: '#f6f8fa',
    text: '#1f2328',
    muted: '#57606a',
    link: '#0550ae',
    accent: '#0550ae',
    onAccent: '#ffffff',
    danger: '#a40e26',
    onDanger: '#ffffff',
    border: '#6e7781',
    divider: '#d0d7de',
    focus: '#0550ae',
    okBg: '#dafbe1',
    okText: '#116329',
    warnBg: '#fff8c5',
    warnText: '#7d4e00',
    offBg: '#eaeef2',
    offText: '#424a53',
    errorBg: '#ffebe9',
    errorText: '#a40e26',
  },
  dark: {
    bg: '#0d1117',
    surface: '#161b22',
    text: '#e6edf3',
    muted: '#9198a1',
    link: '#58a6ff',
    accent: '#58a6ff',
    onAccent: '#0d1117',
    danger: '#b62324',
    onDanger: '#ffffff',
    border: '#8b949e',
    divider: '#30363d',
    focus: '#58a6ff',
    okBg: '#12261e',
    okText: '#7ee787',
    warnBg: '#272115',
    warnText: '#e3b341',
    offBg: '#212830',
    offText: '#d1d7e0',
    errorBg: '#25171c',
    errorText: '#ff7b72',
  },
} as const;

export type ColourToken = keyof (typeof PALETTES)['light'];

/** Every foreground/background combination the stylesheet uses for text. */
export const TEXT_PAIRS: ReadonlyArray<readonly [fg: ColourToken, bg: ColourToken]> = [
  ['text', 'bg'],
  ['text', 'surface'],
  ['muted', 'bg'],
  ['muted', 'surface'],
  ['link', 'bg'],
  ['link', 'surface'],
  ['onAccent', 'accent'],
  ['onDanger', 'danger'],
  ['okText', 'okBg'],
  ['text', 'okBg'],
  ['warnText', 'warnBg'],
  ['offText', 'offBg'],
  ['errorText', 'errorBg'],
  ['text', 'errorBg'],
  ['link', 'errorBg'],
];

/** Non-text elements a user must perceive: input borders and focus rings. */
export const NON_TEXT_PAIRS: ReadonlyArray<readonly [fg: ColourToken, bg: ColourToken]> = [
  ['border', 'bg'],
  ['focus', 'bg'],
  ['focus', 'surface'],
];

function customProperties(palette: Record<ColourToken, string>): string {
  return Object.entries(palette)
    .map(([token, value]) => `  --${token.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${value};`)
    .join('\n');
}

export const CONSENT_CSS = `:root {
  color-scheme: light dark;
${customProperties(PALETTES.light)}
}
@media (prefers-color-scheme: dark) {
  :root {
${customProperties(PALETTES.dark).replace(/^/gm, '  ')}
  }
}
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body {
  margin: 0;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif;
  font-size: 1rem;
  line-height: 1.55;
  color: var(--text);
  background: var(--bg);
}
a { color: var(--link); text-underline-offset: 0.15em; }
a:hover { text-decoration-thickness: 2px; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
/* main only takes focus from the skip link; a ring around the whole page would be noise. */
main:focus { outline: none; }

.skip-link {
  position: absolute; left: 1rem; top: -10rem; z-index: 10;
  padding: 0.75rem 1rem; border-radius: 0.375rem;
  background: var(--accent); color: var(--on-accent); font-weight: 600;
}
.skip-link:focus { top: 1rem; }
.visually-hidden {
  position: absolute !important; width: 1px; height: 1px; margin: -1px; padding: 0; border: 0;
  overflow: hidden; clip: rect(0 0 0 0); clip-path: inset(50%); white-space: nowrap;
}

.site-header { border-bottom: 1px solid var(--divider); background: var(--surface); }
.site-header-inner, main { max-width: 56rem; margin: 0 auto; padding: 1rem 1.25rem; }
.site-header-inner { display: flex; flex-wrap: wrap; gap: 0.5rem 1.5rem; align-items: center; justify-content: space-between; }
.site-name { margin: 0; font-weight: 600; }
.languages ul { display: flex; flex-wrap: wrap; gap: 0.25rem 1rem; margin: 0; padding: 0; list-style: none; }
.languages li + li { margin-top: 0; }
.languages a[aria-current="true"] { color: var(--text); font-weight: 700; text-decoration: none; }
main { padding-bottom: 3rem; }

h1 { font-size: clamp(1.6rem, 4vw, 2.1rem); line-height: 1.2; margin: 1.25rem 0 1rem; }
h2 { font-size: 1.35rem; line-height: 1.3; margin: 2.25rem 0 0.75rem; }
h3 { font-size: 1.15rem; line-height: 1.3; margin: 1.25rem 0 0.5rem; }
h4 { font-size: 1rem; margin: 1rem 0 0.5rem; }
p, ul, dl { margin: 0 0 1rem; }
ul { padding-left: 1.25rem; }
li + li { margin-top: 0.35rem; }
.lead { font-size: 1.125rem; }
.note, .hint { color: var(--muted); }
.address { overflow-wrap: anywhere; }

.providers { display: grid; gap: 1.25rem; grid-template-columns: repeat(auto-fit, minmax(20rem, 1fr)); }
.card {
  background: var(--surface); border: 1px solid var(--divider); border-radius: 0.5rem;
  padding: 1rem 1.25rem; margin: 0 0 1.25rem;
}
.card > :first-child { margin-top: 0; }
.card > :last-child { margin-bottom: 0; }

form { margin: 0 0 1rem; }
.actions { display: flex; flex-wrap: wrap; gap: 0.5rem 0.75rem; align-items: center; margin: 0 0 1rem; }
.actions form { margin: 0; }
button {
  font: inherit; font-weight: 600; line-height: 1.3; cursor: pointer;
  min-height: 2.75rem; padding: 0.6rem 1.1rem; border-radius: 0.375rem;
  border: 2px solid var(--accent); background: var(--accent); color: var(--on-accent);
}
button:hover { text-decoration: underline; }
button.secondary { background: var(--bg); color: var(--link); border-color: var(--link); }
button.danger { background: var(--danger); color: var(--on-danger); border-color: var(--danger); }

label { display: block; font-weight: 600; margin: 0 0 0.25rem; }
.hint { margin: 0 0 0.5rem; }
textarea {
  display: block; width: 100%; min-height: 8rem; margin: 0 0 1rem; padding: 0.5rem 0.75rem;
  font: inherit; color: var(--text); background: var(--bg);
  border: 2px solid var(--border); border-radius: 0.375rem;
}
textarea[aria-invalid="true"] { border-color: var(--error-text); border-width: 3px; }

.banner {
  margin: 0 0 1.5rem; padding: 0.75rem 1rem; border-radius: 0.375rem;
  background: var(--ok-bg); color: var(--text); border-left: 6px solid var(--ok-text);
}
.banner p { margin: 0; }
.error-summary {
  margin: 0 0 1.25rem; padding: 1rem 1.25rem; border-radius: 0.375rem;
  background: var(--error-bg); color: var(--text); border: 3px solid var(--error-text);
}
.error-summary h2, .error-summary h3 { margin-top: 0; color: var(--error-text); }
.refused dt { font-weight: 600; overflow-wrap: anywhere; }
.refused dd { margin: 0 0 0.5rem; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1rem; }
.facts dt { font-weight: 600; }
.facts dd { margin: 0; overflow-wrap: anywhere; }

/* position: relative keeps the visually hidden texts inside the scroll box; else they widen the page. */
.table-wrap { position: relative; overflow-x: auto; margin: 0 0 1.5rem; }
table { border-collapse: collapse; width: 100%; min-width: 46rem; font-size: 0.95rem; }
/* Breaking an address mid-word makes it unreadable; the region scrolls instead. */
table .address { white-space: nowrap; overflow-wrap: normal; }
caption { text-align: left; font-weight: 600; padding: 0 0 0.5rem; }
th, td { text-align: left; vertical-align: top; padding: 0.5rem 0.6rem; border-bottom: 1px solid var(--divider); }
thead th { background: var(--surface); font-size: 0.95rem; }
td .actions { margin: 0; }
td p { margin: 0.35rem 0 0; }
/* State is written out in words; the colour only repeats it. */
.state {
  display: inline-block; padding: 0.1rem 0.55rem; border-radius: 999px;
  border: 1px solid currentColor; font-weight: 600; font-size: 0.9rem;
}
.state-connected { background: var(--ok-bg); color: var(--ok-text); }
.state-reauthorization_required { background: var(--warn-bg); color: var(--warn-text); }
.state-disconnected { background: var(--off-bg); color: var(--off-text); }

@media (max-width: 40rem) {
  .site-header-inner, main { padding-left: 1rem; padding-right: 1rem; }
  .providers { grid-template-columns: 1fr; }
  .card form button, main > form button { width: 100%; }
  .facts { grid-template-columns: 1fr; }
  .facts dd { margin-bottom: 0.5rem; }
}
@media (forced-colors: active) {
  button, .state { border: 2px solid ButtonText; }
  .banner, .error-summary, .card { border: 2px solid CanvasText; }
}
`;
