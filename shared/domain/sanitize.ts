// HTML bodies are stored only sanitized: no script, no event handler, no style (CSS expressions),
// no remote resource. Images may only point at the message's own cid: parts or data: URIs, so
// opening a ticket never tells a sender (or a tracker) that it was read.
import sanitizeHtml from 'sanitize-html';

const OPTIONS: sanitizeHtml.IOptions = {
  allowedTags: [
    ...sanitizeHtml.defaults.allowedTags.filter((tag) => tag !== 'a'),
    'a', 'img', 'span', 'font', 'center', 'u', 's', 'small', 'big',
  ],
  allowedAttributes: {
    a: ['href', 'title', 'rel', 'target'],
    img: ['src', 'alt', 'width', 'height'],
    td: ['colspan', 'rowspan', 'align', 'valign'],
    th: ['colspan', 'rowspan', 'align', 'valign'],
    table: ['border', 'cellpadding', 'cellspacing'],
    '*': ['dir', 'lang'],
  },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowedSchemesByTag: { img: ['cid', 'data'] },
  allowProtocolRelative: false,
  disallowedTagsMode: 'discard',
  transformTags: {
    // Links open outside the viewer and leak nothing about it; relative ones would point into it.
    a: (tagName, attribs) => ({
      tagName,
      attribs: {
        ...attribs,
        ...(attribs.href && !/^(https?:|mailto:)/i.test(attribs.href.trim()) ? { href: '' } : {}),
        rel: 'noopener noreferrer nofollow',
        target: '_blank',
      },
    }),
    // A relative src would load from wherever the body is shown: only the message's own parts.
    img: (tagName, attribs) => {
      const { src, ...rest } = attribs;
      return { tagName, attribs: src && /^(cid:|data:image\/)/i.test(src.trim()) ? { ...rest, src } : rest };
    },
  },
};

export function sanitizeEmailHtml(html: string): string {
  return sanitizeHtml(html, OPTIONS);
}
