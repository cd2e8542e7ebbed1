// Dutch: consistently "u" (formal, as in business software for administrators); "mailbox", "koppelen",
// "tenant" for the Microsoft Entra directory (the word Dutch admins use). Console menu names stay in
// English in parentheses, since many admins run those consoles in English.
import type { Catalog } from './catalog.js';

export const nl: Catalog = {
  'site.name': 'Mailboxen koppelen aan de helpdesk',
  'site.skip': 'Naar de hoofdinhoud',
  'site.languages': 'Taal',

  'common.never': 'Nooit',
  'common.noActions': 'Geen acties beschikbaar',
  'common.notActive': 'Niet actief',
  'common.noAddress': 'Adres niet meer beschikbaar',
  'common.backToStatus': 'Terug naar uw mailboxen',

  'provider.gmail': 'Gmail',
  'provider.graph': 'Microsoft 365',

  'state.connected': 'Gekoppeld',
  'state.reauthorization_required': 'Opnieuw autoriseren vereist',
  'state.disconnected': 'Ontkoppeld',

  'connect.google': 'Google Workspace of Gmail koppelen',
  'connect.microsoft': 'Microsoft 365 koppelen',

  'landing.title': 'Een mailbox koppelen',
  'landing.heading': 'Een mailbox koppelen voor {tenant}',
  'landing.intro':
    'U bent uitgenodigd om een supportmailbox van {tenant} aan de helpdesk te koppelen. Zodra die gekoppeld is, worden e-mails die erin binnenkomen tickets, en worden de antwoorden van uw team vanaf hetzelfde adres verstuurd.',
  'landing.does.heading': 'Wat koppelen doet',
  'landing.does.tickets': 'Nieuwe e-mail in de mailbox wordt een ticket, of wordt toegevoegd aan het ticket van het gesprek waar die bij hoort.',
  'landing.does.replies': 'Antwoorden die in de helpdesk worden geschreven, worden vanuit de mailbox verstuurd, zodat uw klanten uw gebruikelijke adres zien.',
  'landing.does.control': 'Tijdens uw sessie kunt u de mailbox op deze pagina’s controleren, opnieuw koppelen en ontkoppelen.',
  'landing.providers.heading': 'Kies uw e-mailprovider',
  'landing.providers.intro': 'Hieronder staat precies waarvoor elke provider u om toestemming vraagt.',
  'landing.expires': 'Deze uitnodiging verloopt op {datetime}.',
  'landing.once': 'De uitnodiging kan maar één keer worden gebruikt. Ze start een sessie van maximaal 8 uur in deze browser.',

  'promises.heading': 'Zo wordt de e-mail beschermd',
  'promises.encryption':
    'E-mail wordt in rust versleuteld met AES-256, met sleutels die worden beheerd in AWS Key Management Service (KMS), en gaat alleen over versleutelde verbindingen (TLS).',
  'promises.logging': 'Elke toegang tot de gegevens van de mailbox wordt gelogd.',
  'promises.isolation':
    'Geen andere klant kan deze gegevens zien, en ze gaan naar geen enkele andere dienst dan uw e-mailprovider en Amazon Web Services (AWS), waar ze worden opgeslagen en verwerkt.',
  'promises.deletion':
    'Als u een mailbox ontkoppelt, worden alle gegevens ervan binnen 30 dagen uit onze actieve systemen verwijderd, en zijn back-ups waarin ze staan binnen een jaar verdwenen.',

  'access.google.heading': 'Google Workspace of Gmail',
  'access.google.intro': 'U meldt zich aan met het eigen Google-account van de mailbox en geeft twee Gmail-machtigingen:',
  'access.google.read':
    'De mailbox lezen (het Gmail-bereik voor alleen-lezen, gmail.readonly): de berichten, de wijzigingsgeschiedenis en meldingen van nieuwe e-mail.',
  'access.google.send': 'Antwoorden versturen als de mailbox (het Gmail-bereik voor verzenden, gmail.send).',
  'access.google.limit': 'Met geen van beide machtigingen kunnen wij iets in de mailbox wijzigen of verwijderen.',
  'access.microsoft.intro': 'Een beheerder van uw Microsoft Entra-tenant verleent de helpdesk twee toepassingsmachtigingen van Microsoft Graph:',
  'access.microsoft.read': 'Mail.ReadWrite: de e-mail lezen van de mailboxen die u opgeeft en de concepten schrijven waarmee de antwoorden van uw team worden verzonden. Wij wijzigen of verwijderen uw e-mail niet.',
  'access.microsoft.send': 'Mail.Send: antwoorden versturen als die mailboxen.',
  'access.microsoft.limit':
    'Microsoft verleent deze machtigingen voor de hele tenant. Wij gebruiken ze alleen voor de mailboxen die u in de volgende stap opgeeft, en uw Exchange-beheerder kan de app bovendien tot die mailboxen beperken.',

  'googleNotice.heading': 'Google: waar u rekening mee moet houden',
  'googleNotice.restricted':
    'Gmail lezen is een beperkt bereik (restricted scope): voordat een app die het gebruikt openbaar mag worden aangeboden, eist Google een verificatie en een onafhankelijke beveiligingsbeoordeling.',
  'googleNotice.testing':
    'Zolang het OAuth-toestemmingsscherm van de app de status ‘Testing’ heeft, beëindigt Google de toegang van de app na 7 dagen (het vernieuwingstoken werkt dan niet meer). De mailbox vraagt u dan om hem opnieuw te koppelen.',
  'googleNotice.trusted':
    'In Google Workspace moet een beheerder de app mogelijk eerst als vertrouwd markeren in de Beheerdersconsole (Security › API controls) voordat gebruikers er toegang aan kunnen geven.',
  'googleNotice.link': 'Waarom Google hierom vraagt',

  'status.title': 'Uw mailboxen',
  'status.heading': 'Mailboxen van {tenant}',
  'status.caption': 'Mailboxen en hun koppeling',
  'status.col.provider': 'Aanbieder',
  'status.col.address': 'Adres',
  'status.col.state': 'Koppeling',
  'status.col.lastNotified': 'Laatste melding van nieuwe e-mail',
  'status.col.lastSynced': 'Laatste synchronisatie',
  'status.col.watchExpires': 'Meldingsabonnement verloopt',
  'status.col.actions': 'Acties',
  'status.purgeBy': 'Alle gegevens uiterlijk {date} verwijderd',
  'status.reconnect': 'Opnieuw koppelen',
  'status.disconnect': 'Ontkoppelen',
  'status.empty': 'Er is nog geen mailbox gekoppeld.',
  'status.connectFirst': 'Een mailbox koppelen',
  'status.connectAnother': 'Nog een mailbox koppelen',
  'status.session': 'Uw sessie eindigt op {datetime}. Daarna hebt u een nieuwe uitnodigingslink nodig om terug te komen.',
  'status.signOut': 'Afmelden',
  'signedOut.title': 'U bent afgemeld',
  'signedOut.text': 'Deze browser heeft geen toegang meer tot uw mailboxen. Vraag degene die u heeft uitgenodigd om een nieuwe uitnodigingslink om ze weer te beheren.',
  'status.microsoft.heading': 'Toegang tot Microsoft 365 volledig intrekken',
  'status.microsoft.text':
    'Als u een mailbox ontkoppelt, eindigt onze toegang tot die mailbox. Om de toegang van de app tot uw tenant volledig in te trekken, verwijdert een globale beheerder of een beheerder van bevoorrechte rollen de app in het Microsoft Entra-beheercentrum, onder Bedrijfstoepassingen (Enterprise applications).',

  'notice.connected': 'De mailbox is gekoppeld. Nieuwe e-mail erin wordt nu een ticket.',
  'notice.reconnected': 'De mailbox is opnieuw gekoppeld.',
  'notice.disconnected': 'De mailbox is ontkoppeld. De gegevens ervan worden uiterlijk op de hieronder vermelde datum verwijderd.',
  'notice.microsoft_consented': 'Er is toegang tot Microsoft 365 verleend voor uw tenant. Uw mailboxen staan hieronder.',

  'msMailboxes.title': 'Microsoft 365-mailboxen kiezen',
  'msMailboxes.heading': 'Kies de mailboxen die u wilt koppelen',
  'msMailboxes.consented':
    'Er is toestemming verleend voor de Microsoft Entra-tenant van {tenant}. Geef nu de mailboxen op die de helpdesk mag lezen en van waaruit hij mag antwoorden; de machtigingen worden voor geen enkele andere mailbox gebruikt.',
  'msMailboxes.domains.heading': 'Geverifieerde domeinen',
  'msMailboxes.domains.intro': 'Elk adres moet onder een van de geverifieerde domeinen van uw tenant vallen:',
  'msMailboxes.domains.none':
    'Uw tenant heeft geen geverifieerde domeinen, dus er kan nog geen mailbox worden gekoppeld. Voeg een domein toe in het Microsoft Entra-beheercentrum, verifieer het en begin daarna opnieuw.',
  'msMailboxes.label': 'Adressen van de mailboxen',
  'msMailboxes.hint': 'Eén adres per regel, of gescheiden door komma’s; hoogstens 20 tegelijk.',
  'msMailboxes.refused.heading': 'Sommige adressen zijn niet geaccepteerd',
  'msMailboxes.refused.intro': 'Corrigeer of verwijder deze adressen en verstuur de lijst daarna opnieuw:',
  'msMailboxes.submit': 'Deze mailboxen koppelen',
  'refused.domain_not_verified': 'Het domein is geen geverifieerd domein van uw tenant.',
  'refused.invalid_address': 'Dit is geen geldig e-mailadres.',
  'refused.mailbox_in_use': 'Deze mailbox is al aan een andere helpdesk gekoppeld.',
  'refused.provider_error': 'Microsoft 365 kon deze mailbox niet bevestigen. Controleer of de mailbox in Exchange Online bestaat en probeer het daarna opnieuw.',

  'disconnect.title': 'Een mailbox ontkoppelen',
  'disconnect.heading': 'Deze mailbox ontkoppelen?',
  'disconnect.what': 'Wat er gebeurt als u ontkoppelt',
  'disconnect.notifications': 'Wij ontvangen geen meldingen van nieuwe e-mail meer, dus er worden geen nieuwe tickets uit deze mailbox aangemaakt.',
  'disconnect.access': 'Onze toegang wordt ingetrokken: de opgeslagen tokens worden verwijderd en de helpdesk kan geen e-mail meer lezen of versturen als deze mailbox.',
  'disconnect.data': 'De tickets, berichten en bijlagen van de mailbox worden direct verborgen en uiterlijk {date} uit onze actieve systemen verwijderd.',
  'disconnect.backups': 'Kopieën in back-ups verlopen binnen een jaar.',
  'disconnect.untouched': 'De e-mail in de mailbox zelf blijft ongewijzigd.',
  'disconnect.final': 'Dit kan niet ongedaan worden gemaakt.',
  'disconnect.confirm': 'Ontkoppelen en verwijderen',
  'disconnect.cancel': 'Annuleren en terug naar uw mailboxen',

  'error.invite_invalid.title': 'Deze uitnodigingslink is niet geldig',
  'error.invite_invalid.text':
    'De link is misschien onvolledig. Kopieer de hele link uit de uitnodigingsmail, of vraag de afzender van de uitnodiging om een nieuwe.',
  'error.invite_expired.title': 'Deze uitnodiging is verlopen',
  'error.invite_expired.text': 'Een uitnodiging is maar beperkte tijd geldig. Vraag de afzender om een nieuwe uitnodiging.',
  'error.invite_used.title': 'Deze uitnodiging is al gebruikt',
  'error.invite_used.text': 'Elke uitnodiging werkt maar één keer. Vraag de afzender om een nieuwe uitnodiging.',
  'error.invite_revoked.title': 'Deze uitnodiging is ingetrokken',
  'error.invite_revoked.text': 'De uitnodiging is geannuleerd. Moet u nog een mailbox koppelen, vraag de afzender dan om een nieuwe uitnodiging.',
  'error.session_expired.title': 'Uw sessie is beëindigd',
  'error.session_expired.text':
    'Een sessie duurt maximaal 8 uur en werkt alleen als uw browser cookies toestaat. Vraag degene die u heeft uitgenodigd om een nieuwe uitnodigingslink om verder te gaan.',
  'error.state_invalid.title': 'De aanmelding kon niet aan uw sessie worden gekoppeld',
  'error.state_invalid.text':
    'De aanmelding is misschien gestart in een andere browser, een ander tabblad of vanaf een oudere pagina. Begin vanuit deze browser opnieuw met koppelen.',
  'error.state_replayed.title': 'Deze aanmelding is al afgerond',
  'error.state_replayed.text':
    'Het antwoord van de aanmeldpagina is al gebruikt, bijvoorbeeld nadat u terugging of de pagina opnieuw laadde. Controleer uw mailboxen of begin opnieuw met koppelen.',
  'error.state_expired.title': 'De aanmelding duurde te lang',
  'error.state_expired.text': 'Een aanmelding moet binnen een beperkte tijd worden afgerond. Begin opnieuw met koppelen.',
  'error.access_denied.title': 'Het koppelen is geannuleerd',
  'error.access_denied.text': 'Er is op de aanmeldpagina geen toegang verleend, dus er is niets gekoppeld. U kunt opnieuw beginnen wanneer het u uitkomt.',
  'error.redirect_mismatch.title': 'De aanmelding kon niet worden afgerond',
  'error.redirect_mismatch.text':
    'De e-mailprovider heeft de aanmelding vanaf deze site niet geaccepteerd. Begin opnieuw met koppelen; blijft het mislukken, neem dan contact op met degene die u heeft uitgenodigd.',
  'error.wrong_directory.title': 'Toestemming gegeven voor een andere tenant',
  'error.wrong_directory.text':
    'De beheerderstoestemming kwam van een andere Microsoft Entra-tenant dan die waarbij u bent aangemeld. Meld u aan met een beheerdersaccount van de tenant waarin de mailboxen staan en begin opnieuw.',
  'error.not_admin.title': 'Er is een beheerdersaccount nodig',
  'error.not_admin.text':
    'Alleen een globale beheerder of een beheerder van bevoorrechte rollen van uw Microsoft Entra-tenant kan deze machtigingen verlenen. Meld u aan met zo’n account, of vraag zo iemand om deze stap af te ronden.',
  'error.wrong_account.title': 'U bent aangemeld met een ander account',
  'error.wrong_account.text':
    'Deze stap moet worden bevestigd door u aan te melden met het eigen account van de mailbox (voor Microsoft 365: een beheerder van de tenant). Meld u aan met dat account en probeer het opnieuw.',
  'error.csrf.title': 'Het formulier kon niet worden geaccepteerd',
  'error.csrf.text': 'Om veiligheidsredenen verlopen formulieren na een tijdje. Ga terug, laad de pagina opnieuw en probeer het nog eens.',
  'error.mailbox_in_use.title': 'Deze mailbox is al ergens anders gekoppeld',
  'error.mailbox_in_use.text': 'De mailbox is aan een andere helpdesk gekoppeld. Ontkoppel hem daar eerst, of kies een andere mailbox.',
  'error.internal_error.title': 'Er ging bij ons iets mis',
  'error.internal_error.text': 'Het verzoek kon niet worden afgerond. Wacht een paar minuten en probeer het opnieuw; blijft het gebeuren, neem dan contact op met degene die u heeft uitgenodigd.',
  'error.provider_error.title': 'De e-mailprovider kon het verzoek niet afronden',
  'error.provider_error.text':
    'Google of Microsoft reageerde niet zoals verwacht. Wacht een paar minuten en probeer het opnieuw; blijft het gebeuren, neem dan contact op met degene die u heeft uitgenodigd.',
  'error.not_found.title': 'Pagina niet gevonden',
  'error.not_found.text': 'Op dit adres staat geen pagina. Controleer de link die u hebt gevolgd.',
  'error.bad_request.title': 'Het verzoek kon niet worden verwerkt',
  'error.bad_request.text': 'Er ontbrak iets in het verzoek of iets was ongeldig. Ga terug en probeer het opnieuw.',

  // De ticketweergave van npm start (/tickets).
  'viewer.site.name': 'Ticketweergave',
  'viewer.site.readOnly': 'Alleen-lezen, voor de beheerder van deze computer. Elke weergave wordt vastgelegd in het toegangslogboek.',
  'viewer.back': 'Terug naar alle tickets',
  'viewer.noSubject': '(geen onderwerp)',

  'viewer.col.subject': 'Onderwerp',
  'viewer.col.requester': 'Aanvrager',
  'viewer.col.mailbox': 'Postvak',
  'viewer.col.lastActivity': 'Laatste activiteit',
  'viewer.col.messages': 'Berichten',

  'viewer.list.title': 'Alle tickets',
  'viewer.list.heading': 'Tickets van tenant {tenant}',
  'viewer.list.intro': 'Meest recente activiteit eerst. Open een ticket om het gesprek en de bijlagen te lezen.',
  'viewer.list.caption': 'Tickets, meest recente activiteit eerst',
  'viewer.list.range': 'Tickets {from} tot en met {to} van {total}',
  'viewer.list.empty':
    'Er zijn nog geen tickets. Zet een .eml-bestand in de inboxmap die npm start heeft getoond, of stuur een e-mail naar een sandboxpostvak.',
  'viewer.list.pages': 'Meer tickets',
  'viewer.list.newer': 'Nieuwere tickets',
  'viewer.list.older': 'Oudere tickets',

  'viewer.ticket.opened': 'Geopend',
  'viewer.ticket.logged': 'Het openen van dit ticket is vastgelegd in het toegangslogboek.',
  'viewer.ticket.thread': 'Berichten ({count}), oudste eerst',

  'viewer.message.heading': 'Bericht {number} van {total}',
  'viewer.message.outbound': 'Verzonden door de helpdesk',
  'viewer.message.from': 'Van',
  'viewer.message.to': 'Aan',
  'viewer.message.cc': 'Kopie aan',
  'viewer.message.sent': 'Verzonden',
  'viewer.message.received': 'Ontvangen',
  'viewer.message.noDate': 'Geen datum in het bericht',
  'viewer.message.nobody': 'Geen ontvangers',

  'viewer.notices.heading': 'Meldingen',

  'viewer.notice.unparsed': 'Het bericht kon niet volledig worden gelezen. Het origineel wordt bewaard voor de beheerder.',
  'viewer.notice.message_truncated': 'Het bericht was groter dan de limiet. Alles na de limiet is weggelaten.',
  'viewer.notice.header_too_large': 'Een headerblok was groter dan de limiet. Het lezen is daar gestopt.',
  'viewer.notice.too_many_parts': 'Het bericht heeft meer delen dan de limiet. De delen daarna zijn overgeslagen.',
  'viewer.notice.nesting_too_deep': 'Het bericht is te diep genest. De binnenste delen zijn overgeslagen.',
  'viewer.notice.attachment_too_large': 'Een bijlage was groter dan de limiet en is niet bewaard.',
  'viewer.notice.too_many_attachments': 'Het bericht had meer bijlagen dan de limiet. De rest is niet bewaard.',
  'viewer.notice.attachment_infected': 'Een bijlage bevat malware. Ze is niet bewaard en wordt nooit aangeboden om te downloaden.',
  'viewer.notice.attachment_unscanned': 'Een bijlage is nog niet door een virusscan gekomen. Ze wordt vastgehouden tot een scan slaagt.',
  'viewer.notice.message_id_synthesized': 'Het bericht had geen Message-ID. Er is er een gemaakt op basis van de inhoud.',
  'viewer.notice.new_participant': 'Iemand nieuw neemt deel aan het gesprek.',
  'viewer.notice.text_not_derived': 'Van dit bericht kon geen platte-tekstversie worden gemaakt. De HTML-versie is bewaard.',
  'viewer.notice.unknown': 'Er is iets met dit bericht dat aandacht nodig heeft.',

  'viewer.body.heading': 'Inhoud van bericht {number}',
  'viewer.body.frameTitle': 'Bericht {number}, HTML-versie',
  'viewer.body.isolated':
    'Getoond in een afgeschermd kader: scripts, formulieren, opmaak en externe afbeeldingen zijn verwijderd, en links kunnen hier niet worden geopend.',
  'viewer.body.plainText': 'Versie als platte tekst',
  'viewer.body.empty': 'Dit bericht bevat geen tekst.',

  'viewer.attachments.caption': 'Bijlagen bij bericht {number}',
  'viewer.attachments.col.filename': 'Bestandsnaam',
  'viewer.attachments.col.type': 'Bestandstype',
  'viewer.attachments.col.size': 'Grootte',
  'viewer.attachments.col.scan': 'Virusscan',
  'viewer.attachments.col.download': 'Downloaden',
  'viewer.attachments.download': 'Downloaden',
  'viewer.attachments.inline': 'Ingesloten in het bericht',

  'viewer.scan.clean': 'Schoon',
  'viewer.scan.infected': 'Besmet',
  'viewer.scan.infectedWith': 'Besmet ({signature})',
  'viewer.scan.unscanned': 'Niet gescand',
  'viewer.scan.pending': 'Scan loopt',

  'viewer.blocked.infected': 'Niet beschikbaar: het bestand is besmet en niet bewaard.',
  'viewer.blocked.unscanned': 'Niet beschikbaar tot het een virusscan heeft doorstaan.',
  'viewer.blocked.pending': 'Niet beschikbaar zolang de virusscan loopt.',
  'viewer.blocked.too_large': 'Niet beschikbaar: het bestand was groter dan de limiet en is niet bewaard.',
  'viewer.blocked.not_kept': 'Niet beschikbaar: het bestand is niet bewaard.',

  'viewer.error.unauthorized.title': 'Meld u aan met de link van npm start',
  'viewer.error.unauthorized.text':
    'De ticketweergave is alleen bedoeld voor de beheerder van deze computer. Open de aanmeldlink die npm start in de terminal heeft getoond. Een sessie duurt 8 uur.',
  'viewer.error.link_invalid.title': 'Deze aanmeldlink kan niet worden gebruikt',
  'viewer.error.link_invalid.text':
    'Elke aanmeldlink werkt één keer, in één browser, tot npm start stopt. Open de link uit de terminal waarin npm start nu draait, of start npm start opnieuw voor een nieuwe link.',
  'viewer.error.not_found.title': 'Niet gevonden',
  'viewer.error.not_found.text':
    'Er is geen ticket of bijlage op dit adres, of het wordt niet meer getoond (het postvak is misschien ontkoppeld, of de aanvrager heeft om beperking gevraagd).',
  'viewer.error.not_servable.title': 'Deze bijlage kan niet worden gedownload',
  'viewer.error.not_servable.text': 'Alleen bijlagen die de virusscan hebben doorstaan en zijn bewaard, kunnen worden gedownload.',
  'viewer.error.misdirected.title': 'Open de ticketweergave op het lokale adres',
  'viewer.error.misdirected.text':
    'De ticketweergave antwoordt alleen op 127.0.0.1 of localhost, op de poort die npm start heeft getoond. Open de link uit de terminal.',
  'viewer.error.read_only.title': 'De ticketweergave is alleen-lezen',
  'viewer.error.read_only.text': 'Ze toont tickets en kan niets wijzigen. Ga terug en open de pagina opnieuw.',
  'viewer.error.internal.title': 'De pagina kon niet worden getoond',
  'viewer.error.internal.text':
    'Er is iets misgegaan op deze computer. Probeer het opnieuw; gebeurt het vaker, kijk dan in de terminal waarin npm start draait.',
};
