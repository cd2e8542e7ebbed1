// English: the reference catalog. Its keys define `Catalog`; every other language has exactly these keys
// and the same {placeholders}. Plain text only (the renderer escapes it); no markup in messages.

export const en = {
  'site.name': 'Helpdesk mailbox connection',
  'site.skip': 'Skip to main content',
  'site.languages': 'Language',

  'common.never': 'Never',
  'common.noActions': 'No actions available',
  'common.notActive': 'Not active',
  'common.noAddress': 'Address no longer available',
  'common.backToStatus': 'Back to your mailboxes',

  'provider.gmail': 'Gmail',
  'provider.graph': 'Microsoft 365',

  'state.connected': 'Connected',
  'state.reauthorization_required': 'Reauthorization required',
  'state.disconnected': 'Disconnected',

  'connect.google': 'Connect Google Workspace or Gmail',
  'connect.microsoft': 'Connect Microsoft 365',

  'landing.title': 'Connect a mailbox',
  'landing.heading': 'Connect a mailbox for {tenant}',
  'landing.intro':
    'You have been invited to connect a support mailbox of {tenant} to the helpdesk. Once it is connected, email that arrives in it becomes tickets, and your team’s replies are sent from the same address.',
  'landing.does.heading': 'What connecting does',
  'landing.does.tickets': 'New email in the mailbox becomes a ticket, or is added to the ticket of the conversation it belongs to.',
  'landing.does.replies': 'Replies written in the helpdesk are sent from the mailbox, so your customers see your usual address.',
  'landing.does.control': 'During your session you can check, reconnect and disconnect the mailbox on these pages.',
  'landing.providers.heading': 'Choose your mail provider',
  'landing.providers.intro': 'This is exactly what each provider will ask you to allow.',
  'landing.expires': 'This invitation expires on {datetime}.',
  'landing.once': 'The invitation can be used only once. It starts a session of up to 8 hours in this browser.',

  'promises.heading': 'How the mail is protected',
  'promises.encryption':
    'Mail is encrypted at rest with AES-256, using keys managed in AWS Key Management Service (KMS), and travels only over encrypted connections (TLS).',
  'promises.logging': 'Every access to the mailbox’s data is logged.',
  'promises.isolation':
    'No other customer can see it, and it goes to no service other than your mailbox provider and Amazon Web Services (AWS), where it is stored and processed.',
  'promises.deletion':
    'When you disconnect a mailbox, all its data is deleted from our active systems within 30 days, and backups that contain it are gone within one year.',

  'access.google.heading': 'Google Workspace or Gmail',
  'access.google.intro': 'You sign in with the mailbox’s own Google account and allow two Gmail permissions:',
  'access.google.read': 'Read the mailbox (the Gmail read-only scope, gmail.readonly): its messages, the history of changes and notifications of new mail.',
  'access.google.send': 'Send replies as the mailbox (the Gmail send scope, gmail.send).',
  'access.google.limit': 'Neither permission lets us change or delete anything in the mailbox.',
  'access.microsoft.intro':
    'An administrator of your Microsoft Entra directory grants two Microsoft Graph application permissions to the helpdesk:',
  'access.microsoft.read': 'Mail.ReadWrite: read the mail of the mailboxes you name, and write the drafts through which your team’s replies are sent. We do not change or delete your mail.',
  'access.microsoft.send': 'Mail.Send: send replies as those mailboxes.',
  'access.microsoft.limit':
    'Microsoft grants these permissions for the whole directory. We use them only for the mailboxes you name in the next step, and your Exchange administrator can also restrict the app to those mailboxes.',

  'googleNotice.heading': 'Google: what to expect',
  'googleNotice.restricted':
    'Reading Gmail is a restricted scope: before an app that uses it may be offered to the public, Google requires a verification and an independent security assessment.',
  'googleNotice.testing':
    'While the app’s OAuth consent screen is in “Testing” status, Google ends its access after 7 days (the refresh token stops working), so the mailbox will then ask you to reconnect it.',
  'googleNotice.trusted':
    'In Google Workspace, an administrator may first have to mark the app as trusted in the Admin console (Security › API controls) before users can grant it access.',
  'googleNotice.link': 'Why Google asks for this',

  'status.title': 'Your mailboxes',
  'status.heading': 'Mailboxes of {tenant}',
  'status.caption': 'Mailboxes and their connection',
  'status.col.provider': 'Provider',
  'status.col.address': 'Address',
  'status.col.state': 'Connection',
  'status.col.lastNotified': 'Last new-mail notification',
  'status.col.lastSynced': 'Last sync',
  'status.col.watchExpires': 'Notification subscription expires',
  'status.col.actions': 'Actions',
  'status.purgeBy': 'All data deleted by {date}',
  'status.reconnect': 'Reconnect',
  'status.disconnect': 'Disconnect',
  'status.empty': 'No mailbox is connected yet.',
  'status.connectFirst': 'Connect a mailbox',
  'status.connectAnother': 'Connect another mailbox',
  'status.session': 'Your session ends on {datetime}. After that, you will need a new invitation link to come back.',
  'status.signOut': 'Sign out',
  'signedOut.title': 'You are signed out',
  'signedOut.text': 'This browser no longer has access to your mailboxes. To manage them again, ask the person who invited you for a new invitation link.',
  'status.microsoft.heading': 'Removing Microsoft 365 access entirely',
  'status.microsoft.text':
    'Disconnecting a mailbox ends our access to it. To remove the app’s access to your directory entirely, a Global Administrator or Privileged Role Administrator deletes the app in the Microsoft Entra admin center, under Enterprise applications.',

  'notice.connected': 'The mailbox is connected. New email in it now becomes tickets.',
  'notice.reconnected': 'The mailbox is reconnected.',
  'notice.disconnected': 'The mailbox is disconnected. Its data will be deleted by the date shown below.',
  'notice.microsoft_consented': 'Microsoft 365 access has been granted for your directory. Your mailboxes are listed below.',

  'msMailboxes.title': 'Choose Microsoft 365 mailboxes',
  'msMailboxes.heading': 'Choose the mailboxes to connect',
  'msMailboxes.consented':
    'Consent has been granted for the Microsoft Entra directory of {tenant}. Now name the mailboxes the helpdesk should read and reply from; it will not use the permissions for any other mailbox.',
  'msMailboxes.domains.heading': 'Verified domains',
  'msMailboxes.domains.intro': 'Each address must belong to one of your directory’s verified domains:',
  'msMailboxes.domains.none':
    'Your directory has no verified domains, so no mailbox can be connected yet. Add and verify a domain in the Microsoft Entra admin center, then start again.',
  'msMailboxes.label': 'Mailbox addresses',
  'msMailboxes.hint': 'One address per line, or separated by commas; up to 20 at a time.',
  'msMailboxes.refused.heading': 'Some addresses were not accepted',
  'msMailboxes.refused.intro': 'Correct or remove these addresses, then submit the list again:',
  'msMailboxes.submit': 'Connect these mailboxes',
  'refused.domain_not_verified': 'Its domain is not one of your directory’s verified domains.',
  'refused.invalid_address': 'This is not a valid email address.',
  'refused.mailbox_in_use': 'This mailbox is already connected to another helpdesk.',
  'refused.provider_error': 'Microsoft 365 could not confirm this mailbox. Check that it exists in Exchange Online, then try again.',

  'disconnect.title': 'Disconnect a mailbox',
  'disconnect.heading': 'Disconnect this mailbox?',
  'disconnect.what': 'What happens when you disconnect',
  'disconnect.notifications': 'We stop receiving notifications of new mail, so no new tickets are created from this mailbox.',
  'disconnect.access': 'Our access is removed: the stored tokens are deleted, and the helpdesk can no longer read mail or send mail as this mailbox.',
  'disconnect.data': 'Its tickets, messages and attachments are hidden immediately and deleted from our active systems by {date}.',
  'disconnect.backups': 'Copies in backups expire within one year.',
  'disconnect.untouched': 'The mail in the mailbox itself is not changed.',
  'disconnect.final': 'This cannot be undone.',
  'disconnect.confirm': 'Disconnect and delete',
  'disconnect.cancel': 'Cancel and go back to your mailboxes',

  'error.invite_invalid.title': 'This invitation link is not valid',
  'error.invite_invalid.text':
    'The link may be incomplete. Copy the whole link from the invitation email, or ask the person who sent it for a new invitation.',
  'error.invite_expired.title': 'This invitation has expired',
  'error.invite_expired.text': 'Invitations are valid for a limited time. Ask the person who sent it for a new invitation.',
  'error.invite_used.title': 'This invitation has already been used',
  'error.invite_used.text': 'Each invitation works only once. Ask the person who sent it for a new invitation.',
  'error.invite_revoked.title': 'This invitation has been withdrawn',
  'error.invite_revoked.text': 'The invitation was cancelled. If you still need to connect a mailbox, ask the person who sent it for a new invitation.',
  'error.session_expired.title': 'Your session has ended',
  'error.session_expired.text':
    'A session lasts at most 8 hours and needs cookies to be allowed in your browser. To continue, ask the person who invited you for a new invitation link.',
  'error.state_invalid.title': 'The sign-in could not be matched to your session',
  'error.state_invalid.text':
    'The sign-in may have been started in another browser, another tab or from an older page. Start the connection again from this browser.',
  'error.state_replayed.title': 'This sign-in has already been completed',
  'error.state_replayed.text':
    'The response from the sign-in page was already used, for example after going back or reloading the page. Check your mailboxes, or start the connection again.',
  'error.state_expired.title': 'The sign-in took too long',
  'error.state_expired.text': 'A sign-in must be completed within a limited time. Start the connection again.',
  'error.access_denied.title': 'The connection was cancelled',
  'error.access_denied.text': 'Access was not granted on the sign-in page, so nothing was connected. You can start again whenever you are ready.',
  'error.redirect_mismatch.title': 'The sign-in could not be completed',
  'error.redirect_mismatch.text':
    'The mail provider did not accept the sign-in from this site. Start the connection again; if it keeps failing, contact the person who invited you.',
  'error.wrong_directory.title': 'Consent was given for another directory',
  'error.wrong_directory.text':
    'The administrator consent came from a different Microsoft Entra directory than the one you signed in to. Sign in with an administrator account of the directory that holds the mailboxes, and start again.',
  'error.not_admin.title': 'An administrator account is needed',
  'error.not_admin.text':
    'Only a Global Administrator or Privileged Role Administrator of your Microsoft Entra directory can grant these permissions. Sign in with such an account, or ask one of them to complete this step.',
  'error.wrong_account.title': 'You signed in with a different account',
  'error.wrong_account.text':
    'This step must be confirmed by signing in with the mailbox’s own account (for Microsoft 365, an administrator of its directory). Sign in with that account and try again.',
  'error.csrf.title': 'The form could not be accepted',
  'error.csrf.text': 'For your security, forms expire after a while. Go back, reload the page and try again.',
  'error.mailbox_in_use.title': 'This mailbox is already connected elsewhere',
  'error.mailbox_in_use.text': 'The mailbox is connected to another helpdesk. Disconnect it there first, or choose another mailbox.',
  'error.internal_error.title': 'Something went wrong on our side',
  'error.internal_error.text': 'The request could not be completed. Wait a few minutes and try again; if it keeps happening, contact the person who invited you.',
  'error.provider_error.title': 'The mail provider could not complete the request',
  'error.provider_error.text':
    'Google or Microsoft did not respond as expected. Wait a few minutes and try again; if it keeps happening, contact the person who invited you.',
  'error.not_found.title': 'Page not found',
  'error.not_found.text': 'There is no page at this address. Check the link you followed.',
  'error.bad_request.title': 'The request could not be processed',
  'error.bad_request.text': 'Something in the request was missing or not valid. Go back and try again.',

  // The ticket viewer of npm start (/tickets): the operator's read-only view of the demo tenant's tickets.
  'viewer.site.name': 'Ticket viewer',
  'viewer.site.readOnly': 'Read-only, for the operator of this machine. Every view is recorded in the access log.',
  'viewer.back': 'Back to all tickets',
  'viewer.noSubject': '(no subject)',

  'viewer.col.subject': 'Subject',
  'viewer.col.requester': 'Requester',
  'viewer.col.mailbox': 'Mailbox',
  'viewer.col.lastActivity': 'Last activity',
  'viewer.col.messages': 'Messages',

  'viewer.list.title': 'All tickets',
  'viewer.list.heading': 'Tickets of tenant {tenant}',
  'viewer.list.intro': 'Newest activity first. Open a ticket to read its conversation and attachments.',
  'viewer.list.caption': 'Tickets, newest activity first',
  'viewer.list.range': 'Tickets {from} to {to} of {total}',
  'viewer.list.empty': 'There are no tickets yet. Drop an .eml file into the inbox folder that npm start printed, or send mail to a sandbox mailbox.',
  'viewer.list.pages': 'More tickets',
  'viewer.list.newer': 'Newer tickets',
  'viewer.list.older': 'Older tickets',

  'viewer.ticket.opened': 'Opened',
  'viewer.ticket.logged': 'Opening this ticket was recorded in the access log.',
  'viewer.ticket.thread': 'Messages ({count}), oldest first',

  'viewer.message.heading': 'Message {number} of {total}',
  'viewer.message.outbound': 'Sent by the helpdesk',
  'viewer.message.from': 'From',
  'viewer.message.to': 'To',
  'viewer.message.cc': 'Copy to',
  'viewer.message.sent': 'Sent',
  'viewer.message.received': 'Received',
  'viewer.message.noDate': 'No date in the message',
  'viewer.message.nobody': 'No recipients',

  'viewer.notices.heading': 'Notices',

  'viewer.notice.unparsed': 'The message could not be read completely. The original is kept for the operator.',
  'viewer.notice.message_truncated': 'The message was larger than the size limit. Everything after the limit was discarded.',
  'viewer.notice.header_too_large': 'A header block was larger than the limit. Reading stopped there.',
  'viewer.notice.too_many_parts': 'The message has more parts than the limit. The parts after it were skipped.',
  'viewer.notice.nesting_too_deep': 'The message is nested too deeply. The innermost parts were skipped.',
  'viewer.notice.attachment_too_large': 'An attachment was larger than the limit and was not kept.',
  'viewer.notice.too_many_attachments': 'The message had more attachments than the limit. The rest were not kept.',
  'viewer.notice.attachment_infected': 'An attachment contains malware. It was not kept and is never offered for download.',
  'viewer.notice.attachment_unscanned': 'An attachment has not passed a virus scan. It is held until a scan passes.',
  'viewer.notice.message_id_synthesized': 'The message had no Message-ID. One was made from its content.',
  'viewer.notice.new_participant': 'Someone new joined the conversation.',
  'viewer.notice.text_not_derived': 'No plain-text version could be made of this message. Its HTML version is kept.',
  'viewer.notice.unknown': 'Something about this message needs attention.',

  'viewer.body.heading': 'Content of message {number}',
  'viewer.body.frameTitle': 'Message {number}, HTML version',
  'viewer.body.isolated': 'Shown in an isolated frame: scripts, forms, styles and remote images were removed, and links cannot be opened from here.',
  'viewer.body.plainText': 'Plain-text version',
  'viewer.body.empty': 'This message has no text.',

  'viewer.attachments.caption': 'Attachments of message {number}',
  'viewer.attachments.col.filename': 'File name',
  'viewer.attachments.col.type': 'File type',
  'viewer.attachments.col.size': 'Size',
  'viewer.attachments.col.scan': 'Virus scan',
  'viewer.attachments.col.download': 'Download',
  'viewer.attachments.download': 'Download',
  'viewer.attachments.inline': 'Embedded in the message',

  'viewer.scan.clean': 'Clean',
  'viewer.scan.infected': 'Infected',
  'viewer.scan.infectedWith': 'Infected ({signature})',
  'viewer.scan.unscanned': 'Not scanned',
  'viewer.scan.pending': 'Scan pending',

  'viewer.blocked.infected': 'Not available: the file is infected and was not kept.',
  'viewer.blocked.unscanned': 'Not available until it passes a virus scan.',
  'viewer.blocked.pending': 'Not available while its virus scan is pending.',
  'viewer.blocked.too_large': 'Not available: the file was over the size limit and was not kept.',
  'viewer.blocked.not_kept': 'Not available: the file was not kept.',

  'viewer.error.unauthorized.title': 'Sign in with the link from npm start',
  'viewer.error.unauthorized.text':
    'The ticket viewer is only for the operator of this machine. Open the sign-in link that npm start printed in its terminal. A session lasts 8 hours.',
  'viewer.error.link_invalid.title': 'This sign-in link cannot be used',
  'viewer.error.link_invalid.text':
    'Each sign-in link works once, in one browser, until npm start stops. Open the link from the terminal where npm start runs now, or restart npm start for a new one.',
  'viewer.error.not_found.title': 'Not found',
  'viewer.error.not_found.text':
    'There is no ticket or attachment at this address, or it is no longer shown (its mailbox may have been disconnected, or its requester asked for restriction).',
  'viewer.error.not_servable.title': 'This attachment cannot be downloaded',
  'viewer.error.not_servable.text': 'Only attachments that passed the virus scan and were kept can be downloaded.',
  'viewer.error.misdirected.title': 'Open the viewer at its local address',
  'viewer.error.misdirected.text':
    'The ticket viewer answers only at 127.0.0.1 or localhost, on the port that npm start printed. Open the link from its terminal.',
  'viewer.error.read_only.title': 'The ticket viewer is read-only',
  'viewer.error.read_only.text': 'It shows tickets and cannot change anything. Go back and open the page again.',
  'viewer.error.internal.title': 'The page could not be shown',
  'viewer.error.internal.text': 'Something went wrong on this machine. Try again; if it keeps happening, look at the terminal where npm start runs.',
} as const;
