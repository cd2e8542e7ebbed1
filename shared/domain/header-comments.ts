// RFC 5322 header values may carry comments, "(…)", which may nest and are no part of the value.

/** The value with its comments replaced by a space each: innermost first, a bounded number of passes. */
export function withoutComments(value: string): string {
  let text = value;
  for (let pass = 0; pass < 8 && /\([^()]*\)/.test(text); pass++) text = text.replace(/\([^()]*\)/g, ' ');
  return text;
}
