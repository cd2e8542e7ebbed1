// HTML bodies are stored only sanitized: no script, no event handler, no style (CSS expressions),
// no remote resource. Images may only point at the message's own cid: parts or data: URIs, so
// opening a ticket never tells a sender (or a tracker) that it was read; an image left without a
// source (a remote banner, a tracking pixel) is dropped whole rather than kept as an empty box.
import sanitizeHtml from 'sanitize-html';

const STORED_IMAGE_SRC = /^(cid:|data:image\/)/i;
const DISPLAYED_IMAGE_SRC = /^data:image\//i;

/** Keeps an image's src only when it matches; an image without one is then dropped by the filter. */
function imageSources(allowed: RegExp): sanitizeHtml.Transformer {
  return (tagName, attribs) => {
    const { src, ...rest } = attribs;
    return { tagName, attribs: src && allowed.test(src.trim()) ? { ...rest, src } : rest };
  };
}

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
    img: imageSources(STORED_IMAGE_SRC),
  },
  // What is left of a remote image or a tracking pixel once its src is gone: nothing worth a box.
  exclusiveFilter: (frame) => frame.tag === 'img' && !frame.attribs.src,
};

// For a page: the same policy again (a body stored under an older, weaker policy is cleaned by the
// current one), and only data: images, since a browser cannot resolve a cid: reference (the part is
// listed among the attachments instead).
const DISPLAY_OPTIONS: sanitizeHtml.IOptions = {
  ...OPTIONS,
  allowedSchemesByTag: { img: ['data'] },
  transformTags: { ...OPTIONS.transformTags, img: imageSources(DISPLAYED_IMAGE_SRC) },
};

export function sanitizeEmailHtml(html: string): string {
  return sanitizeHtml(html, OPTIONS);
}

/** A stored (already sanitized) body, made fit to show: current policy, data: images only. */
export function sanitizeEmailHtmlForDisplay(html: string): string {
  return sanitizeHtml(html, DISPLAY_OPTIONS);
}
