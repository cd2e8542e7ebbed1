// The raw RFC 5322 message most tests feed the ingestion: a multipart/mixed with a text/plain part and
// any attachments. Tests whose point is an odd MIME shape build theirs by hand (or use tests/fixtures/mail).

export interface MailAttachment {
  filename: string;
  /** The part's whole Content-Type value, parameters included. */
  contentType: string;
  /** A string travels as is (7bit); bytes travel base64, as binary cannot in a text message. */
  bytes: string | Uint8Array;
}

export interface Mail {
  /** Without the angle brackets, like inReplyTo and references. */
  messageId: string;
  subject: string;
  text: string;
  from?: string | undefined;
  to?: string | undefined;
  cc?: string | undefined;
  inReplyTo?: string | undefined;
  references?: string[] | undefined;
  /** Further header lines, e.g. 'Auto-Submitted: auto-replied'. */
  headers?: string[] | undefined;
  date?: string | undefined;
  attachments?: MailAttachment[];
}

const base64Lines = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64').replace(/.{76}(?=.)/g, '$&\r\n');

export function mimeMessage(mail: Mail): Buffer {
  const lines = [
    `From: ${mail.from ?? 'Alice <alice@customer.example>'}`,
    `To: ${mail.to ?? 'support@helpdesk.example'}`,
    ...(mail.cc ? [`Cc: ${mail.cc}`] : []),
    `Subject: ${mail.subject}`,
    `Message-ID: <${mail.messageId}>`,
    ...(mail.inReplyTo ? [`In-Reply-To: <${mail.inReplyTo}>`] : []),
    ...(mail.references?.length ? [`References: ${mail.references.map((id) => `<${id}>`).join(' ')}`] : []),
    ...(mail.headers ?? []),
    ...(mail.date ? [`Date: ${mail.date}`] : []),
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b"',
    '',
    '--b',
    'Content-Type: text/plain',
    '',
    mail.text,
  ];
  for (const { filename, contentType, bytes } of mail.attachments ?? []) {
    const raw = typeof bytes === 'string';
    lines.push('--b', `Content-Type: ${contentType}`, `Content-Disposition: attachment; filename="${filename}"`, ...(raw ? [] : ['Content-Transfer-Encoding: base64']), '', raw ? bytes : base64Lines(bytes));
  }
  lines.push('--b--', '');
  return Buffer.from(lines.join('\r\n'));
}
